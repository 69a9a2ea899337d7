#!/usr/bin/env bash
# GPT2_ISA (docs/cli.md "Environment"): the kernel set in use is the one asked for, and
# `gpt2 --version` names it; every set this CPU runs gives a working model run; an unknown
# value or a set this CPU lacks is exit 2 with one stderr line naming GPT2_ISA and the value.
set -u
GPT2=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

kernels_line() { grep '^kernels: ' "$1" | head -1; }

env -u GPT2_ISA "$GPT2" --version >"$tmp/default" || fail "--version exited $?"
GPT2_ISA=generic "$GPT2" --version >"$tmp/generic" || fail "GPT2_ISA=generic --version exited $?"
kernels_line "$tmp/generic" | grep -q '^kernels: generic\b' ||
  fail "GPT2_ISA=generic: $(kernels_line "$tmp/generic")"
# The architecture the executable was built for (first word of `cpu:`): under qemu-user
# `uname -m` names the host, not the emulated CPU.
arch=$(grep '^cpu: ' "$tmp/default" | awk '{print $2}')
case "$arch" in
  x86_64)
    kernels_line "$tmp/default" | grep -Eq '^kernels: (avx512|avx2|generic)\b' ||
      fail "default: $(kernels_line "$tmp/default")"
    missing=neon ;;
  aarch64)
    kernels_line "$tmp/default" | grep -q '^kernels: neon\b' ||
      fail "default: $(kernels_line "$tmp/default")"
    missing=avx512 ;;
  *) missing=neon ;;
esac
if ! kernels_line "$tmp/default" | grep -q '^kernels: generic\b'; then
  [ "$(kernels_line "$tmp/default")" != "$(kernels_line "$tmp/generic")" ] ||
    fail "GPT2_ISA=generic did not change the kernels line"
fi

# the model runs under the default set and under generic
for isa in "" generic; do
  GPT2_ISA=$isa "$GPT2" generate -m demo -n 8 --temperature 0 "Hello" >"$tmp/out.$isa" \
    2>"$tmp/err" || fail "GPT2_ISA=$isa generate exited $?: $(cat "$tmp/err")"
  [ -s "$tmp/out.$isa" ] || fail "GPT2_ISA=$isa: no output"
done

for bad in bogus "$missing" AVX2 " avx2"; do
  GPT2_ISA=$bad "$GPT2" --version >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [ "$rc" = 2 ] || fail "GPT2_ISA='$bad' exited $rc, expected 2"
  [ "$(wc -l <"$tmp/err")" = 1 ] || fail "GPT2_ISA='$bad': not one stderr line: $(cat "$tmp/err")"
  grep -q "^gpt2: error: GPT2_ISA=$bad: " "$tmp/err" || fail "GPT2_ISA='$bad': $(cat "$tmp/err")"
  [ -s "$tmp/out" ] && fail "GPT2_ISA='$bad': stdout not empty"
done
# also before a subcommand runs (not only --version)
GPT2_ISA=bogus "$GPT2" generate -m demo -n 1 "x" >/dev/null 2>"$tmp/err"
[ $? = 2 ] || fail "GPT2_ISA=bogus generate: expected exit 2"

# GPT2_DECODE_STREAMS=1|4 (docs/cli.md "Environment"): --version shows the number in use and
# where it came from; generation on our own kernels gives the same bits either way; another
# value is exit 2 with one stderr line naming the variable.
env -u GPT2_DECODE_STREAMS "$GPT2" --version |
  grep -Eqx "decode streams: (1|4) \(this CPU's default\)" ||
  fail "--version: no decode streams line"
for s in 1 4; do
  GPT2_DECODE_STREAMS=$s "$GPT2" --version | grep -qx "decode streams: $s (GPT2_DECODE_STREAMS)" ||
    fail "GPT2_DECODE_STREAMS=$s not shown by --version"
  GPT2_DECODE_STREAMS=$s "$GPT2" generate -m demo --backend own -n 24 --seed 3 --temperature 1 \
    --logprobs 3 --format json "ROMEO:" 2>/dev/null | sed 's/"timings".*//' >"$tmp/streams.$s" ||
    fail "GPT2_DECODE_STREAMS=$s generate failed"
done
[ -s "$tmp/streams.1" ] && cmp -s "$tmp/streams.1" "$tmp/streams.4" ||
  fail "GPT2_DECODE_STREAMS=1 and 4 generate different outputs"
for bad in 2 0 " 1" four; do
  GPT2_DECODE_STREAMS=$bad "$GPT2" --version >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [ "$rc" = 2 ] || fail "GPT2_DECODE_STREAMS='$bad' exited $rc, expected 2"
  [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "^gpt2: error: GPT2_DECODE_STREAMS=$bad: " "$tmp/err" ||
    fail "GPT2_DECODE_STREAMS='$bad': $(cat "$tmp/err")"
done
exit 0
