#!/usr/bin/env bash
# inspect-logits --attention: the weights come from the forward pass's AttentionObserver and
# match the PyTorch reference attention of the last prompt position written by
# scripts/make-reference into reference.bin ([L][NH][T]), per head (--head h) and as the
# mean over heads (default); every row sums to 1; --all-positions gives one row per position
# whose length is index+1, and its last row equals the single-position answer.
set -u
BIN=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3
fail=0
for fx in tiny prefix-lmhead f16; do
  dir=$SRC/tests/data/models/$fx
  ids=$($PY -c "import struct,sys; b=open(sys.argv[1],'rb').read(); T=struct.unpack('<8i',b[:32])[2]; print(','.join(map(str,struct.unpack('<%di'%T,b[32:32+4*T]))))" "$dir/reference.bin")
  nh=$($PY -c "import struct,sys; print(struct.unpack('<8i',open(sys.argv[1],'rb').read()[:32])[6])" "$dir/reference.bin")
  "$BIN" inspect-logits -m "$dir" --prompt-ids "$ids" --attention all --format json -k 2 > "$T/mean.json" 2> "$T/err" || { echo "FAIL $fx mean: $(cat "$T/err")"; fail=1; continue; }
  for ((h = 0; h < nh; h++)); do
    "$BIN" inspect-logits -m "$dir" --prompt-ids "$ids" --attention all --head $h --format json -k 2 > "$T/head$h.json" 2> "$T/err" || { echo "FAIL $fx head $h: $(cat "$T/err")"; fail=1; }
  done
  "$BIN" inspect-logits -m "$dir" --prompt-ids "$ids" --attention 1 --all-positions --format json -k 2 > "$T/all.json" 2> "$T/err" || { echo "FAIL $fx all-positions: $(cat "$T/err")"; fail=1; continue; }
  $PY - "$T" "$dir/reference.bin" "$fx" <<'PY' || fail=1
import json, struct, sys
t, ref, fx = sys.argv[1:4]
b = open(ref, "rb").read()
magic, ver, T, V, G, L, NH, _ = struct.unpack("<8i", b[:32])
off = 32 + 4 * T + 4 * T * V + 4 * G
att = struct.unpack("<%df" % (L * NH * T), b[off:off + 4 * L * NH * T])
def ref_row(l, h): return att[(l * NH + h) * T:(l * NH + h + 1) * T]
worst = 0.0
mean = json.load(open(f"{t}/mean.json"))
pos = mean["positions"]
assert len(pos) == 1 and pos[0]["index"] == T - 1
a = pos[0]["attention"]
assert [x["layer"] for x in a] == list(range(L)), [x["layer"] for x in a]
for x in a:
    assert x["head"] is None
    w = x["weights"]
    assert len(w) == T
    assert abs(sum(w) - 1) < 1e-5, sum(w)
    r = [sum(ref_row(x["layer"], h)[k] for h in range(NH)) / NH for k in range(T)]
    worst = max(worst, max(abs(p - q) for p, q in zip(w, r)))
for h in range(NH):
    d = json.load(open(f"{t}/head{h}.json"))
    for x in d["positions"][0]["attention"]:
        assert x["head"] == h
        assert abs(sum(x["weights"]) - 1) < 1e-5
        worst = max(worst, max(abs(p - q) for p, q in zip(x["weights"], ref_row(x["layer"], h))))
allp = json.load(open(f"{t}/all.json"))["positions"]
assert [p["index"] for p in allp] == list(range(T))
for p in allp:
    (x,) = p["attention"]
    assert x["layer"] == 1 and x["head"] is None
    assert len(x["weights"]) == p["index"] + 1
    assert abs(sum(x["weights"]) - 1) < 1e-5
last = allp[-1]["attention"][0]["weights"]
assert max(abs(p - q) for p, q in zip(last, a[1]["weights"])) < 1e-6
if worst > 1e-5:
    print(f"FAIL {fx}: attention differs from the reference by {worst}"); sys.exit(1)
print(f"ok   {fx}: max abs attention error {worst:.3g}")
PY
done

# the table: a row per earlier token with bars
dir=$SRC/tests/data/models/tiny
"$BIN" inspect-logits -m "$dir" --prompt-ids "5 6 7 8" --attention 0 --head 1 > "$T/table" 2>&1 || { echo "FAIL table"; fail=1; }
grep -q "attention from position 3 .* layer 0, head 1" "$T/table" || { echo "FAIL table header"; cat "$T/table"; fail=1; }
[ "$(grep -cE '^ +[0-3]  .* [01]\.[0-9]{4}  [▏▎▍▌▋▊▉█]' "$T/table")" = 4 ] || { echo "FAIL table rows"; cat "$T/table"; fail=1; }
# the mean of 2 heads is named as such
"$BIN" inspect-logits -m "$dir" --prompt-ids "5 6 7 8" --attention 1 | grep -q "layer 1, mean of 2 heads" || { echo "FAIL mean label"; fail=1; }
exit $fail
