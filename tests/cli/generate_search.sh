#!/usr/bin/env bash
# gpt2 generate --beams / --penalty-alpha (docs/search.md): the CLI gives the reference's
# sequences and scores (tests/data/search/reference.json, scripts/search-reference) in text,
# json and jsonl; --num-return, scores sorted best first, logprob summaries, --jsonl lines with
# the search fields, and the bad inputs (one stderr line, exit 2).
set -u
BIN=$1; REPO=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export BIN REPO T
exec python3 - << 'EOF'
import json, math, os, subprocess, sys

BIN, REPO, T = (os.environ[k] for k in ("BIN", "REPO", "T"))
fail = False

def bad(msg):
    global fail
    fail = True
    print("FAIL " + msg)

def run(args, stdin=""):
    p = subprocess.run([BIN, "generate"] + args, input=stdin.encode(), capture_output=True)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")

cases = json.load(open(os.path.join(REPO, "tests/data/search/reference.json")))

def flags(c):
    a = ["-m", os.path.join(REPO, c["model"]), "--prompt-ids", " ".join(map(str, c["prompt_ids"])),
         "-n", str(c["max_tokens"])]
    if c["kind"] == "beam":
        a += ["--beams", str(c["beams"]), "--length-penalty", str(c["length_penalty"]),
              "--early-stopping", c["early_stopping"], "--num-return", str(c["num_return"])]
    else:
        a += ["--penalty-alpha", str(c["penalty_alpha"]), "--top-k", str(c["top_k"])]
    if c.get("no_repeat_ngram"):
        a += ["--no-repeat-ngram", str(c["no_repeat_ngram"])]
    for tok, b in c.get("logit_bias", []):
        a += ["--logit-bias", f"{tok}={b}"]
    if c.get("ignore_eos"):
        a += ["--ignore-eos"]
    return a

# 1. a spread of reference cases through the CLI's JSON (every 4th: each kind and mode)
checked = 0
for c in cases[::4]:
    rc, out, err = run(flags(c) + ["--format", "json"])
    if rc != 0:
        bad(f"exit {rc}: {err.strip()} for {c}")
        continue
    samples = json.loads(out)["samples"]
    got = [s["ids"] for s in samples]
    want = [e["ids"] for e in c["expect"]]
    if got != want:
        bad(f"ids {got} != reference {want} for {c}")
    for s, e in zip(samples, c["expect"]):
        if s["finish_reason"] != e["finish_reason"]:
            bad(f"finish {s['finish_reason']} != {e['finish_reason']} for {c}")
        if "score" in e and abs(s.get("score", 1e9) - e["score"]) > 1e-4:
            bad(f"score {s.get('score')} != {e['score']} for {c}")
    checked += 1
print(f"ok   {checked} reference cases through generate --format json")

# 2. text output: the best sequence; several returned: each, a blank line after each
beam = next(c for c in cases if c["kind"] == "beam" and c["num_return"] >= 2)
rc, out, _ = run(flags(beam) + ["--format", "json"])
texts = [s["text"] for s in json.loads(out)["samples"]]
scores = [s["score"] for s in json.loads(out)["samples"]]
if scores != sorted(scores, reverse=True):
    bad(f"scores not best first: {scores}")
rc, out, _ = run(flags(beam))
if rc != 0 or out != "".join(t + "\n\n" for t in texts):
    bad(f"text output {out!r} != the json texts {texts!r}")
one = [a for a in flags(beam)]
one[one.index("--num-return") + 1] = "1"
rc, out, _ = run(one)
if out != texts[0]:
    bad(f"--num-return 1 text {out!r} != best {texts[0]!r}")

# 3. jsonl format: a sample line per returned sequence, then done
rc, out, _ = run(flags(beam) + ["--format", "jsonl"])
lines = [json.loads(l) for l in out.splitlines()]
if [l.get("event") for l in lines] != ["sample"] * len(texts) + ["done"] or [l["text"] for l in lines[:-1]] != texts:
    bad(f"jsonl format lines: {lines}")

# 4. --logprobs: tokens and the summary; confidence = exp(mean); min_token is the least likely
rc, out, _ = run(flags(beam) + ["--format", "json", "--logprobs", "2"])
for s in json.loads(out)["samples"]:
    lps = [t["logprob"] for t in s["tokens"]]
    if [t["id"] for t in s["tokens"]] != s["ids"]:
        bad("tokens do not match ids")
    if abs(s["logprob_sum"] - sum(lps)) > 1e-9 or abs(s["logprob_mean"] - sum(lps) / len(lps)) > 1e-9:
        bad(f"logprob_sum/mean wrong: {s}")
    if abs(s["confidence"] - math.exp(s["logprob_mean"])) > 1e-12:
        bad("confidence != exp(mean)")
    m = s["min_token"]
    if m["logprob"] != min(lps) or s["ids"][m["index"]] != m["id"] or lps.index(min(lps)) != m["index"]:
        bad(f"min_token wrong: {m}")
# sampled samples carry the summary too
rc, out, _ = run(["-m", os.path.join(REPO, "tests/data/models/tiny"), "--prompt-ids", "5 6", "-n", "6",
                  "--seed", "3", "--format", "json", "--logprobs", "1", "--ignore-eos"])
