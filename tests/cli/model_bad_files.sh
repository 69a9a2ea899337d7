#!/usr/bin/env bash
# Every fault in a model file exits 1 with one stderr line naming the file and the
# tensor or field. Bad files are made from the committed fixture in a temp dir.
set -u
GPT2=$1
SRC=$2
FIX=$SRC/tests/data/models/tiny
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0

# expect NAME EXPECTED_RC PATTERN... -- runs inspect-logits on $TMP/NAME
expect() {
  local name=$1 rc_want=$2
  shift 2
  "$GPT2" inspect-logits --model "$TMP/$name" --prompt-ids 1 > "$TMP/out" 2> "$TMP/err"
  local rc=$?
  local lines
  lines=$(wc -l < "$TMP/err")
  if [ "$rc" != "$rc_want" ]; then
    echo "FAIL $name: exit $rc, want $rc_want; stderr: $(cat "$TMP/err")"; fail=1; return
  fi
  if [ "$lines" != 1 ]; then
    echo "FAIL $name: stderr has $lines lines: $(cat "$TMP/err")"; fail=1; return
  fi
  for pat in "$@"; do
    if ! grep -qF -- "$pat" "$TMP/err"; then
      echo "FAIL $name: stderr lacks '$pat': $(cat "$TMP/err")"; fail=1; return
    fi
  done
  echo "ok   $name: $(cat "$TMP/err")"
}

# mk NAME: a copy of the fixture to damage
mk() { mkdir -p "$TMP/$1" && cp "$FIX/config.json" "$FIX/model.safetensors" "$TMP/$1/"; }

