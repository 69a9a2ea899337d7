#!/usr/bin/env bash
# gpt2 embed on the tiny fixture (C = 32, vocabulary 96) and the full-vocabulary test model:
# the pooled vector equals the PyTorch reference (scripts/make-reference's hidden.bin) within
# 1e-4; OpenAI's JSON shape with usage; jsonl, tsv, npy; --pooling none/last, --layer,
# --normalize; identical bytes for --batch 1/3/16 and --threads 1/2; --stats on stderr; --similarity (JSON and
# labelled TSV matrix); --plot (SVG with the labels and the explained variance on the axes);
# --wte / --wpe rows equal the checkpoint's tensors.
set -u
BIN=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
source "$SRC/tests/cli/test_model.bash"
PY=/usr/bin/python3
TINY=$SRC/tests/data/models/tiny
fail=0
die() { echo "FAIL: $*"; fail=1; }

# --- the reference: hidden.bin's prompt and its mean / last vectors (L2-normalised)
$PY - "$TINY/hidden.bin" "$T" << 'PYEOF' || die "reading hidden.bin"
import struct, sys, json
import numpy as np
b = open(sys.argv[1], "rb").read()
h = struct.unpack("<8i", b[:32]); T, C, L = h[2], h[3], h[4]
ids = struct.unpack(f"<{T}i", b[32:32 + 4 * T])
off = 32 + 4 * T + 4 * (L + 2) * T * C
mean = np.frombuffer(b[off:off + 4 * C], "<f4"); last = np.frombuffer(b[off + 4 * C:off + 8 * C], "<f4")
open(sys.argv[2] + "/ids.jsonl", "w").write(json.dumps({"id": "ref", "prompt_ids": list(ids)}) + "\n")
np.save(sys.argv[2] + "/mean.npy", mean); np.save(sys.argv[2] + "/last.npy", last)
PYEOF
"$BIN" embed -m "$TINY" --jsonl --format json < "$T/ids.jsonl" > "$T/ref.json" || die "embed --jsonl exit $?"
"$BIN" embed -m "$TINY" --jsonl --pooling last < "$T/ids.jsonl" > "$T/last.jsonl" || die "--pooling last exit $?"
$PY - "$T" << 'PYEOF' || die "vectors differ from the PyTorch reference"
import json, sys, numpy as np
d = sys.argv[1]
doc = json.load(open(d + "/ref.json"))
assert doc["object"] == "list" and doc["model"].endswith("tiny"), doc.keys()
e = doc["data"][0]
assert list(e) == ["object", "id", "index", "embedding"], list(e)
assert e["object"] == "embedding" and e["id"] == "ref" and e["index"] == 0
assert doc["usage"] == {"prompt_tokens": 16, "total_tokens": 16}, doc["usage"]
v = np.array(e["embedding"]); ref = np.load(d + "/mean.npy")
assert len(v) == 32 and np.abs(v - ref).max() < 1e-4, np.abs(v - ref).max()
assert abs(np.linalg.norm(v) - 1) < 1e-5
line = json.loads(open(d + "/last.jsonl").read())
assert list(line) == ["id", "index", "embedding"], list(line)
assert np.abs(np.array(line["embedding"]) - np.load(d + "/last.npy")).max() < 1e-4
PYEOF

# --- one text: the default format is json; texts are lines of the input
"$BIN" embed -m "$MODEL" "Hello world" > "$T/one.json" || die "TEXT exit $?"
jq -e '.data | length == 1' "$T/one.json" > /dev/null || die "one TEXT -> one vector"
printf 'Dog\nPuppy\nCat\nKitten\nCricket\nWicket-keeper\n' > "$T/words.txt"
"$BIN" embed -m "$MODEL" -f "$T/words.txt" > "$T/words.json" || die "-f exit $?"
jq -e '(.data | length == 6) and ([.data[].index] == [0,1,2,3,4,5])' "$T/words.json" > /dev/null || die "6 lines -> 6 vectors"
"$BIN" embed -m "$MODEL" < "$T/words.txt" | cmp -s - "$T/words.json" || die "stdin differs from -f"
"$BIN" embed -m "$MODEL" "Dog" > "$T/dog.json"
[ "$(jq -c '.data[0].embedding' "$T/dog.json")" = "$(jq -c '.data[0].embedding' "$T/words.json")" ] || die "a text's vector depends on the texts beside it"

# --- batch and thread invariance: identical bytes
for b in 1 3 16; do
  for t in 1 2; do
    "$BIN" embed -m "$MODEL" --batch $b --threads $t -f "$T/words.txt" --format jsonl > "$T/b$b.t$t" || die "--batch $b --threads $t exit $?"
  done
