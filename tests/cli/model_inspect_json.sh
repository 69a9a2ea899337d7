#!/usr/bin/env bash
# inspect-logits --format json --all-positions --full parses and its logits match the
# PyTorch reference of every fixture (1e-4); index/next/top/summary are consistent.
set -u
GPT2=$1
SRC=$2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
for fx in tiny prefix-lmhead f16 bf16 sharded bare; do
  dir=$SRC/tests/data/models/$fx
  model=$dir
  [ "$fx" = bare ] && model=$dir/bare.safetensors
  ids=$(python3 -c "import struct,sys; b=open(sys.argv[1],'rb').read(); T=struct.unpack('<8i',b[:32])[2]; print(','.join(map(str,struct.unpack('<%di'%T,b[32:32+4*T]))))" "$dir/reference.bin")
  "$GPT2" inspect-logits --model "$model" --prompt-ids "$ids" --all-positions --full -k 3 --format json -t 2 > "$TMP/out.json" 2> "$TMP/err"
  rc=$?
  if [ $rc != 0 ]; then echo "FAIL $fx: exit $rc: $(cat "$TMP/err")"; fail=1; continue; fi
  python3 - "$TMP/out.json" "$dir/reference.bin" "$fx" <<'PY' || fail=1
import json, math, struct, sys
doc = json.load(open(sys.argv[1]))
b = open(sys.argv[2], "rb").read()
magic, ver, T, V, G, L, NH, _ = struct.unpack("<8i", b[:32])
ids = list(struct.unpack("<%di" % T, b[32:32 + 4 * T]))
ref = struct.unpack("<%df" % (T * V), b[32 + 4 * T:32 + 4 * T + 4 * T * V])
assert [t["id"] for t in doc["tokens"]] == ids, "tokens"
pos = doc["positions"]
assert len(pos) == T, "positions"
err = 0.0
lp_sum = 0.0
for i, p in enumerate(pos):
    assert p["index"] == i
    lg = p["logits"]
    assert len(lg) == V
    r = ref[i * V:(i + 1) * V]
    err = max(err, max(abs(x - y) for x, y in zip(lg, r)))
    m = max(lg)
    lse = m + math.log(sum(math.exp(x - m) for x in lg))
    top = p["top"]
    assert len(top) == 3
    assert top[0]["id"] == max(range(V), key=lambda k: r[k]), "argmax"
    assert abs(top[0]["logprob"] - (lg[top[0]["id"]] - lse)) < 1e-9
    assert abs(top[0]["prob"] - math.exp(top[0]["logprob"])) < 1e-12
    assert top[0]["logit"] >= top[1]["logit"] >= top[2]["logit"]
    ent = -sum(math.exp(x - lse) * (x - lse) for x in lg)
    assert abs(p["entropy"] - ent) < 1e-6, (p["entropy"], ent)
    if i + 1 < T:
        assert p["next"]["id"] == ids[i + 1]
        assert abs(p["next"]["logprob"] - (lg[ids[i + 1]] - lse)) < 1e-9
        lp_sum += p["next"]["logprob"]
    else:
        assert "next" not in p
s = doc["summary"]
assert abs(s["logprob_sum"] - lp_sum) < 1e-6
assert abs(s["perplexity"] - math.exp(-lp_sum / (T - 1))) < 1e-6 * s["perplexity"]
print(f"ok   {sys.argv[3]}: max abs logit error {err:.3g}")
if err > 1e-4:
    print(f"FAIL {sys.argv[3]}: logit error {err}")
    sys.exit(1)
PY
done

# without --all-positions: the last position only, no summary, no logits
dir=$SRC/tests/data/models/tiny
"$GPT2" inspect-logits --model "$dir" --prompt-ids "5 6 7" --format json > "$TMP/out.json" || { echo "FAIL last"; exit 1; }
python3 -c "
import json,sys; d=json.load(open(sys.argv[1]))
assert len(d['positions'])==1 and d['positions'][0]['index']==2, d['positions']
assert 'summary' not in d and 'logits' not in d['positions'][0] and 'next' not in d['positions'][0]
assert len(d['positions'][0]['top'])==10
" "$TMP/out.json" || { echo "FAIL last-position shape"; fail=1; }

# a prompt longer than the context (40 for prefix-lmhead... tiny has 48): sliding window
ids=$(python3 -c "print(' '.join(str(i % 90) for i in range(100)))")
"$GPT2" inspect-logits --model "$dir" --prompt-ids "$ids" --all-positions --format json > "$TMP/out.json" 2> "$TMP/err" || { echo "FAIL long: $(cat "$TMP/err")"; fail=1; }
python3 -c "
import json,sys; d=json.load(open(sys.argv[1]))
assert [p['index'] for p in d['positions']]==list(range(100))
assert d['summary']['perplexity']>0
" "$TMP/out.json" || { echo "FAIL sliding window"; fail=1; }
"$GPT2" inspect-logits --model "$dir" --prompt-ids "$ids" --format json > "$TMP/out.json" 2> "$TMP/err" || { echo "FAIL long last"; fail=1; }
grep -q "context" "$TMP/err" || { echo "FAIL: no warning for a prompt longer than the context"; fail=1; }
exit $fail
