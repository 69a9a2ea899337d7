#!/usr/bin/env bash
# core/blas_setup: OpenBLAS's core choice (SPEC "Models": full speed with no env variable).
# The restart path is forced with the test hook GPT2_BLAS_TEST_ASSUME_SLOW (pretend OpenBLAS
# chose "Prescott"): the restarted process must report the core it asked for, once; a value
# the user set must be respected.
set -u
GPT2=$1
fail() { echo "FAIL: $*"; exit 1; }
grep -q avx512f /proc/cpuinfo || { echo "SKIP: no AVX-512"; exit 77; }
"$GPT2" --version | grep -q "OpenBLAS.*DYNAMIC_ARCH" || { echo "SKIP: not a DYNAMIC_ARCH OpenBLAS"; exit 77; }

out=$(env -u OPENBLAS_CORETYPE GPT2_BLAS_TEST_ASSUME_SLOW=1 "$GPT2" --version) || fail "exit $?"
echo "$out" | grep -q "restarted with OPENBLAS_CORETYPE=\(SKYLAKEX\|COOPERLAKE\)" ||
  fail "no restart reported: $out"
echo "$out" | grep -qi "core: \(SkylakeX\|Cooperlake\))" || fail "core not switched: $out"

out=$(OPENBLAS_CORETYPE=Haswell GPT2_BLAS_TEST_ASSUME_SLOW=1 "$GPT2" --version) || fail "exit $?"
echo "$out" | grep -q "set by the user" || fail "user value not respected: $out"
echo "$out" | grep -q "core: Haswell)" || fail "user core not used: $out"

# The restart keeps argv and stdin: a subcommand reading stdin still works.
ids=$(printf 'Hello world' | env -u OPENBLAS_CORETYPE GPT2_BLAS_TEST_ASSUME_SLOW=1 "$GPT2" tokenize) ||
  fail "tokenize after restart exited $?"
[ "$ids" = "15496 995" ] || fail "tokenize after restart: '$ids'"
echo PASS
