#!/usr/bin/env bash
# gpt2 finetune's bad input (docs/cli.md "gpt2 finetune"): one line on stderr naming
# the file, flag or folder, and the documented exit code; a NaN loss stops naming the step.
set -u
BIN=$1; REPO=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
source "$REPO/tests/cli/test_model.bash"  # sets MODEL
D=$REPO/tests/data/finetune
base=(-m "$MODEL" --data "$D/pairs.jsonl" --steps 2 --micro-batch 2)

# expect CODE PATTERN args...: exit CODE, one stderr line matching PATTERN
expect() {
  local code=$1 pat=$2; shift 2
  "$BIN" finetune "$@" > "$T/out" 2> "$T/err"; local rc=$?
  [ "$rc" = "$code" ] || { echo "FAIL: exit $rc (expected $code): finetune $*"; cat "$T/err"; exit 1; }
  [ "$(wc -l < "$T/err")" = 1 ] || { echo "FAIL: not one line: finetune $*"; cat "$T/err"; exit 1; }
  grep -q -- "$pat" "$T/err" || { echo "FAIL: '$pat' not in: $(cat "$T/err")"; exit 1; }
  [ ! -s "$T/out" ] || { echo "FAIL: stdout not empty"; exit 1; }
}
expect 2 "$T/missing.jsonl: cannot open the data file" -m "$MODEL" --data "$T/missing.jsonl" -o "$T/o1"
expect 2 "data file is required" -m "$MODEL" -o "$T/o1"
expect 2 "-o/--output" -m "$MODEL" --data "$D/pairs.jsonl"
printf '{"prompt": "a", "response": "b"}\nnot json\n' > "$T/bad.jsonl"
expect 2 "bad.jsonl:2" "${base[@]/$D\/pairs.jsonl/$T/bad.jsonl}" -o "$T/o1"
expect 2 "context 100000 is out of range" "${base[@]}" --context 100000 -o "$T/o1"
expect 2 "batch 3 must be a positive multiple of --micro-batch 2" "${base[@]}" --batch 3 -o "$T/o1"
expect 2 "lr -1 is out of range" "${base[@]}" --lr -1 -o "$T/o1"
expect 2 "save-dtype" "${base[@]}" --save-dtype f8 -o "$T/o1"
expect 2 "init random needs --config" "${base[@]/$MODEL/demo}" --init random -o "$T/o1"
expect 2 "\-\-steps and --epochs: give one" "${base[@]}" --epochs 2 -o "$T/o1"
expect 2 "init random does not start from -m" "${base[@]}" --init random --config "$MODEL/config.json" -o "$T/o1"
expect 2 "\-\-backend own: gpt2 finetune runs its matrix products through OpenBLAS" "${base[@]}" --backend own -o "$T/o1"
expect 2 "backend" "${base[@]}" --backend gpu -o "$T/o1"
expect 1 "missing.json" --init random --config "$T/missing.json" --data "$D/pairs.jsonl" -o "$T/o1"

# a folder that is not ours is refused unless --force; ours may be written again
mkdir "$T/theirs"; echo keep > "$T/theirs/notes.txt"
expect 2 "theirs: the folder exists and holds files not written by gpt2 finetune" "${base[@]}" -o "$T/theirs"
[ ! -e "$T/theirs/model.safetensors" ] || { echo "FAIL: wrote into a refused folder"; exit 1; }
"$BIN" finetune "${base[@]}" -o "$T/theirs" --force 2> "$T/err" || { echo "FAIL: --force"; cat "$T/err"; exit 1; }
[ "$(cat "$T/theirs/notes.txt")" = keep ] && [ -s "$T/theirs/model.safetensors" ] || { echo "FAIL: --force output"; exit 1; }
expect 2 "exists and is not a directory" "${base[@]}" -o "$T/theirs/notes.txt"

# --resume: a folder without a run; another option than the run's; another -o
expect 2 "no gpt2 finetune run there" --resume "$T/nothing"
expect 2 "\-\-lr 0.5 differs from the saved run's" --resume "$T/theirs" --lr 0.5
expect 2 "is not the --resume folder" --resume "$T/theirs" -o "$T"

# --init random from a config: trains and writes that shape
"$BIN" finetune --init random --config "$MODEL/config.json" --data "$D/pairs.jsonl" --steps 2 \
  --context 16 --micro-batch 2 -o "$T/rand" || { echo "FAIL: --init random"; exit 1; }
"$BIN" generate -m "$T/rand" -n 2 "Q:" > /dev/null || { echo "FAIL: random-init checkpoint does not load"; exit 1; }

# a NaN weight: the loss is nan at step 1; exit 1 naming the step; no checkpoint written
cp -r "$MODEL" "$T/nan"
/usr/bin/python3 - "$T/nan/model.safetensors" <<'PY'
import json, struct, sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read())
n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n])
k = next(k for k in h if k.endswith("ln_f.weight"))
o = 8 + n + h[k]["data_offsets"][0]
b[o:o + 4] = struct.pack("<f", float("nan"))
open(p, "wb").write(b)
PY
expect 1 "the loss is nan at step 1; stopped (no checkpoint was written)" "${base[@]/$MODEL/$T/nan}" -o "$T/nanout"
[ ! -e "$T/nanout/model.safetensors" ] || { echo "FAIL: a diverged run wrote a checkpoint"; exit 1; }
echo ok
