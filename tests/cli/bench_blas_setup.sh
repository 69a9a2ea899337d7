#!/usr/bin/env bash
# core/blas_setup: OpenBLAS's core choice (docs/cli.md "Environment"), checked for the branch
# that applies to this CPU and this OpenBLAS (the choice itself, better_blas_core(), is
# unit-tested for every CPU in kernels_blas_setup_test.cpp). It runs only in a command that
# will call OpenBLAS (--backend blas, or auto choosing it), right after the command line is
# parsed; -v logs "blas setup: ...". The test hook GPT2_BLAS_TEST_ASSUME_SLOW pretends OpenBLAS
# chose "Prescott":
#   - AVX-512 CPU (f, bw, vl, dq): the restart asks for SKYLAKEX (COOPERLAKE with avx512_bf16);
#     AVX2 + FMA CPU, or GPT2_ISA=avx2|generic on any AVX2 CPU (the cap): HASWELL; older CPU:
#     no restart, the core is "right for this CPU";
#   - DYNAMIC_ARCH OpenBLAS: the restarted process reports the core it asked for, once, and
#     keeps argv and stdin; any other OpenBLAS: no restart, the note says why.
# A command that does not call OpenBLAS (tokenize, --backend own) never checks or restarts.
# A value the user set (OPENBLAS_CORETYPE) and GPT2_NO_BLAS_REEXEC are always respected.
set -u
BIN=$1
REPO=$2
unset OPENBLAS_CORETYPE GPT2_NO_BLAS_REEXEC GPT2_BLAS_TEST_ASSUME_SLOW GPT2_ISA  # no choice
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
source "$REPO/tests/cli/test_model.bash"
# The CPU features as gpt2 sees them (`cpu: ARCH FEATURES...`), not /proc/cpuinfo: under
# qemu-user that file describes the host, not the emulated CPU.
flags=" $("$BIN" --version | grep -m1 '^cpu: ' | cut -d' ' -f2-) "
has() { [[ $flags == *" $1 "* ]]; }
want=
avx2=no; has avx2 && has fma && avx2=yes
if has avx512f && has avx512bw && has avx512vl && has avx512dq; then
  want=SKYLAKEX; has avx512bf16 && want=COOPERLAKE
elif [ $avx2 = yes ]; then
  want=HASWELL
fi
lib=$("$BIN" --version) || fail "--version exit $?"
dynamic=no; echo "$lib" | grep -q "OpenBLAS.*DYNAMIC_ARCH" && dynamic=yes
echo "CPU wants '${want:-none}', DYNAMIC_ARCH: $dynamic"

# --version describes what a BLAS command would do, and does not do it.
echo "$lib" | grep -q "^blas setup: .*core .* is right for\|^blas setup: .*restart with OPENBLAS_CORETYPE=\|not DYNAMIC_ARCH; nothing to do" ||
  fail "no BLAS plan in --version: $lib"
echo "$lib" | grep -q "restarted" && fail "--version restarted: $lib"

# -v run of a command; stderr in $T/err, stdout in $T/out. Usage: run ENV... -- ARGS...
run() {
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  printf 'Hello world' | env "${envs[@]}" "$BIN" -v "$@" >"$T/out" 2>"$T/err" ||
    fail "$* exited $?: $(cat "$T/err")"
}
gen=(generate -m "$MODEL" -n 4 --seed 1)

# Commands that do not call OpenBLAS: no check, no restart, even with the hook.
run GPT2_BLAS_TEST_ASSUME_SLOW=1 -- "${gen[@]}" --backend own
grep -q "blas setup" "$T/err" && fail "--backend own ran the BLAS set-up: $(cat "$T/err")"
run GPT2_BLAS_TEST_ASSUME_SLOW=1 -- tokenize
grep -q "blas setup" "$T/err" && fail "tokenize ran the BLAS set-up: $(cat "$T/err")"
[ "$(cat "$T/out")" = "15496 995" ] || fail "tokenize: '$(cat "$T/out")'"