done
for f in "$T"/b*.t*; do cmp -s "$f" "$T/b1.t1" || die "$(basename "$f") differs from --batch 1 --threads 1"; done
# --stats: the load and the embedding time apart, on stderr only (stdout unchanged)
"$BIN" embed -m "$MODEL" --stats -f "$T/words.txt" --format jsonl > "$T/stats.out" 2> "$T/stats.err" || die "--stats exit $?"
cmp -s "$T/stats.out" "$T/b1.t1" || die "--stats changed stdout"
grep -qE '^load: [0-9.]+ ms$' "$T/stats.err" || die "--stats: no load line: $(cat "$T/stats.err")"
grep -qE '^embed: 6 texts, [0-9]+ tokens in [0-9.]+ ms \([0-9.]+ texts/s, [0-9.]+ tokens/s; --batch 16\)$' "$T/stats.err" || die "--stats: no embed line: $(cat "$T/stats.err")"

# --- formats
"$BIN" embed -m "$MODEL" -f "$T/words.txt" --format tsv > "$T/words.tsv" || die "tsv exit $?"
[ "$(wc -l < "$T/words.tsv")" = 6 ] || die "tsv: 6 rows"
awk -F'\t' 'NR==2 && ($1 != 1 || $2 != "Puppy") {exit 1}' "$T/words.tsv" || die "tsv: index, text, values"
"$BIN" embed -m "$MODEL" -f "$T/words.txt" --format npy --output "$T/w.npy" || die "npy exit $?"
$PY - "$T" << 'PYEOF' || die "npy differs from json"
import json, sys, numpy as np
d = sys.argv[1]
a = np.load(d + "/w.npy"); j = json.load(open(d + "/words.json"))
assert a.dtype == np.float32 and a.shape == (6, len(j["data"][0]["embedding"])), a.shape
assert np.array_equal(a, np.array([e["embedding"] for e in j["data"]], dtype=np.float32))
PYEOF
"$BIN" embed -m "$MODEL" --pooling none --layer 0 --normalize none "Hello world" > "$T/none.json" || die "--pooling none exit $?"
jq -e '(.data | length == 2) and (.data[1].position == 1) and (.data[1].token.text == " world")' "$T/none.json" > /dev/null || die "--pooling none: one entry per token"
"$BIN" embed -m "$MODEL" --wte 15496,995 --format npy -o "$T/wte.npy" || die "--wte exit $?"
"$BIN" embed -m "$MODEL" --wpe 0-1 --format npy -o "$T/wpe.npy" || die "--wpe exit $?"
$PY - "$T" << 'PYEOF' || die "--layer 0 --pooling none is not wte + wpe"
import json, sys, numpy as np
d = sys.argv[1]
x = np.array([e["embedding"] for e in json.load(open(d + "/none.json"))["data"]], dtype=np.float32)
assert np.array_equal(x, np.load(d + "/wte.npy") + np.load(d + "/wpe.npy"))
PYEOF
"$BIN" embed -m "$MODEL" --wte 0-2,50256 --format tsv > "$T/wte.tsv" || die "--wte tsv exit $?"
awk -F'\t' 'NR==4 && ($1 != 50256 || $2 != "<|endoftext|>") {exit 1} END {if (NR != 4) exit 1}' "$T/wte.tsv" || die "--wte tsv: id, token text, values"
"$BIN" embed -m "$MODEL" --layer 1 --pooling last "Hello world" | jq -e '.data | length == 1' > /dev/null || die "--layer 1"

# --- similarity and plot
"$BIN" embed -m "$MODEL" -f "$T/words.txt" --similarity > "$T/sim.json" || die "--similarity exit $?"
jq -e '(.similarity | length == 6) and (.similarity[0] | length == 6) and (.similarity[2][2] > 0.99999) and (.similarity[1][3] == .similarity[3][1])' "$T/sim.json" > /dev/null || die "similarity matrix"
"$BIN" embed -m "$MODEL" -f "$T/words.txt" --similarity --format tsv > "$T/sim.tsv" || die "--similarity tsv exit $?"
head -1 "$T/sim.tsv" | grep -qP '^\tDog\tPuppy\tCat\tKitten\tCricket\tWicket-keeper$' || die "similarity tsv: column labels"
grep -qP '^Cat\t' "$T/sim.tsv" || die "similarity tsv: row labels"
"$BIN" embed -m "$MODEL" -f "$T/words.txt" --plot "$T/p.svg" > /dev/null || die "--plot exit $?"
$PY - "$T/p.svg" << 'PYEOF' || die "plot SVG"
import sys, re, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
labels = [t.text for t in root.iter(ns + "text") if t.get("class") == "label"]
assert labels == ["Dog", "Puppy", "Cat", "Kitten", "Cricket", "Wicket-keeper"], labels
axes = [t.text for t in root.iter(ns + "text") if t.get("class") == "axis"]
assert len(axes) == 2 and all(re.match(r"PC[12] \(\d+\.\d% of variance\)", a) for a in axes), axes
assert len([c for c in root.iter(ns + "circle")]) == 6
PYEOF
[ $fail = 0 ] && echo PASS
exit $fail
