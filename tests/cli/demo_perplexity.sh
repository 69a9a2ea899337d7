#!/usr/bin/env bash
# The built-in demo model computes what it computed at training time: the perplexity of the
# fixed validation excerpt recorded in models/demo/validation.json (torch, float32, with the
# F16 weights as stored) matches `inspect-logits --all-positions` within 1%, for 1 and 2
# threads and for the model loaded from the directory models/demo instead of the built-in.
set -u
BIN=$1; REPO=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
VJ="$REPO/models/demo/validation.json"
[ -f "$VJ" ] || { echo "FAIL: $VJ missing"; exit 1; }
IDS=$(/usr/bin/python3 -c 'import json,sys; print(",".join(map(str, json.load(open(sys.argv[1]))["excerpt"]["ids"])))' "$VJ") ||
  { echo "FAIL: cannot read excerpt ids"; exit 1; }
check() {  # $1 = label, rest = extra args
  local label=$1; shift
  "$BIN" inspect-logits "$@" --all-positions --format json --prompt-ids "$IDS" > "$T/out.json" 2> "$T/err" ||
    { echo "FAIL: $label: inspect-logits failed"; cat "$T/err"; exit 1; }
  /usr/bin/python3 - "$VJ" "$T/out.json" "$label" <<'PY' || exit 1
import json, sys
want = json.load(open(sys.argv[1]))["excerpt"]
got = json.load(open(sys.argv[2]))
ppl = got["summary"]["perplexity"]
n = len(got["positions"])
if n < want["n_predicted"]:
    sys.exit(f"FAIL: {sys.argv[3]}: {n} positions, want at least {want['n_predicted']}")
rel = abs(ppl - want["perplexity"]) / want["perplexity"]
print(f"{sys.argv[3]}: perplexity {ppl:.4f}, recorded {want['perplexity']:.4f}, rel diff {rel:.2e}")
if not rel < 0.01:
    sys.exit(f"FAIL: {sys.argv[3]}: perplexity {ppl} vs recorded {want['perplexity']}")
PY
}
check "built-in, 1 thread" --model demo -t 1
check "default model, 2 threads" -t 2
check "models/demo directory" --model "$REPO/models/demo" -t 2
echo ok