# --backend blas: the CPU's best core.
run GPT2_BLAS_TEST_ASSUME_SLOW=1 -- "${gen[@]}" --backend blas
if [ -z "$want" ]; then
  grep -q "blas setup: core .* is right for this CPU" "$T/err" || fail "restart on a CPU with no better core: $(cat "$T/err")"
elif [ $dynamic = no ]; then
  grep -q "blas setup: .*but the library is not DYNAMIC_ARCH; nothing to do" "$T/err" ||
    fail "no 'not DYNAMIC_ARCH' note: $(cat "$T/err")"
else
  [ "$(grep -c "blas setup: restarted with OPENBLAS_CORETYPE=$want, core now $want" -i "$T/err")" = 1 ] ||
    fail "no single restart to $want reported: $(cat "$T/err")"
  # argv and stdin reached the restarted process: same text as that core without a restart.
  cp "$T/out" "$T/restarted"
  run OPENBLAS_CORETYPE=$want -- "${gen[@]}" --backend blas
  cmp -s "$T/out" "$T/restarted" || fail "restarted generate differs: $(cat "$T/restarted") vs $(cat "$T/out")"
fi

# The cap: GPT2_ISA=avx2|generic on an AVX2 CPU -> OpenBLAS's Haswell kernels.
if [ $avx2 = yes ] && [ $dynamic = yes ]; then
  for isa in avx2 generic; do
    run GPT2_ISA=$isa GPT2_BLAS_TEST_ASSUME_SLOW=1 -- "${gen[@]}" --backend blas
    [ "$(grep -ci "blas setup: restarted with OPENBLAS_CORETYPE=HASWELL, core now Haswell" "$T/err")" = 1 ] ||
      fail "GPT2_ISA=$isa: no single restart to HASWELL: $(cat "$T/err")"
    run GPT2_ISA=$isa -- "${gen[@]}" --backend blas
    grep -qi "blas setup: \(core \(haswell\|zen\) is right for the avx2 cap\|restarted with OPENBLAS_CORETYPE=HASWELL, core now Haswell\)" "$T/err" ||
      fail "GPT2_ISA=$isa: OpenBLAS not capped at Haswell: $(cat "$T/err")"
  done
  # A set OPENBLAS_CORETYPE is left alone under the cap too.
  run GPT2_ISA=avx2 OPENBLAS_CORETYPE=Prescott -- "${gen[@]}" --backend blas
  grep -q "blas setup: OPENBLAS_CORETYPE set by the user, core Prescott" "$T/err" ||
    fail "GPT2_ISA=avx2 overrode the user's OPENBLAS_CORETYPE: $(cat "$T/err")"
fi

# The user's value wins (DYNAMIC_ARCH: the library uses it; a core this CPU can run).
# (a core of this architecture other than the one OpenBLAS picks by itself)
case "$(echo "$flags" | awk '{print $1}')" in
  aarch64) user=CORTEXA53 ;;
  *) user=Prescott; [ -n "$want" ] && user=HASWELL ;;
esac
run OPENBLAS_CORETYPE=$user GPT2_BLAS_TEST_ASSUME_SLOW=1 -- "${gen[@]}" --backend blas
grep -q "blas setup: OPENBLAS_CORETYPE set by the user" "$T/err" || fail "user value not respected: $(cat "$T/err")"
if [ $dynamic = yes ]; then grep -qi "set by the user, core $user" "$T/err" || fail "user core $user not used: $(cat "$T/err")"; fi
run GPT2_NO_BLAS_REEXEC=1 GPT2_BLAS_TEST_ASSUME_SLOW=1 -- "${gen[@]}" --backend blas
grep -q "blas setup: GPT2_NO_BLAS_REEXEC set" "$T/err" || fail "GPT2_NO_BLAS_REEXEC not respected: $(cat "$T/err")"
echo PASS
