#!/usr/bin/env bash
# inspect-logits formats on the tiny fixture (V = 96): table (columns, bars, entropy, no
# colour when piped; colour on a terminal unless NO_COLOR), json (schema), tsv, npy (header
# bytes with od, size, values equal to the JSON, probs rows sum to 1 within 1e-5), --output
# (atomic: a failed write leaves nothing, exit 1 naming the path), --plot (well-formed SVG
# with one bar per token and temperature, legend, axis labels).
set -u
BIN=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3
M=$SRC/tests/data/models/tiny
IDS="5 6 7 8 9 10"
fail=0
die() { echo "FAIL: $*"; fail=1; }

# --- table
"$BIN" inspect-logits -m "$M" --prompt-ids "$IDS" > "$T/table" 2> "$T/err" || die "table exit $?"
grep -qE '^  rank +id +token +logit +prob +logprob' "$T/table" || die "table header"
[ "$(grep -cE '^ +[0-9]+ +[0-9]+  .*  -?[0-9]+\.[0-9]{4} .*[▏▎▍▌▋▊▉█]' "$T/table")" = 10 ] || die "10 rows with bars"
grep -qE 'entropy [0-9.]+ nats .* shown rows hold 0\.[0-9]{4}' "$T/table" || die "entropy/total line"
grep -q $'\033' "$T/table" && die "colour escape in piped output"
[ -s "$T/err" ] && die "stderr not empty: $(cat "$T/err")"
"$BIN" inspect-logits -m "$M" --prompt-ids "$IDS" -k 3 | grep -cE '^ +[0-9]+ +[0-9]+  ' | grep -qx 3 || die "-k 3"
# colour on a terminal (script gives a pty), none with NO_COLOR
if command -v script >/dev/null; then
  script -qec "'$BIN' inspect-logits -m '$M' --prompt-ids '$IDS' -k 2" /dev/null > "$T/tty" 2>&1
  grep -q $'\033\[' "$T/tty" || die "no colour on a terminal"
  NO_COLOR=1 script -qec "'$BIN' inspect-logits -m '$M' --prompt-ids '$IDS' -k 2" /dev/null > "$T/tty" 2>&1
  grep -q $'\033\[' "$T/tty" && die "colour despite NO_COLOR"
fi

# --all-positions with --temperature: a block per position, each naming the next token
[ "$("$BIN" inspect-logits -m "$M" --prompt-ids "$IDS" --all-positions -k 2 --temperature 0.5 | grep -c '^  next in prompt: ')" = 5 ] || die "all-positions blocks"

# --- json schema (also with --temperature and --filters)
"$BIN" inspect-logits -m "$M" --prompt-ids "$IDS" --format json -k 96 --temperature 0.5,1,2,0 \
  --filters top_k=5,top_p=0.9,min_p=0.05,typical_p=0.8 > "$T/a.json" || die "json exit"
"$BIN" inspect-logits -m "$M" --prompt-ids "$IDS" --format json --full --all-positions -k 4 > "$T/full.json" || die "json full exit"
$PY - "$T" <<'PY' || fail=1
import json, math, sys
t = sys.argv[1]
d = json.load(open(f"{t}/a.json"))
assert list(d) == ["model", "tokens", "temperatures", "filters", "positions"], list(d)
assert d["temperatures"] == [0.5, 1, 2, 0]
assert [f["name"] for f in d["filters"]] == ["top_k", "top_p", "min_p", "typical_p"]
(p,) = d["positions"]
assert list(p)[:3] == ["index", "entropy", "top"] and p["index"] == 5
top = p["top"]
assert len(top) == 96
for r in top:
    assert set(r) >= {"id", "text", "logit", "prob", "logprob", "probs", "survives"}
    assert abs(r["prob"] - math.exp(r["logprob"])) < 1e-12
    assert abs(r["probs"][1] - r["prob"]) < 1e-12
# probabilities over the whole vocabulary sum to 1 at every temperature
for ti in range(4):
    s = sum(r["probs"][ti] for r in top)
    assert abs(s - 1) < 1e-5, (ti, s)
