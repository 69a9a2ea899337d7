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

# edit_header NAME PYTHON: rewrites the safetensors header (h = dict) with python3, keeping
# the data; the new header is written with its own length.
edit_header() {
  local name=$1 code=$2
  python3 - "$TMP/$name/model.safetensors" "$code" <<'PY'
import json, struct, sys
path, code = sys.argv[1], sys.argv[2]
b = open(path, "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
data = b[8 + n:]
exec(code)
hb = json.dumps(h).encode()
open(path, "wb").write(struct.pack("<Q", len(hb)) + hb + data)
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

mk missing; edit_header missing "del h['h.1.mlp.c_fc.bias']"
expect missing 1 "missing/model.safetensors" "h.1.mlp.c_fc.bias"

mk misshaped; edit_header misshaped "t=h['h.0.attn.c_attn.weight']; t['shape']=[t['shape'][1], t['shape'][0]]"
expect misshaped 1 "misshaped/model.safetensors" "h.0.attn.c_attn.weight" "shape [96, 32]" "expected [32, 96]"

mk dtype; edit_header dtype "t=h['ln_f.bias']; t['dtype']='I32'"
expect dtype 1 "dtype/model.safetensors" "ln_f.bias" "I32"

mk unknowndtype; edit_header unknowndtype "t=h['ln_f.bias']; t['dtype']='Q4'"
expect unknowndtype 1 "unknowndtype/model.safetensors" "ln_f.bias" "Q4"

mk range; edit_header range "t=h['wpe.weight']; s=t['data_offsets']; t['data_offsets']=[s[0]+10**9, s[1]+10**9]"
expect range 1 "range/model.safetensors" "wpe.weight" "out of range"

mk overlap; edit_header overlap "a=h['wpe.weight']; b=h['wte.weight']; n=a['data_offsets'][1]-a['data_offsets'][0]; a['data_offsets']=[b['data_offsets'][0], b['data_offsets'][0]+n]"
expect overlap 1 "overlap/model.safetensors" "overlap" "wpe.weight"

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
