#!/usr/bin/env bash
# inspect-logits --hidden-states on the tiny fixture against PyTorch (scripts/make-reference's
# hidden.bin: Hugging Face's output_hidden_states): JSON layers 0…n_layer then "ln_f", each
# within 1e-4, with and without position embeddings (--no-position-embeddings, whose JSON and
# table carry the note); npy [layers, positions, dim] equal to the JSON; the table shows
# --dims values per layer and position.
set -u
BIN=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3
TINY=$SRC/tests/data/models/tiny
fail=0
die() { echo "FAIL: $*"; fail=1; }
IDS=$($PY -c "
import struct; b = open('$TINY/hidden.bin', 'rb').read(); T = struct.unpack('<8i', b[:32])[2]
print(' '.join(map(str, struct.unpack(f'<{T}i', b[32:32 + 4 * T]))))")
I=(inspect-logits -m "$TINY" --prompt-ids "$IDS")
"$BIN" "${I[@]}" --hidden-states --format json > "$T/h.json" || die "json exit $?"
"$BIN" "${I[@]}" --hidden-states --no-position-embeddings --format json > "$T/nowpe.json" || die "no-wpe json exit $?"
"$BIN" "${I[@]}" --hidden-states --format npy -o "$T/h.npy" || die "npy exit $?"
$PY - "$TINY/hidden.bin" "$T" << 'PYEOF' || die "hidden states differ from the PyTorch reference"
import json, struct, sys, numpy as np
b = open(sys.argv[1], "rb").read(); d = sys.argv[2]
_, _, T, C, L, S, _, _ = struct.unpack("<8i", b[:32])
off = 32 + 4 * T
sets = []
for s in range(S):
    n = (L + 2) * T * C
    sets.append(np.frombuffer(b[off:off + 4 * n], "<f4").reshape(L + 2, T, C))
    off += 4 * n + 8 * C
for name, ref in (("h.json", sets[0]), ("nowpe.json", sets[1])):
    doc = json.load(open(f"{d}/{name}"))
    hs = doc["hidden_states"]
    assert [h["layer"] for h in hs] == list(range(L + 1)) + ["ln_f"], [h["layer"] for h in hs]
    got = np.array([h["positions"] for h in hs], dtype=np.float64)
    assert got.shape == (L + 2, T, C), got.shape
    err = np.abs(got - ref).max()
    assert err < 1e-4, (name, err)
    assert ("note" in doc) == (name == "nowpe.json") and doc.get("position_embeddings", True) == (name == "h.json")
    assert len(doc["positions"]) == 1  # the rest of the report as before
a = np.load(f"{d}/h.npy")
assert a.dtype == np.float32 and a.shape == (L + 2, T, C), a.shape
assert np.array_equal(a, np.array([h["positions"] for h in json.load(open(f"{d}/h.json"))["hidden_states"]], dtype=np.float32))
PYEOF
"$BIN" "${I[@]}" --hidden-states --dims 3 > "$T/table" || die "table exit $?"
grep -q '^layer 0 (wte + wpe)$' "$T/table" || die "table: layer 0 heading"
grep -q '^ln_f ' "$T/table" || die "table: ln_f heading"
[ "$(grep -cE '^ +[0-9]+  .* +-?[0-9]+\.[0-9]{4} +-?[0-9]+\.[0-9]{4} +-?[0-9]+\.[0-9]{4}$' "$T/table")" = $((4 * 16)) ] || die "table: 3 values per layer and position"
"$BIN" "${I[@]}" --no-position-embeddings > "$T/nowpe.table" || die "no-wpe table exit $?"
head -1 "$T/nowpe.table" | grep -q '^note: run without position embeddings' || die "no-wpe table: the note"
"$BIN" "${I[@]}" --no-position-embeddings --format tsv > /dev/null 2> "$T/err" || die "no-wpe tsv exit $?"
grep -q 'warning: run without position embeddings' "$T/err" || die "no-wpe tsv: the note on stderr"
[ $fail = 0 ] && echo PASS
exit $fail