assert top[0]["probs"][3] == 1.0 and all(r["probs"][3] == 0 for r in top[1:])  # T=0 greedy
assert top[0]["probs"][0] > top[0]["probs"][1] > top[0]["probs"][2]  # colder = sharper
# entropies: T=1 equals "entropy", colder is lower
e = p["entropies"]
assert abs(e[1] - p["entropy"]) < 1e-9 and e[0] < e[1] < e[2] and e[3] == 0
# filter survivors, recomputed from the definitions (sampler.h)
probs = [r["prob"] for r in top]  # sorted descending
n = p["survivors"]
assert n[0] == 5, n
cum, k = 0.0, 0
while cum < 0.9: cum += probs[k]; k += 1
assert n[1] == k, (n[1], k)
assert n[2] == sum(1 for q in probs if q >= 0.05 * probs[0]), n[2]
for i, r in enumerate(top):
    assert r["survives"][0] == (i < 5)
    assert r["survives"][1] == (i < n[1])
    assert r["survives"][2] == (i < n[2])
assert sum(r["survives"][3] for r in top) == n[3]
# --full --all-positions
f = json.load(open(f"{t}/full.json"))
assert list(f) == ["model", "tokens", "positions", "summary"]
assert [p["index"] for p in f["positions"]] == list(range(6))
lp = 0.0
for p in f["positions"]:
    lg = p["logits"]
    assert len(lg) == 96
    m = max(lg); lse = m + math.log(sum(math.exp(x - m) for x in lg))
    assert abs(sum(math.exp(x - lse) for x in lg) - 1) < 1e-9
    if p["index"] < 5:
        nx = p["next"]
        assert set(nx) == {"id", "text", "logprob", "rank"}
        assert nx["rank"] == 1 + sum(1 for i, x in enumerate(lg) if x > lg[nx["id"]] or (x == lg[nx["id"]] and i < nx["id"]))
        lp += nx["logprob"]
    else:
        assert "next" not in p
s = f["summary"]
assert abs(s["logprob_sum"] - lp) < 1e-9 and s["count"] == 5
assert abs(s["mean_logprob"] - lp / 5) < 1e-9
assert abs(s["perplexity"] - math.exp(-lp / 5)) < 1e-9 * s["perplexity"]
PY

# --- tsv
"$BIN" inspect-logits -m "$M" --prompt-ids "$IDS" --format tsv -k 3 --all-positions --temperature 0.7 --filters top_k=2 > "$T/tsv" || die "tsv exit"
head -1 "$T/tsv" | grep -qx $'position\trank\tid\tpiece\tlogit\tprob\tlogprob\tprob@T=0.7\ttop_k=2\tnext' || die "tsv header: $(head -1 "$T/tsv")"
awk -F'\t' 'NR>1 && NF!=10 {bad=1} END {exit bad}' "$T/tsv" || die "tsv field count"
# every position has 3 rows, plus one for the actual next token when it is not among them
$PY - "$T" <<'PY' || fail=1
import json, sys, csv
t = sys.argv[1]
rows = list(csv.reader(open(f"{t}/tsv"), delimiter="\t"))[1:]
f = json.load(open(f"{t}/full.json"))
for p in f["positions"]:
    mine = [r for r in rows if int(r[0]) == p["index"]]
    want = 3 + (1 if "next" in p and p["next"]["rank"] > 3 else 0)
    assert len(mine) == want, (p["index"], len(mine), want)
    assert [int(r[2]) for r in mine[:3]] == [x["id"] for x in p["top"][:3]]
    if "next" in p:
        nx = [r for r in mine if r[9] == "1"]
        assert len(nx) == 1 and int(nx[0][2]) == p["next"]["id"] and int(nx[0][1]) == p["next"]["rank"]
        assert abs(float(nx[0][6]) - p["next"]["logprob"]) < 1e-6
    assert [r[8] for r in mine[:3]] == ["1", "1", "0"]
PY

# --full in tsv and table: every vocabulary row
[ "$("$BIN" inspect-logits -m "$M" --prompt-ids "$IDS" --format tsv --full | wc -l)" = 97 ] || die "tsv --full rows"
[ "$("$BIN" inspect-logits -m "$M" --prompt-ids "$IDS" --full | grep -cE '^ +[0-9]+ +[0-9]+  ')" = 96 ] || die "table --full rows"

