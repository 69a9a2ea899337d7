# Toolchain file: cross-compile for 64-bit ARM Linux with Debian's cross compiler
# (g++-aarch64-linux-gnu) against the arm64 multiarch -dev packages in
# /usr/lib/aarch64-linux-gnu (dpkg --add-architecture arm64; see scripts/test-cross).
# Header-only dependencies (CLI11, nlohmann-json, Catch2) come from the host's /usr.
# Executables built here run under qemu-user: CMAKE_CROSSCOMPILING_EMULATOR is how ctest,
# catch_discover_tests and the build's own tool runs (cmake/emulator.cmake) start them.
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(GPT2_CROSS_TRIPLE aarch64-linux-gnu)

set(CMAKE_C_COMPILER ${GPT2_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${GPT2_CROSS_TRIPLE}-g++)
set(CMAKE_ASM_COMPILER ${GPT2_CROSS_TRIPLE}-gcc)
# find_package/find_library look in <prefix>/lib/aarch64-linux-gnu (Debian multiarch), never
# in the host's x86_64-linux-gnu directories.
set(CMAKE_LIBRARY_ARCHITECTURE ${GPT2_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH /usr/${GPT2_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# pkg-config (pkg_check_modules, e.g. cpp-httplib for server/): the arm64 .pc files only.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/${GPT2_CROSS_TRIPLE}/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")

# -L: qemu takes the aarch64 dynamic loader from the cross toolchain (libc6-arm64-cross,
# /usr/aarch64-linux-gnu/lib). That loader must load the libc of the same build, but it would
# find libc6:arm64's (/lib/aarch64-linux-gnu, a different Debian revision, installed with the
# arm64 -dev packages) first: with the two mixed, every pthread_create spins forever (seen as
# hangs in OpenBLAS's start-up and in our thread pool). The run path makes the executables
# load the cross toolchain's libc, libstdc++ and libm next to its loader; on an ARM64 machine
# the directory does not exist and is ignored.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-rpath,/usr/${GPT2_CROSS_TRIPLE}/lib")
set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/qemu-aarch64-static;-L;/usr/${GPT2_CROSS_TRIPLE})
