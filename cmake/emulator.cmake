# gpt2_runner(<target> <out-var>): a command that runs <target>'s executable on this machine.
# Natively that is the executable itself. When cross-compiling with an emulator
# (CMAKE_CROSSCOMPILING_EMULATOR, e.g. qemu-aarch64-static; cmake/aarch64-linux-gnu.cmake), it
# is a generated shell script, <build>/emulated/<target>, that execs the emulator on it: the
# CLI tests call their binaries as plain programs (`bash script GPT2_BIN ...`), and build
# steps that run a built tool need the emulator too (CMake 3.25 adds it only for add_test).
# binfmt_misc would make the script unneeded, but it is often not mounted (containers).
function(gpt2_runner target out_var)
  if(NOT CMAKE_CROSSCOMPILING OR NOT CMAKE_CROSSCOMPILING_EMULATOR)
    set(${out_var} $<TARGET_FILE:${target}> PARENT_SCOPE)
    return()
  endif()
  set(script ${PROJECT_BINARY_DIR}/emulated/${target})
  list(JOIN CMAKE_CROSSCOMPILING_EMULATOR "\" \"" emu)
  file(GENERATE OUTPUT ${script}
       CONTENT "#!/bin/sh\n# Runs the cross-built ${target} under the emulator.\nexec \"${emu}\" \"$<TARGET_FILE:${target}>\" \"$@\"\n"
       FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                        WORLD_READ WORLD_EXECUTE)
  set(${out_var} ${script} PARENT_SCOPE)
endfunction()