# --- npy: header bytes (od), size, values
for v in logits probs logprobs; do
  "$BIN" inspect-logits -m "$M" --prompt-ids "$IDS" --all-positions --format npy --values $v --output "$T/$v.npy" > "$T/out" || die "npy $v exit"
  [ -s "$T/out" ] && die "npy wrote to stdout"
done
f=$T/logits.npy
magic=$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')
[ "$magic" = "934e554d50590100" ] || die "npy magic/version: $magic"
hl=$(od -An -tu2 -j8 -N2 --endian=little "$f" | tr -d ' ')
[ $(( (10 + hl) % 64 )) = 0 ] || die "npy data offset $((10 + hl)) not a multiple of 64"
dict=$(head -c $((10 + hl)) "$f" | tail -c +11)
[ "${dict%%\}*}}" = "{'descr': '<f4', 'fortran_order': False, 'shape': (6, 96), }" ] || die "npy dict: $dict"
[ "$(tail -c +$((10 + hl)) "$f" | head -c 1 | od -An -tx1 | tr -d ' ')" = 0a ] || die "npy header not newline-terminated"
[ "$(stat -c %s "$f")" = $((10 + hl + 4 * 6 * 96)) ] || die "npy size"
$PY - "$T" <<'PY' || fail=1
import json, math, struct, sys
t = sys.argv[1]
f = json.load(open(f"{t}/full.json"))
def rows(name):
    b = open(f"{t}/{name}.npy", "rb").read()
    hl = struct.unpack("<H", b[8:10])[0]
    v = struct.unpack("<%df" % (6 * 96), b[10 + hl:])
    return [v[i * 96:(i + 1) * 96] for i in range(6)]
lg, pr, lp = rows("logits"), rows("probs"), rows("logprobs")
for i, p in enumerate(f["positions"]):
    assert max(abs(a - b) for a, b in zip(lg[i], p["logits"])) == 0, "logits equal the JSON"
    assert abs(sum(pr[i]) - 1) < 1e-5, sum(pr[i])
    top = p["top"][0]
    assert abs(lp[i][top["id"]] - top["logprob"]) < 1e-5
    assert abs(pr[i][top["id"]] - top["prob"]) < 1e-6
PY

# --- --output: json to a file; a failed write exits 1 naming the path and leaves nothing
"$BIN" inspect-logits -m "$M" --prompt-ids "$IDS" --format json --output "$T/o.json" > "$T/out" || die "--output exit"
[ -s "$T/out" ] && die "--output also wrote stdout"
$PY -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/o.json" || die "--output json"
mkdir "$T/adir"
"$BIN" inspect-logits -m "$M" --prompt-ids "$IDS" --format npy --output "$T/adir" 2> "$T/err"
rc=$?
[ $rc = 1 ] || die "output onto a directory: exit $rc"
grep -q "$T/adir" "$T/err" || die "error does not name the path: $(cat "$T/err")"
ls "$T" | grep -q '\.tmp\.' && die "temp file left behind"
"$BIN" inspect-logits -m "$M" --prompt-ids "$IDS" --output /nonexistent-dir/x.txt 2> "$T/err"
rc=$?
[ $rc = 1 ] || die "unwritable --output: exit $rc"
grep -q "/nonexistent-dir/x.txt" "$T/err" || die "error does not name the path"

# --- --plot: well-formed SVG, one bar per (temperature, token), legend, axes
"$BIN" inspect-logits -m "$M" --prompt-ids "$IDS" -k 7 --temperature 0.5,1,1.5 --plot "$T/p.svg" > /dev/null || die "plot exit"
$PY - "$T/p.svg" <<'PY' || fail=1
import sys, xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == ns + "svg"
bars = [r for r in root.iter(ns + "rect") if r.find(ns + "title") is not None]
assert len(bars) == 21, len(bars)
texts = [t.text for t in root.iter(ns + "text")]
for want in ["T=0.5", "T=1", "T=1.5", "probability", "token (most likely first)"]:
    assert want in texts, want
PY
"$BIN" inspect-logits -m "$M" --prompt-ids "$IDS" -k 4 --plot "$T/q.svg" > /dev/null || die "plot (one series) exit"
$PY -c 'import sys, xml.etree.ElementTree as ET; ET.parse(sys.argv[1])' "$T/q.svg" || die "plot xml"
exit $fail
