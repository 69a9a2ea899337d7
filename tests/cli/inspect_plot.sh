#!/usr/bin/env bash
# inspect-logits --plot on the built-in demo model, checked as XML (python3 xml.etree):
#  - the temperature chart for "The future of artificial intelligence is" (whose title once
#    ran off the right edge) and a prompt with long pieces: numeric width/height on the root
#    <svg>, numeric font-size on every text, every text's estimated extent (0.6 em a column,
#    0.7 bold, wide characters two columns; rotations applied) inside the figure;
#  - --filters: one panel per filter, titled with the filter exactly as given and the
#    survivor count the table prints, the coloured bars exactly the table's ✓ rows, a cutoff
#    line for top_k/top_p (when inside the shown bars) and min_p; texts inside the figure.
set -u
BIN=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
PY=/usr/bin/python3
fail=0
die() { echo "FAIL: $*"; fail=1; }

P="The future of artificial intelligence is"
"$BIN" inspect-logits --plot "$T/t.svg" "$P" > /dev/null || die "temperature plot exit $?"
"$BIN" inspect-logits -k 12 --temperature 0.5,1,2 --plot "$T/t3.svg" \
  $'Thou art more lovely and more temperate, and summer\'s lease hath all too short a date; so long lives this' > /dev/null || die "3-temperature plot exit $?"
F=top_k=5,top_p=0.25,min_p=0.2,typical_p=0.9,top_k=40
"$BIN" inspect-logits -k 20 --filters "$F" --plot "$T/f.svg" "$P" > "$T/f.txt" || die "filter plot exit $?"
"$BIN" inspect-logits -k 3 --filters top_p=0.5 --plot "$T/f1.svg" "$P" > "$T/f1.txt" || die "one-filter plot exit $?"

$PY - "$T" "$F" <<'PY' || fail=1
import math, re, sys, unicodedata, xml.etree.ElementTree as ET
t, spec = sys.argv[1], sys.argv[2]
NS = "{http://www.w3.org/2000/svg}"

def cols(s):
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)

def check_texts(path):
    root = ET.parse(path).getroot()
    assert root.tag == NS + "svg", root.tag
    W, H = float(root.get("width")), float(root.get("height"))  # numeric, or ValueError
    root_fs = float(root.get("font-size"))
    n = 0
    for el in root.iter(NS + "text"):
        txt = "".join(el.itertext())
        fs = float(el.get("font-size", root_fs))
        w = cols(txt) * fs * (0.7 if el.get("font-weight") == "bold" else 0.6)
        x, y = float(el.get("x")), float(el.get("y"))
        anchor = el.get("text-anchor", "start")
        x0 = x - w if anchor == "end" else x - w / 2 if anchor == "middle" else x
        pts = [(x0, y), (x0 + w, y), (x0, y - 0.75 * fs), (x0 + w, y - 0.75 * fs)]
        m = re.fullmatch(r"rotate\(([-\d.]+) ([-\d.]+) ([-\d.]+)\)", el.get("transform", "rotate(0 0 0)"))
        assert m, el.get("transform")
        a, cx, cy = (float(v) for v in m.groups())
        c, s = math.cos(math.radians(a)), math.sin(math.radians(a))
        pts = [(cx + (px - cx) * c - (py - cy) * s, cy + (px - cx) * s + (py - cy) * c) for px, py in pts]
        for px, py in pts:
            assert -0.5 <= px <= W + 0.5 and -0.5 <= py <= H + 0.5, (path, txt, px, py, W, H)
        n += 1
    assert n > 0
    return root

# temperature charts
r = check_texts(f"{t}/t.svg")
titles = [e for e in r.iter(NS + "text") if e.get("font-weight") == "bold"]
joined = " ".join("".join(e.itertext()) for e in titles)
assert joined == 'Next-token probabilities after "The future of artificial intelligence is"', joined
assert len(titles) == 2, "the title wraps onto two lines"
check_texts(f"{t}/t3.svg")

# the filter figure against the table
def table(path):
    lines = open(path).read().splitlines()
    counts = {m.group(1): int(m.group(2)) for l in lines
              if (m := re.fullmatch(r"  (\S+): (\d+) tokens? survives?", l))}
    head = next(l for l in lines if l.lstrip().startswith("rank"))
    specs = head.split()[6:]
    rows = [l for l in lines if re.match(r"^ +\d+ +\d+  ", l)]
    marks = [[m for m in r.split() if m in ("✓", "·")] for r in rows]
    return specs, counts, marks

def check_figure(svg, txt, filters):
    root = check_texts(svg)
    specs, counts, marks = table(txt)
    assert specs == filters, (specs, filters)
    panels = [g for g in root.iter(NS + "g") if g.get("class") == "panel"]
    assert len(panels) == len(filters), (len(panels), filters)
    for i, (g, f) in enumerate(zip(panels, filters)):
        texts = ["".join(e.itertext()) for e in g.iter(NS + "text")]
        assert f in texts, (f, texts)  # titled with the filter as given
        n = counts[f] if filters.count(f) == 1 else None
        want = int(g.get("data-survivors"))
        if n is not None:
            assert want == n, (f, want, n)
        assert any(re.fullmatch(rf"{want} tokens? survives?, mass [01]\.\d{{3}}", x) for x in texts), texts
        bars = [e for e in g.iter(NS + "rect") if e.get("class") in ("kept", "cut")]
        assert len(bars) == len(marks), (len(bars), len(marks))
        for b, m in zip(bars, marks):
            assert (b.get("class") == "kept") == (m[i] == "✓"), (f, b.get("class"), m)
        kept_fill = {b.get("fill") for b in bars if b.get("class") == "kept"}
        cut_fill = {b.get("fill") for b in bars if b.get("class") == "cut"}
        assert len(kept_fill) <= 1 and len(cut_fill) <= 1 and not (kept_fill & cut_fill)
        lines = [e for e in g.iter(NS + "line") if e.get("class") == "cutoff"]
        name = f.split("=")[0]
        if name == "min_p":
            assert len(lines) == 1 and lines[0].get("y1") == lines[0].get("y2"), "horizontal"
        elif name in ("top_k", "top_p") and want < len(bars):
            assert len(lines) == 1 and lines[0].get("x1") == lines[0].get("x2"), "vertical"
            # after the last survivor: between bar `want` and bar `want + 1`
            x = float(lines[0].get("x1"))
            right = float(bars[want - 1].get("x")) + float(bars[want - 1].get("width"))
            assert right <= x <= float(bars[want].get("x")), (f, x)
        else:
            assert not lines, f

check_figure(f"{t}/f.svg", f"{t}/f.txt", spec.split(","))
check_figure(f"{t}/f1.svg", f"{t}/f1.txt", ["top_p=0.5"])
PY
exit $fail