# edit_header NAME PYTHON [repack]: rewrites the safetensors header (h = dict) with python3,
# keeping the data; the new header is written with its own length. With "repack", the data is
# laid out again so the tensors left in the header cover it exactly (in their old order), as a
# well-formed file would be: a deleted tensor's bytes go with it.
edit_header() {
  local name=$1 code=$2 repack=${3:-}
  python3 - "$TMP/$name/model.safetensors" "$code" "$repack" <<'PY'
import json, struct, sys
path, code, repack = sys.argv[1], sys.argv[2], sys.argv[3]
b = open(path, "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
data = b[8 + n:]
exec(code)
if repack:
    new = b""
    for (b0, e0), k in sorted((v["data_offsets"], k) for k, v in h.items() if k != "__metadata__"):
        h[k]["data_offsets"] = [len(new), len(new) + e0 - b0]
        new += data[b0:e0]
    data = new
hb = json.dumps(h).encode()
open(path, "wb").write(struct.pack("<Q", len(hb)) + hb + data)
PY
}

# set_length NAME DELTA: adds DELTA to the header-length field, nothing else changed
set_length() {
  python3 - "$TMP/$1/model.safetensors" "$2" <<'PY'
import struct, sys
path, delta = sys.argv[1], int(sys.argv[2])
b = bytearray(open(path, "rb").read())
b[:8] = struct.pack("<Q", struct.unpack("<Q", b[:8])[0] + delta)
open(path, "wb").write(bytes(b))
PY
}

# the good fixture works
"$GPT2" inspect-logits --model "$FIX" --prompt-ids 1 > /dev/null 2>&1 || { echo "FAIL: fixture does not load"; exit 1; }

mkdir -p "$TMP/nosafetensors" && cp "$FIX/config.json" "$TMP/nosafetensors/"
expect nosafetensors 1 "model.safetensors" "missing"

mkdir -p "$TMP/noconfig" && cp "$FIX/model.safetensors" "$TMP/noconfig/"
expect noconfig 1 "config.json" "missing"

expect does-not-exist 1 "does-not-exist" "unknown model"

mk badjson; printf '{"n_layer": 2,' > "$TMP/badjson/config.json"
expect badjson 1 "badjson/config.json" "invalid JSON"

mk nofield; python3 -c "import json,sys; c=json.load(open(sys.argv[1])); del c['n_embd']; json.dump(c, open(sys.argv[1],'w'))" "$TMP/nofield/config.json"
expect nofield 1 "config.json" "n_embd"

mk badact; python3 -c "import json,sys; c=json.load(open(sys.argv[1])); c['activation_function']='relu'; json.dump(c, open(sys.argv[1],'w'))" "$TMP/badact/config.json"
expect badact 1 "config.json" "activation_function" "relu"

mk badtype; python3 -c "import json,sys; c=json.load(open(sys.argv[1])); c['model_type']='llama'; json.dump(c, open(sys.argv[1],'w'))" "$TMP/badtype/config.json"
expect badtype 1 "config.json" "model_type"

mk wrongcfg; python3 -c "import json,sys; c=json.load(open(sys.argv[1])); c['n_layer']=3; json.dump(c, open(sys.argv[1],'w'))" "$TMP/wrongcfg/config.json"
expect wrongcfg 1 "model.safetensors" "missing tensor 'h.2.ln_1.weight'"

mk missing; edit_header missing "del h['h.1.mlp.c_fc.bias']" repack
expect missing 1 "missing/model.safetensors" "h.1.mlp.c_fc.bias"

mk misshaped; edit_header misshaped "t=h['h.0.attn.c_attn.weight']; t['shape']=[t['shape'][1], t['shape'][0]]"
expect misshaped 1 "misshaped/model.safetensors" "h.0.attn.c_attn.weight" "shape [96, 32]" "expected [32, 96]"

mk dtype; edit_header dtype "t=h['ln_f.bias']; t['dtype']='I32'"
expect dtype 1 "dtype/model.safetensors" "ln_f.bias" "I32"

mk unknowndtype; edit_header unknowndtype "t=h['ln_f.bias']; t['dtype']='Q4'"
expect unknowndtype 1 "unknowndtype/model.safetensors" "ln_f.bias" "Q4"

mk range; edit_header range "t=h['wpe.weight']; s=t['data_offsets']; t['data_offsets']=[s[0]+10**9, s[1]+10**9]"
expect range 1 "range/model.safetensors" "wpe.weight" "out of range"

# the last tensor in the file moved 4 bytes back: it overlaps the one before it
mk overlap; edit_header overlap "t=h['h.0.attn.c_attn.weight']; t['data_offsets']=[o-4 for o in t['data_offsets']]"
expect overlap 1 "overlap/model.safetensors" "tensors 'h.1.ln_1.weight' and 'h.0.attn.c_attn.weight' overlap"

# --- the tensors must cover the data exactly (huggingface/safetensors refuses the rest) ---
# The fixture's header ends with one padding space: a length field cut by one still parses,
# and every tensor would be read one byte early.
mk lengthcut; set_length lengthcut -1
expect lengthcut 1 "lengthcut/model.safetensors" "1 byte left over after the last tensor" "wrong header length?"
mk lengthcut2; set_length lengthcut2 -2
expect lengthcut2 1 "lengthcut2/model.safetensors" "invalid safetensors header JSON"
mk lengthlong; set_length lengthlong 1
expect lengthlong 1 "lengthlong/model.safetensors"
mk leftover; printf '0123456789abcdef' >> "$TMP/leftover/model.safetensors"
expect leftover 1 "leftover/model.safetensors" "16 bytes left over after the last tensor, 'h.0.attn.c_attn.weight'"
mk notzero; edit_header notzero "data=bytes(8)+data
for k, v in h.items():
    if k != '__metadata__': v['data_offsets']=[o+8 for o in v['data_offsets']]"
expect notzero 1 "notzero/model.safetensors" "the first tensor, 'h.1.attn.c_proj.weight', starts at data offset 8, not 0"
mk hole; edit_header hole "t=h['h.0.attn.c_attn.weight']; b0=t['data_offsets'][0]; data=data[:b0]+bytes(8)+data[b0:]; t['data_offsets']=[o+8 for o in t['data_offsets']]"
expect hole 1 "hole/model.safetensors" "tensor 'h.0.attn.c_attn.weight' starts at data offset 126480 but 'h.1.ln_1.weight' ends at 126472 (a hole of 8 bytes"
mk notensors; edit_header notensors "h={'__metadata__': {'format': 'pt'}}"
expect notensors 1 "notensors/model.safetensors" "the header lists no tensor but 138760 bytes of data follow it"

mk sizemismatch; edit_header sizemismatch "t=h['ln_f.weight']; t['data_offsets'][1] -= 4"
expect sizemismatch 1 "sizemismatch/model.safetensors" "ln_f.weight" "bytes"

mk truncated; size=$(stat -c %s "$TMP/truncated/model.safetensors"); truncate -s $((size - 100)) "$TMP/truncated/model.safetensors"
expect truncated 1 "truncated/model.safetensors" "out of range"

mk longheader; printf '\xff\xff\xff\x00\x00\x00\x00\x00{}' > "$TMP/longheader/model.safetensors"
expect longheader 1 "longheader/model.safetensors" "header length" "longer than the file"

mk badheader; printf '\x05\x00\x00\x00\x00\x00\x00\x00{"a":' > "$TMP/badheader/model.safetensors"
expect badheader 1 "badheader/model.safetensors" "JSON"

mk tiny8; printf 'abc' > "$TMP/tiny8/model.safetensors"
expect tiny8 1 "tiny8/model.safetensors"

mk empty; : > "$TMP/empty/model.safetensors"
expect empty 1 "empty/model.safetensors"

# a directory given as the model's weight file, and a sharded index naming a missing shard
mkdir -p "$TMP/shard" && cp "$FIX/config.json" "$TMP/shard/" && printf '{"weight_map":{"wte.weight":"model-00001-of-00002.safetensors"}}' > "$TMP/shard/model.safetensors.index.json"
expect shard 1 "model-00001-of-00002.safetensors"

# usage errors: bad --dtype, an id outside the vocabulary (exit 2)
"$GPT2" inspect-logits --model "$FIX" --prompt-ids 96 > /dev/null 2> "$TMP/err"; rc=$?
if [ $rc != 2 ] || ! grep -q "96" "$TMP/err"; then echo "FAIL id 96: rc $rc $(cat "$TMP/err")"; fail=1; fi
"$GPT2" inspect-logits --model "$FIX" --prompt-ids 1 --dtype f64 > /dev/null 2> "$TMP/err"; rc=$?
if [ $rc != 2 ] || ! grep -q -- "--dtype" "$TMP/err"; then echo "FAIL dtype f64: rc $rc $(cat "$TMP/err")"; fail=1; fi

exit $fail
