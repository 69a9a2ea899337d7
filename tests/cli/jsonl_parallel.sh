#!/usr/bin/env bash
# Scale-out with GNU parallel (Debian package `parallel`): `parallel --pipe --keep-order -N k`
# over 2 jobs gives the same lines as one process, apart from "index" (it counts lines within
# each job), joined on "id"; for generate --jsonl and inspect-logits --all-positions --jsonl.
set -u
BIN=$1; REPO=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
source "$REPO/tests/cli/test_model.bash"  # sets MODEL
fail() { echo "FAIL: $*"; exit 1; }
command -v parallel > /dev/null || fail "GNU parallel is not installed (Debian package parallel; scripts/setup)"
parallel --version 2> /dev/null | grep -q "GNU parallel" || fail "'parallel' is not GNU parallel (moreutils?)"
export PARALLEL_HOME=$T/.parallel
words=(alpha beta gamma delta epsilon zeta eta theta iota kappa lambda)
for i in "${!words[@]}"; do
  printf '{"id":"L%d","prompt":"The %s of","max_tokens":%d}\n' "$i" "${words[$i]}" $((3 + i % 4))
done > "$T/gen.jsonl"
for i in "${!words[@]}"; do printf '{"id":%d,"text":"A %s is a %s."}\n' "$i" "${words[$i]}" "${words[$(((i + 3) % 11))]}"; done > "$T/score.jsonl"

"$BIN" generate -m "$MODEL" --seed 9 --ignore-eos --jsonl < "$T/gen.jsonl" > "$T/gen.one" || fail "generate, one process"
parallel --will-cite --pipe --keep-order -N 3 -j 2 "$BIN" generate -m "$MODEL" --seed 9 --ignore-eos --jsonl --batch 2 \
  < "$T/gen.jsonl" > "$T/gen.par" || fail "generate under parallel"
"$BIN" inspect-logits -m "$MODEL" --all-positions --jsonl < "$T/score.jsonl" > "$T/score.one" || fail "score, one process"
parallel --will-cite --pipe --keep-order -N 4 -j 2 "$BIN" inspect-logits -m "$MODEL" --all-positions --jsonl \
  < "$T/score.jsonl" > "$T/score.par" || fail "score under parallel"

/usr/bin/python3 - "$T" <<'PY' || exit 1
import json, sys
t = sys.argv[1]
def fail(*m):
    print("FAIL:", *m); sys.exit(1)
for name, k in (("gen", 3), ("score", 4)):
    one = [json.loads(l) for l in open(f"{t}/{name}.one")]
    par = [json.loads(l) for l in open(f"{t}/{name}.par")]
    if len(one) != 11 or len(par) != 11: fail(name, "line counts", len(one), len(par))
    if [o["index"] for o in par] != [i % k for i in range(11)]: fail(name, "index per job", [o["index"] for o in par])
    by_id = {json.dumps(o["id"]): o for o in one}
    for o in par:
        a = dict(o); b = dict(by_id[json.dumps(o["id"])])
        a.pop("index"); b.pop("index")
        if a != b: fail(name, "line", o["id"], "differs under parallel")
    if [o["id"] for o in par] != [o["id"] for o in one]: fail(name, "--keep-order lost the order")
PY
echo ok