s = json.loads(out)["samples"][0]
if not all(k in s for k in ("logprob_sum", "logprob_mean", "confidence", "min_token")) or "score" in s:
    bad(f"a sampled sample's summary fields: {sorted(s)}")

# 5. --jsonl lines with the search fields equal the single command
c = beam
line = {"id": "b", "prompt_ids": c["prompt_ids"], "max_tokens": c["max_tokens"], "beams": c["beams"],
        "length_penalty": c["length_penalty"], "early_stopping": c["early_stopping"],
        "num_return": c["num_return"]}
cli = ["-m", os.path.join(REPO, c["model"])]
for tok, b in c.get("logit_bias", []):
    cli += ["--logit-bias", f"{tok}={b}"]
if c.get("no_repeat_ngram"):
    cli += ["--no-repeat-ngram", str(c["no_repeat_ngram"])]
contr = next(x for x in cases if x["kind"] == "contrastive" and x["model"] == c["model"]
             and not x.get("no_repeat_ngram") and not x.get("logit_bias"))
stdin = "\n".join(json.dumps(x) for x in [
    line,
    {"prompt_ids": [5, 6], "max_tokens": 3, "seed": 1},
    {"prompt_ids": [5], "beams": 2, "num_return": 3},
    {"prompt_ids": [5], "beams": 2, "temperature": 0.7},
    {"prompt_ids": [5], "penalty_alpha": 2},
    {"prompt_ids": [5], "beams": 2, "n": 2},
]) + "\n"
rc, out, err = run(cli + ["--jsonl"], stdin)
res = [json.loads(l) for l in out.splitlines()]
if len(res) != 6:
    bad(f"--jsonl: {len(res)} lines: {out} {err}")
else:
    if [s["ids"] for s in res[0]["samples"]] != [e["ids"] for e in c["expect"]] or res[0].get("id") != "b":
        bad(f"--jsonl beam line {res[0]} != reference {c['expect']}")
    if len(res[1].get("samples", [])) != 1:
        bad(f"--jsonl sampled line beside a search: {res[1]}")
    for i, want in ((2, "num_return"), (3, "temperature"), (4, "penalty_alpha"), (5, "cannot be combined with a search")):
        if "error" not in res[i] or want not in res[i]["error"]:
            bad(f"--jsonl line {i} should be an error naming {want!r}: {res[i]}")
stdin = json.dumps({"prompt_ids": contr["prompt_ids"], "max_tokens": contr["max_tokens"],
                    "penalty_alpha": contr["penalty_alpha"], "top_k": contr["top_k"]}) + "\n"
rc, out, err = run(["-m", os.path.join(REPO, contr["model"]), "--jsonl"], stdin)
res = [json.loads(l) for l in out.splitlines()]
if len(res) != 1 or [s["ids"] for s in res[0].get("samples", [])] != [e["ids"] for e in contr["expect"]]:
    bad(f"--jsonl contrastive line {out} {err} != {contr['expect']}")
print("ok   --jsonl search lines")

# 6. bad inputs: one stderr line, exit 2, naming the flag
tiny = os.path.join(REPO, "tests/data/models/tiny")
for args, want in [
    (["--beams", "0"], "--beams 0 is out of range (must be >= 1)"),
    (["--beams", "2", "--num-return", "3"], "--num-return 3 is more than --beams (2)"),
    (["--num-return", "2"], "--num-return 2 is more than --beams (1)"),
    (["--beams", "4", "--temperature", "0.7"], "--temperature 0.7 cannot be combined with --beams 4"),
    (["--beams", "4", "--top-p", "0.9"], "--top-p cannot be combined with --beams 4"),
    (["--beams", "4", "--top-k", "5"], "--top-k cannot be combined with --beams 4"),
    (["--beams", "4", "--num-samples", "2"], "--num-samples 2 cannot be combined with --beams 4"),
    (["--early-stopping", "maybe"], "--early-stopping 'maybe' is not one of true, false, never"),
    (["--penalty-alpha", "1.5", "--top-k", "4"], "--penalty-alpha 1.5 is out of range (must be in [0, 1])"),
    (["--penalty-alpha", "0.6"], "--penalty-alpha needs --top-k K (K > 1)"),
    (["--penalty-alpha", "0.6", "--top-k", "1"], "--penalty-alpha: contrastive search needs --top-k > 1"),
    (["--penalty-alpha", "0.6", "--top-k", "4", "--beams", "2"], "--penalty-alpha: (contrastive search) cannot be combined with --beams 2"),
    (["--penalty-alpha", "0.6", "--top-k", "4", "--min-p", "0.1"], "--min-p cannot be combined with --penalty-alpha"),
]:
    rc, out, err = run(["-m", tiny, "--prompt-ids", "5"] + args)
    lines = err.splitlines()
    if rc != 2 or len(lines) != 1 or want not in lines[0] or out:
        bad(f"{args}: exit {rc}, stderr {err!r} (want exit 2 and {want!r})")
print("ok   bad inputs")

