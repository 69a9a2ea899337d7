#!/usr/bin/env bash
# The built-in demo model (models/demo, linked in by models/builtin_blobs.S): `--model demo`
# loads it; without --model and $GPT2_MODEL every model command uses it (and -v names it);
# $GPT2_MODEL and --model override it; the executable alone, copied elsewhere, still runs it.
set -u
BIN=$1; REPO=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
unset GPT2_MODEL
cfg="$REPO/models/demo/config.json"
[ -f "$cfg" ] || { echo "FAIL: $cfg missing"; exit 1; }

"$BIN" inspect-logits --model demo --format json "ROMEO:" > "$T/a.json" 2> "$T/a.err" ||
  { echo "FAIL: --model demo"; cat "$T/a.err"; exit 1; }
grep -q '"positions"' "$T/a.json" || { echo "FAIL: no positions in JSON"; head -c 300 "$T/a.json"; exit 1; }
# default model = demo: identical output
"$BIN" inspect-logits --format json "ROMEO:" > "$T/b.json" 2> "$T/b.err" ||
  { echo "FAIL: default model"; cat "$T/b.err"; exit 1; }
cmp -s "$T/a.json" "$T/b.json" || { echo "FAIL: default model differs from --model demo"; exit 1; }
# -v says which model, with the shape from the embedded config.json
"$BIN" -v inspect-logits --format json "ROMEO:" > /dev/null 2> "$T/v.err" || { echo "FAIL: -v run"; exit 1; }
L=$(/usr/bin/python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print(c["n_layer"], c["n_embd"])' "$cfg")
set -- $L
grep -q "model demo: $1 layers" "$T/v.err" || { echo "FAIL: -v does not name the demo model ($1 layers)"; cat "$T/v.err"; exit 1; }
grep -q "n_embd $2" "$T/v.err" || { echo "FAIL: -v does not show n_embd $2"; cat "$T/v.err"; exit 1; }
# the top-1 next token after "ROMEO:" is a real distribution, not uniform: top prob well above 1/V
/usr/bin/python3 - "$T/a.json" <<'PY' || exit 1
import json, sys
d = json.load(open(sys.argv[1]))
top = d["positions"][-1]["top"][0]
if not top["prob"] > 0.01:
    sys.exit(f"FAIL: top probability {top['prob']} looks untrained")
PY
# $GPT2_MODEL naming an unknown model is an error, not a silent fallback to demo
GPT2_MODEL=no-such-model "$BIN" inspect-logits "ROMEO:" > /dev/null 2> "$T/e.err"
rc=$?
[ $rc -eq 1 ] || { echo "FAIL: unknown \$GPT2_MODEL exit $rc, want 1"; exit 1; }
grep -q "no-such-model" "$T/e.err" || { echo "FAIL: error does not name the model"; cat "$T/e.err"; exit 1; }
GPT2_MODEL=demo "$BIN" inspect-logits --format json "ROMEO:" > "$T/c.json" || { echo "FAIL: GPT2_MODEL=demo"; exit 1; }
cmp -s "$T/a.json" "$T/c.json" || { echo "FAIL: GPT2_MODEL=demo differs"; exit 1; }
# self-contained: the executable copied alone to an empty directory, run from there
mkdir "$T/alone" && cp "$BIN" "$T/alone/gpt2" || exit 1
(cd "$T/alone" && ./gpt2 inspect-logits --format json "ROMEO:") > "$T/d.json" 2> "$T/d.err" ||
  { echo "FAIL: copied executable"; cat "$T/d.err"; exit 1; }
cmp -s "$T/a.json" "$T/d.json" || { echo "FAIL: copied executable gives other output"; exit 1; }
echo ok
