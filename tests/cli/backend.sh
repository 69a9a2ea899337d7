#!/usr/bin/env bash
# --backend auto|own|blas (docs/cli.md "Models", core/kernels/blas.h): bad values exit 2 naming
# --backend on every command that takes it; blas logits within 1e-4 of our kernels' at every
# position; with blas, logits and sampled text bit-identical for 1 and 2 threads; --version
# names the kernel set and the backend; bench measures each backend asked for.
set -u
BIN=$1
REPO=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
source "$REPO/tests/cli/test_model.bash"

for cmd in generate inspect-logits bench; do
  args=(hello); [ $cmd = bench ] && args=()
  "$BIN" $cmd -m "$MODEL" --backend gpu "${args[@]}" >/dev/null 2>"$T/err"
  rc=$?
  [ $rc -eq 2 ] || fail "$cmd --backend gpu exited $rc, expected 2"
  [ "$(wc -l <"$T/err")" -eq 1 ] || fail "$cmd --backend gpu: not one line: $(cat "$T/err")"
  grep -q -- "--backend" "$T/err" || fail "$cmd --backend gpu: does not name --backend: $(cat "$T/err")"
done
"$BIN" bench -m "$MODEL" --backend own,blass -p 4 -n 0 -r 1 >/dev/null 2>"$T/err"
[ $? -eq 2 ] && grep -q -- "--backend" "$T/err" || fail "bench --backend own,blass: $(cat "$T/err")"

prompt="The quick brown fox jumps over the lazy dog again and again"
for be in own blas; do
  for t in 1 2; do
    "$BIN" inspect-logits -m "$MODEL" --backend $be -t $t --all-positions --full --format json \
      "$prompt" >"$T/$be$t.json" 2>"$T/err" || fail "inspect-logits --backend $be -t $t: $(cat "$T/err")"
    printf '%s' "$prompt" | "$BIN" generate -m "$MODEL" --backend $be -t $t --seed 7 -n 12 \
      >"$T/gen$be$t" 2>"$T/err" || fail "generate --backend $be -t $t: $(cat "$T/err")"
  done
done
cmp -s "$T/blas1.json" "$T/blas2.json" || fail "blas: logits differ between 1 and 2 threads"
cmp -s "$T/genblas1" "$T/genblas2" || fail "blas: generated text differs between 1 and 2 threads"
python3 - "$T/own1.json" "$T/blas1.json" <<'PY' || fail "blas logits not within 1e-4 of own"
import json, sys
def logits(path):
    j = json.load(open(path))
    out = []
    def walk(o):
        if isinstance(o, dict):
            for k, v in o.items():
                if k == "logits" and isinstance(v, list) and v and isinstance(v[0], (int, float)):
                    out.append(v)
                else:
                    walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(j)
    return out
a, b = logits(sys.argv[1]), logits(sys.argv[2])
assert len(a) > 5 and len(a) == len(b), (len(a), len(b))
worst = max(abs(x - y) for ra, rb in zip(a, b) for x, y in zip(ra, rb))
print("positions", len(a), "max |own - blas|", worst)
assert worst <= 1e-4, worst
PY

v=$("$BIN" --version) || fail "--version exit $?"
echo "$v" | grep -Eq "^kernels: (avx512|avx2|neon|generic)" || fail "--version: no kernel set: $v"
echo "$v" | grep -Eq "^backend: auto \(" || fail "--version: no backend line: $v"

"$BIN" bench -m "$MODEL" -p 8 -n 2 -r 1 -t 1 --backend own,blas --format json >"$T/b.json" \
  2>"$T/err" || fail "bench --backend own,blas: $(cat "$T/err")"
python3 - "$T/b.json" <<'PY' || fail "bench --backend own,blas: wrong results"
import json, sys
rs = json.load(open(sys.argv[1]))["results"]
assert [(r["test"], r["backend"]) for r in rs] == [
    ("pp8", "own"), ("tg2", "own"), ("pp8", "blas"), ("tg2", "blas")], rs
assert all(r["isa"] in ("avx512", "avx2", "neon", "generic") for r in rs), rs
PY
echo PASS