# 7. greedy flags are fine with a search; temperature 0 consistent
rc, out, err = run(["-m", tiny, "--prompt-ids", "5", "-n", "3", "--beams", "2", "--temperature", "0"])
if rc != 0:
    bad(f"--beams with --temperature 0: exit {rc} {err}")
# 8. --stop ends a beam like EOS: cut before the stop string, the token kept in ids
rc, out, err = run(["-m", tiny, "--prompt-ids", "17 42 5 88 23", "-n", "8", "--beams", "3", "--num-return", "3",
                    "--stop", "W", "--early-stopping", "true", "--format", "json"])
samples = json.loads(out)["samples"] if rc == 0 else []
stops = [x for x in samples if x["finish_reason"] == "stop"]
if not stops or any("W" in x["text"] for x in samples) or any(x["ids"][-1] != 54 for x in stops):
    bad(f"--stop with --beams: {samples} {err}")

# 9. gpt2 bench --beams 4: a tgN-beams4 row beside tgN
p = subprocess.run([BIN, "bench", "-m", tiny, "-p", "0", "-n", "8", "-r", "1", "--beams", "4", "--format", "json"],
                   capture_output=True)
tests = [r["test"] for r in json.loads(p.stdout)["results"]] if p.returncode == 0 else p.stderr
if tests != ["tg8", "tg8-beams4", "tg8-rows4"]:
    bad(f"bench --beams 4 rows: {tests}")

# 10. searches under a constraint (--grammar, --json-schema, --json; --jsonl lines): every
# returned sequence obeys it (checked by python's jsonschema / a regular expression), and an
# incomplete one says so ("length" + "warning")
import re
import jsonschema
model = os.path.join(os.path.dirname(BIN), "..", "tests", "test-model")
schema = {"type": "object", "properties": {"ok": {"type": "boolean"}, "c": {"enum": ["red", "green"]}},
          "required": ["ok", "c"], "additionalProperties": False}
gbnf = 'root ::= "{\\"ok\\":" ("true" | "false") ",\\"c\\":\\"" ("red" | "green") "\\"}"\n'
open(os.path.join(T, "g.gbnf"), "w").write(gbnf)
def obeys(samples, what, complete_needed=True):
    for x in samples:
        if x.get("warning"):
            if x["finish_reason"] != "length" or complete_needed:
                bad(f"{what}: incomplete {x}")
            continue
        try:
            jsonschema.validate(json.loads(x["text"]), schema)
        except Exception as e:
            bad(f"{what}: {x['text']!r} does not obey the schema: {e}")
search_modes = [["--beams", "3", "--num-return", "3"], ["--penalty-alpha", "0.6", "--top-k", "4"]]
for mode in search_modes:
    rc, out, err = run(["-m", model, "--prompt-ids", "5 6", "-n", "30", "--grammar", os.path.join(T, "g.gbnf"),
                        "--format", "json"] + mode)
    samples = json.loads(out)["samples"] if rc == 0 else []
    if len(samples) != (3 if "--beams" in mode else 1):
        bad(f"{mode} --grammar: exit {rc} {err}")
    obeys(samples, f"{mode} --grammar")
    # complete with nowhere to go: beam search takes EOS (scored, as transformers), contrastive
    # search stops there (as sampling does)
    if any(x["finish_reason"] != ("eos" if "--beams" in mode else "stop") for x in samples):
        bad(f"{mode} --grammar: finish reasons {samples}")
    if "--beams" in mode and len({tuple(x["ids"]) for x in samples}) != 3:
        bad(f"{mode} --grammar: beams not distinct: {samples}")
    for flag in (["--json-schema", json.dumps(schema)], ["--json"]):
        rc, out, err = run(["-m", model, "--prompt-ids", "5 6", "-n", "12", "--format", "json"] + flag + mode)
        samples = json.loads(out)["samples"] if rc == 0 else []
        if not samples:
            bad(f"{mode} {flag[0]}: exit {rc} {err}")
        for x in samples:  # a valid prefix: complete, or cut by -n with the warning
            if x.get("warning") is None:
                v = json.loads(x["text"])
                if flag[0] == "--json-schema":
                    jsonschema.validate(v, schema)
            elif x["finish_reason"] != "length":
                bad(f"{mode} {flag[0]}: {x}")
lines = [json.dumps({"prompt_ids": [5, 6], "max_tokens": 30, "beams": 2, "num_return": 2, "grammar": gbnf}),
         json.dumps({"prompt_ids": [5, 6], "max_tokens": 30, "penalty_alpha": 0.5, "top_k": 3, "grammar": gbnf})]
rc, out, err = run(["-m", model, "--jsonl"], "\n".join(lines) + "\n")
outs = [json.loads(l) for l in out.splitlines()] if rc == 0 else []
if len(outs) != 2 or [len(o.get("samples", [])) for o in outs] != [2, 1]:
    bad(f"--jsonl searched lines with a grammar: exit {rc} {out} {err}")
for o in outs:
    obeys(o.get("samples", []), "--jsonl line")
print("ok   constrained searches")
sys.exit(1 if fail else 0)
EOF
