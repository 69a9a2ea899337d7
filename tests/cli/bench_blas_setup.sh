#!/usr/bin/env bash
# core/blas_setup: OpenBLAS's core choice (docs/cli.md "Models": full speed with no env variable),
# checked for the branch that applies to this CPU and this OpenBLAS (the choice itself,
# better_blas_core(), is unit-tested for every CPU in kernels_blas_setup_test.cpp).
# The test hook GPT2_BLAS_TEST_ASSUME_SLOW pretends OpenBLAS chose "Prescott":
#   - AVX-512 CPU (f, bw, vl, dq): the restart asks for SKYLAKEX (COOPERLAKE with avx512_bf16);
#     AVX2 + FMA CPU: HASWELL; older CPU: no restart, the core is "right for this CPU";
#   - DYNAMIC_ARCH OpenBLAS: the restarted process reports the core it asked for, once, and
#     keeps argv and stdin; any other OpenBLAS: no restart, the note says why.
# A value the user set (OPENBLAS_CORETYPE) and GPT2_NO_BLAS_REEXEC are always respected.
set -u
GPT2=$1
unset OPENBLAS_CORETYPE GPT2_NO_BLAS_REEXEC GPT2_BLAS_TEST_ASSUME_SLOW  # start from no choice
fail() { echo "FAIL: $*"; exit 1; }
flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
has() { [[ $flags == *" $1 "* ]]; }
want=
if has avx512f && has avx512bw && has avx512vl && has avx512dq; then
  want=SKYLAKEX; has avx512_bf16 && want=COOPERLAKE
elif has avx2 && has fma; then
  want=HASWELL
fi
lib=$("$GPT2" --version) || fail "--version exit $?"
dynamic=no; echo "$lib" | grep -q "OpenBLAS.*DYNAMIC_ARCH" && dynamic=yes
echo "CPU wants '${want:-none}', DYNAMIC_ARCH: $dynamic"

# No hook: whatever the library chose, one of the three notes, and a working binary.
echo "$lib" | grep -q "core .* is right for this CPU\|restarted with OPENBLAS_CORETYPE=\|not DYNAMIC_ARCH; nothing to do" ||
  fail "no BLAS note: $lib"

out=$(GPT2_BLAS_TEST_ASSUME_SLOW=1 "$GPT2" --version) || fail "exit $?"
if [ -z "$want" ]; then
  echo "$out" | grep -q "core .* is right for this CPU" || fail "restart on a CPU with no better core: $out"
elif [ $dynamic = no ]; then
  echo "$out" | grep -q "is slow for this CPU but the library is not DYNAMIC_ARCH; nothing to do" ||
    fail "no 'not DYNAMIC_ARCH' note: $out"
else
  [ "$(echo "$out" | grep -c "restarted with OPENBLAS_CORETYPE=$want, core now")" = 1 ] ||
    fail "no single restart to $want reported: $out"
  echo "$out" | grep -qi "core: $want)" || fail "core not switched to $want: $out"
fi

# The user's value wins (DYNAMIC_ARCH: the library uses it; a core this CPU can run).
user=Prescott; [ -n "$want" ] && user=HASWELL
out=$(OPENBLAS_CORETYPE=$user GPT2_BLAS_TEST_ASSUME_SLOW=1 "$GPT2" --version) || fail "exit $?"
echo "$out" | grep -q "set by the user" || fail "user value not respected: $out"
if [ $dynamic = yes ]; then echo "$out" | grep -qi "core: $user)" || fail "user core $user not used: $out"; fi
out=$(GPT2_NO_BLAS_REEXEC=1 GPT2_BLAS_TEST_ASSUME_SLOW=1 "$GPT2" --version) || fail "exit $?"
echo "$out" | grep -q "GPT2_NO_BLAS_REEXEC set" || fail "GPT2_NO_BLAS_REEXEC not respected: $out"

# argv and stdin reach the subcommand (through the restart where there is one).
ids=$(printf 'Hello world' | GPT2_BLAS_TEST_ASSUME_SLOW=1 "$GPT2" tokenize) ||
  fail "tokenize with the hook exited $?"
[ "$ids" = "15496 995" ] || fail "tokenize with the hook: '$ids'"
echo PASS
