#!/usr/bin/env bash
# Bad model files beyond model_bad_files.sh (which covers missing/misshaped/unknown-dtype
# tensors, overlapping and out-of-range offsets, header longer than the file, header not
# JSON, missing config.json, unsupported model_type/activation): the safetensors file
# truncated at a dozen points (every byte of the header: tests/unit/model_truncation_test.cpp), config.json
# fields of the wrong type or value, odd but well-formed headers, and the header-length field
# of every committed fixture off by one or two bytes (a cut that only drops padding spaces
# leaves the JSON valid, and every tensor would be read shifted: the bytes left over give it
# away). Every case must exit 1 with one stderr line naming the file (no crash, no hang,
# nothing on stdout).
set -u
BIN=$1; REPO=$2
FIX=$REPO/tests/data/models/tiny
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail=0

run() {  # run DIR -> sets rc, writes $T/out, $T/err
  "$BIN" inspect-logits --model "$1" --prompt-ids 1 > "$T/out" 2> "$T/err" < /dev/null
  rc=$?
}
judge() {  # judge LABEL PATTERN...
  local label=$1; shift
  if [ "$rc" != 1 ]; then echo "FAIL [$label] exit $rc, want 1: $(head -c 300 "$T/err")"; fail=1; return 1; fi
  if [ "$(wc -l < "$T/err")" != 1 ]; then echo "FAIL [$label] stderr not one line: $(head -c 300 "$T/err")"; fail=1; return 1; fi
  if [ -s "$T/out" ]; then echo "FAIL [$label] wrote to stdout"; fail=1; return 1; fi
  for pat in "$@"; do
    grep -qF -- "$pat" "$T/err" || { echo "FAIL [$label] stderr lacks '$pat': $(cat "$T/err")"; fail=1; return 1; }
  done
  return 0
}

run "$FIX"; [ "$rc" = 0 ] || { echo "FAIL: the fixture does not load"; exit 1; }

# --- truncated at any byte ---------------------------------------------------------------
mkdir -p "$T/trunc" && cp "$FIX/config.json" "$T/trunc/"
size=$(stat -c %s "$FIX/model.safetensors")
hlen=$(( $(od -An -tu8 -N8 "$FIX/model.safetensors") + 8 ))
# Every cut point (each byte of the length and header, ~200 through the data) is loaded
# in-process by tests/unit/model_truncation_test.cpp; here a spread of them goes through the
# whole command (exit 1, one stderr line, nothing on stdout). GPT2_TEST_EXHAUSTIVE=1 runs
# every byte of the header and ~150 data points as processes (~2700 runs, minutes).
if [ "${GPT2_TEST_EXHAUSTIVE:-0}" = 1 ]; then
  points=$(seq 0 "$hlen"; seq "$((hlen + 1))" $(( (size - hlen) / 150 + 1 )) "$((size - 17))")
else
  points="0 3 7 8 9 40 $((hlen / 2)) $((hlen - 1)) $hlen $((hlen + 1)) $(( (size + hlen) / 2 ))"
fi
points="$points $((size - 1))"
n=0; bad=0
for cut in $points; do
  head -c "$cut" "$FIX/model.safetensors" > "$T/trunc/model.safetensors"
  run "$T/trunc"
  judge "truncated at $cut of $size" "model.safetensors" > /dev/null || { bad=$((bad + 1)); [ $bad -gt 5 ] && break; }
  n=$((n + 1))
done
echo "truncation: $n cut points in [0, $size), header+length $hlen bytes, $bad failures"
echo "  e.g. at $((hlen - 3)): $(head -c "$((hlen - 3))" "$FIX/model.safetensors" > "$T/trunc/model.safetensors"; run "$T/trunc"; cat "$T/err")"

