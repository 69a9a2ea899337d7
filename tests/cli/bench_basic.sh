#!/usr/bin/env bash
# gpt2 bench (docs/cli.md "gpt2 bench"): JSON shape, one result per test x threads x dtype, rates
# positive and ordered min <= median <= max, "isa" the kernel set in use and "backend" as asked
# (default auto); table output with isa and backend columns; usage errors exit 2 naming the
# flag; nothing on stderr when it is not a terminal.
set -u
GPT2=$1
SRC=$2
M="$SRC/tests/data/models/tiny"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$GPT2" bench -m "$M" -p 16 -n 4 -r 3 --threads 1,2 --dtype f32 --format json \
  >"$tmp/out.json" 2>"$tmp/err" || fail "bench exited $?"
[ -s "$tmp/err" ] && fail "stderr not empty: $(cat "$tmp/err")"
python3 - "$tmp/out.json" "$M" <<'PY' || exit 1
import json, sys
j = json.load(open(sys.argv[1]))
assert j["model"] == sys.argv[2], j["model"]
rs = j["results"]
assert [(r["test"], r["threads"], r["dtype"]) for r in rs] == [
    ("pp16", 1, "f32"), ("tg4", 1, "f32"), ("pp16", 2, "f32"), ("tg4", 2, "f32")], rs
for r in rs:
    assert set(r) == {"test", "threads", "dtype", "isa", "backend", "median", "min", "max"}, r
    assert r["isa"] in ("avx512", "avx2", "neon", "generic"), r
    assert r["backend"] == "auto", r
    assert 0 < r["min"] <= r["median"] <= r["max"], r
PY

"$GPT2" bench -m "$M" -p 8 -n 0 -r 1 -t 1 >"$tmp/table" 2>"$tmp/err" || fail "table exited $?"
grep -q "pp8" "$tmp/table" || fail "no pp8 row: $(cat "$tmp/table")"
grep -q "tg" "$tmp/table" && fail "tg row although -n 0"
head -1 "$tmp/table" | grep -q "t/s" || fail "no header"
head -1 "$tmp/table" | grep -Eq "\| +isa +\| +backend +\|" || fail "no isa/backend columns: $(head -1 "$tmp/table")"
grep "pp8" "$tmp/table" | grep -Eq "\| +(avx512|avx2|neon|generic) +\| +auto +\|" ||
  fail "pp8 row without isa and backend: $(cat "$tmp/table")"

expect_usage() {
  local flagname=$1; shift
  "$GPT2" bench -m "$M" "$@" >/dev/null 2>"$tmp/err"
  local rc=$?
  [ $rc -eq 2 ] || fail "bench $* exited $rc, expected 2"
  grep -q -- "$flagname" "$tmp/err" || fail "bench $*: error does not name $flagname: $(cat "$tmp/err")"
}
expect_usage "--threads" --threads 1,x
expect_usage "--threads" --threads 0
expect_usage "--dtype" --dtype f32,f64
expect_usage "--format" --format csv
expect_usage "--backend" --backend own,gpu
expect_usage "--backend" --backend ,
expect_usage "-p" -p 100000
expect_usage "-r" -r 0
echo PASS