# --- header-length field off by a byte or two, in every committed fixture ---------------
# Each fixture still loads as committed; with the field changed by -2, -1, +1, +2 it is refused.
n=0
for st in "$REPO"/tests/data/models/*/*.safetensors; do
  d=$(dirname "$st"); f=$(basename "$st")
  rm -rf "$T/len"; mkdir -p "$T/len"; cp "$d"/* "$T/len/"
  model=$T/len; [ -f "$d/config.json" ] || model=$T/len/$f
  run "$model"
  [ "$rc" = 0 ] || { echo "FAIL [$st as committed] exit $rc: $(head -c 300 "$T/err")"; fail=1; continue; }
  for delta in -2 -1 1 2; do
    cp "$st" "$T/len/$f"
    /usr/bin/python3 - "$T/len/$f" "$delta" <<'PY'
import struct, sys
path, delta = sys.argv[1], int(sys.argv[2])
b = bytearray(open(path, "rb").read())
b[:8] = struct.pack("<Q", struct.unpack("<Q", b[:8])[0] + delta)
open(path, "wb").write(bytes(b))
PY
    run "$model"
    judge "$st header length $delta" "$f" > /dev/null || { echo "  ($st, header length $delta)"; continue; }
    n=$((n + 1))
    case $delta in -1) echo "ok   [$(basename "$d") length -1] $(cat "$T/err")";; esac
  done
done
echo "header length off by 1 or 2: $n refused"

# --- config.json: wrong types and values -------------------------------------------------
cfg() {  # cfg LABEL PYTHON PATTERN... : edits config.json (c = dict) in a fresh copy
  local label=$1 code=$2; shift 2
  rm -rf "$T/c"; mkdir -p "$T/c"; cp "$FIX/config.json" "$FIX/model.safetensors" "$T/c/"
  /usr/bin/python3 - "$T/c/config.json" "$code" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
exec(sys.argv[2])
json.dump(c, open(sys.argv[1], "w"))
PY
  run "$T/c"; judge "$label" "config.json" "$@" && echo "ok   [$label] $(cat "$T/err")"
}
cfg "n_layer string"    "c['n_layer']='2'"            n_layer
cfg "n_embd float"      "c['n_embd']=32.5"            n_embd
cfg "n_head null"       "c['n_head']=None"            n_head
cfg "n_head 0"          "c['n_head']=0"               n_head
cfg "n_head divides"    "c['n_head']=3"               n_head
cfg "vocab negative"    "c['vocab_size']=-1"          vocab_size
cfg "n_positions 0"     "c['n_positions']=0; c['n_ctx']=0" n_positions
cfg "n_layer huge"      "c['n_layer']=10**12"         n_layer 1000000000000
cfg "epsilon string"    "c['layer_norm_epsilon']='x'" layer_norm_epsilon
cfg "activation number" "c['activation_function']=5"  activation_function
cfg "config is a list"  "c=[1,2]"
cfg "config is null"    "c=None"
cfg "bos out of vocab"  "c['bos_token_id']=96"        bos_token_id

# --- odd but well-formed safetensors headers ---------------------------------------------
hdr() {  # hdr LABEL PYTHON PATTERN... : rewrites the header (h = dict), keeping the data
  local label=$1 code=$2; shift 2
  rm -rf "$T/h"; mkdir -p "$T/h"; cp "$FIX/config.json" "$FIX/model.safetensors" "$T/h/"
  /usr/bin/python3 - "$T/h/model.safetensors" "$code" <<'PY'
import json, struct, sys
path, code = sys.argv[1], sys.argv[2]
b = open(path, "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n]); data = b[8 + n:]
exec(code)
hb = h if isinstance(h, bytes) else json.dumps(h).encode()
open(path, "wb").write(struct.pack("<Q", len(hb)) + hb + data)
PY
  run "$T/h"; judge "$label" "model.safetensors" "$@" && echo "ok   [$label] $(cat "$T/err")"
}
hdr "header is a list"     "h=[1]"
hdr "header length 0"      "h=b''"
hdr "offsets reversed"     "t=h['ln_f.bias']; t['data_offsets']=t['data_offsets'][::-1]" ln_f.bias
hdr "offsets strings"      "t=h['ln_f.bias']; t['data_offsets']=['0','4']" ln_f.bias
hdr "offsets negative"     "t=h['ln_f.bias']; t['data_offsets']=[-4,0]" ln_f.bias
hdr "shape overflows"      "t=h['ln_f.bias']; t['shape']=[2**62, 2**62]" ln_f.bias
hdr "shape negative"       "t=h['ln_f.bias']; t['shape']=[-32]" ln_f.bias
hdr "tensor not an object" "h['ln_f.bias']=7" ln_f.bias
hdr "dtype missing"        "del h['ln_f.bias']['dtype']" ln_f.bias
hdr "header not UTF-8"     "h=b'{\"\\xff\": 1}'"
exit $fail
