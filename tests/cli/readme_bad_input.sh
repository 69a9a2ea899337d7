#!/usr/bin/env bash
# README's "What gpt2 does with bad input" table against the program: every example of the
# table that can be run here (the EXAMPLES below: the command-line rows and the model-file rows
# whose files are easy to write) is run, and its stderr must be the table's message, its exit
# code the table's. A row's message is a backticked span of its second column (the first, or
# the one an example names by index); "gpt2: error: " (or "gpt2: warning: " when the cell says
# "warning:") is put in front, `…` stands for any text and PATH for the path the example used.
# A row whose message is "(none)" wants an empty stderr.
# Where the table shows only the end of a message (config.json's field errors and a tensor's, which the
# program prefixes with the file's path), the example says so ("tail") and any prefix is allowed.
# docs/bad-input.md carries a copy of the table: it must equal README's, row for row.
# Rows not listed here (file truncation sweeps, FIFOs, signals, …) are held by the tests named
# in their last column.
set -u
BIN=$1; REPO=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
source "$REPO/tests/cli/test_model.bash"   # MODEL: the full-vocabulary test model (context 64)
export BIN REPO T MODEL
exec python3 - << 'EOF'
import json, os, re, shutil, struct, subprocess, sys

BIN, REPO, T, MODEL = (os.environ[k] for k in ("BIN", "REPO", "T", "MODEL"))
fail = False

def bad(msg):
    global fail
    fail = True
    print("FAIL " + msg)

def table(path):
    """The rows (lists of cells, `\\|` unescaped) of the bad-input table in the file at path."""
    text = open(path, encoding="utf-8").read()
    start = text.index("## What gpt2 does with bad input")
    rows = []
    for line in text[start:].splitlines()[1:]:
        if line.startswith("|"):
            if not line.startswith(("| Case |", "|---")):
                rows.append([c.strip().replace("\\|", "|")
                             for c in re.split(r"(?<!\\)\|", line)[1:-1]])
        elif rows:
            break  # the end of the first table
    return rows

readme = table(os.path.join(REPO, "README.md"))
copy = table(os.path.join(REPO, "docs", "bad-input.md"))
if readme != copy:
    diff = [r[0] for r, c in zip(readme, copy) if r != c] or ["(a different number of rows)"]
    bad(f"docs/bad-input.md's table differs from README's: {diff[:3]}")
else:
    print(f"ok   docs/bad-input.md's table equals README's ({len(readme)} rows)")
rows = {r[0]: r for r in readme}

# --- the files some examples need ---------------------------------------------------------
tiny = os.path.join(REPO, "tests", "data", "models", "tiny")
def model_dir(name, config=None, weights=True, raw_config=None):
    d = os.path.join(T, name)
    os.makedirs(d)
    if raw_config is not None:
        open(os.path.join(d, "config.json"), "w").write(raw_config)
    elif config is not None:
        json.dump(config, open(os.path.join(d, "config.json"), "w"))
    if weights:
        shutil.copy(os.path.join(tiny, "model.safetensors"), d)
    return d
cfg = json.load(open(os.path.join(tiny, "config.json")))
def cfg_with(**kw):
    c = dict(cfg)
    for k, v in kw.items():
        if v is None: c.pop(k)
        else: c[k] = v
    return c
no_config = model_dir("no-config")
os.remove(os.path.join(no_config, "model.safetensors"))
no_weights = model_dir("no-weights", cfg, weights=False)
not_json = model_dir("not-json", raw_config="{ not json")
not_object = model_dir("not-object", raw_config="[1, 2]")
missing_field = model_dir("missing-field", cfg_with(n_embd=None))
wrong_type = model_dir("wrong-type", cfg_with(n_layer="2"))
llama = model_dir("llama", cfg_with(model_type="llama"))
relu = model_dir("relu", cfg_with(activation_function="relu"))
head0 = model_dir("n-head-0", cfg_with(n_head=0))
long_header = model_dir("long-header", cfg, weights=False)
open(os.path.join(long_header, "model.safetensors"), "wb").write(struct.pack("<Q", 16777215) + b"{}")
shard = os.path.join(T, "sharded")
shutil.copytree(os.path.join(REPO, "tests", "data", "models", "sharded"), shard)
os.remove(os.path.join(shard, "model-00001-of-00002.safetensors"))
not_json_header = model_dir("not-json-header", cfg, weights=False)
open(os.path.join(not_json_header, "model.safetensors"), "wb").write(struct.pack("<Q", 2) + b"{x")
def with_header(name, edit):  # tiny's weights with the header JSON edited (same length, padded)
    d = model_dir(name, cfg)
    f = os.path.join(d, "model.safetensors")
    data = open(f, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.dumps(edit(json.loads(data[8:8 + n])), separators=(",", ":")).encode()
    assert len(header) <= n
    open(f, "wb").write(data[:8] + header + b" " * (n - len(header)) + data[8 + n:])
    return d
def q4(h):
    h["ln_f.bias"]["dtype"] = "Q4"
    return h
q4_dtype = with_header("q4", q4)
long_prompt = "a" + " a" * 200                     # 201 tokens
bad_utf8 = b"ab\xff"
bad_gbnf = os.path.join(T, "bad.gbnf")
open(bad_gbnf, "w").write('root ::= item\nitem ::= "a" valu\n')

# --- the examples: (row's Case cell, message index, argv, stdin, PATH[, "tail"]) ------------
EXAMPLES = [
    ("Unsupported JSON Schema keyword (`--json-schema`; likewise a `--jsonl` line's or a request's schema)", 0, ["grammar", "--json-schema", '{"type":"object","properties":{"tags":{"type":"array","uniqueItems":true}}}'], None, None),
    ("Malformed JSON Schema (`minItems` > `maxItems`, a keyword value of the wrong type, a `$ref` that does not resolve, a schema no value satisfies)", 0, ["grammar", "--json-schema", '{"type":"array","items":{"type":"array","minItems":3,"maxItems":1}}'], None, None),
    ("Several words as TEXT (`gpt2 generate Once upon a time`)", 0, ["generate", "-m", MODEL, "-n", "2", "Once", "upon", "a", "time"], None, None),
    ("`--threads 0`", 0, ["generate", "-m", MODEL, "-n", "1", "--threads", "0", "hi"], None, None),
    ("Empty prompt", 0, ["generate", "-m", MODEL, "-n", "1", ""], None, None),
    ("Unknown flag (any subcommand)", 0, ["generate", "--tempreature", "0.5", "hi"], None, None),
    ("Unknown command", 0, ["generat", "Once", "upon"], None, None),
    ("Unknown command", 0, ["generat", "-n", "3", "x"], None, None),
    ("Stray arguments (`gpt2 bench one two three`)", 0, ["bench", "one", "two", "three"], None, None),
    ("Flag value not a number (`-n abc`, `--temperature hot`)", 0, ["generate", "-n", "abc", "hi"], None, None),
    ("Flag value not a number (`-n abc`, `--temperature hot`)", 1, ["generate", "--temperature", "hot", "hi"], None, None),
    ("Flag without its value (`-n` last)", 0, ["generate", "hi", "-n"], None, None),
    ("Value not among the choices", 0, ["tokenize", "--format", "xml", "hi"], None, None),
    ("Flag given twice (`-n 1 -n 2`)", 0, ["generate", "-n", "1", "-n", "2", "hi"], None, None),
    ("A value for a plain flag (`--jsonl=maybe`)", 0, ["tokenize", "--jsonl=maybe"], None, None),
    ("Empty value after `=` (`--stop=`)", 0, ["generate", "--stop=", "hi"], None, None),
    ("TEXT and `-f` together", 0, ["tokenize", "-f", "/dev/null", "hi"], None, None),
    ("Negative temperature", 0, ["generate", "--temperature", "-0.5", "hi"], None, None),
    ("`--top-p 1.5` (also `--min-p`, `--typical-p` outside [0,1])", 0, ["generate", "--top-p", "1.5", "hi"], None, None),
    ("`-n -3`", 0, ["generate", "-n", "-3", "hi"], None, None),
    ("`--threads -1` (also `tokenize -t -1`)", 0, ["generate", "--threads", "-1", "hi"], None, None),
    ("`-k -2` (inspect-logits), `--top-k -3`", 0, ["inspect-logits", "-k", "-2", "hi"], None, None),
    ("`--prompt-ids` id ≥ vocabulary", 0, ["generate", "-m", tiny, "--prompt-ids", "96"], None, None),
    ("`--prompt-ids` non-number (`x7`, `-1`, `1.5`, > 9 digits)", 0, ["generate", "--prompt-ids", "x7"], None, None),
    ("`--logit-bias` malformed (e.g. contains a newline)", 0, ["generate", "--logit-bias", "1=2\nx", "hi"], None, None),
    ("`--logit-bias` id ≥ vocabulary", 0, ["generate", "--logit-bias", "50257=1", "hi"], None, None),
    ("`--beams 0`", 0, ["generate", "--beams", "0", "hi"], None, None),
    ("`--num-return` more than `--beams`", 0, ["generate", "--beams", "2", "--num-return", "3", "hi"], None, None),
    ("A sampling flag with a search (`--beams 4 --temperature 0.7`; also `--top-p`, `--min-p`, `--typical-p`, `--top-k` with `--beams`)", 0, ["generate", "--beams", "4", "--temperature", "0.7", "hi"], None, None),
    ("`--early-stopping maybe`", 0, ["generate", "--early-stopping", "maybe", "hi"], None, None),
    ("`--penalty-alpha` outside [0, 1]", 0, ["generate", "--penalty-alpha", "1.5", "--top-k", "4", "hi"], None, None),
    ("`--penalty-alpha` without `--top-k`", 0, ["generate", "--penalty-alpha", "0.6", "hi"], None, None),
    ("`--grammar` file with an error (undefined rule, unbalanced bracket, bad escape, empty grammar, a rule that can never finish, left recursion, too large)", 0, ["grammar", "--grammar", bad_gbnf], None, bad_gbnf),
    ("More than one of `--json`, `--json-schema`, `--grammar` (a JSONL line or request with two of `grammar`, `json_schema`, `response_format`: that line's error / a 400 naming the field)", 0, ["generate", "--json", "--grammar", bad_gbnf, "hi"], None, None),
    ("`--json-schema` text that is not JSON", 0, ["generate", "--json-schema", "{x", "hi"], None, None),
    ("`--lenient` without `--json-schema`", 0, ["generate", "--lenient", "hi"], None, None),
    ("`gpt2 grammar` without a constraint", 0, ["grammar"], None, None),
    ("A constrained sample cut by `-n` (`finish_reason` length)", 0, ["generate", "-m", MODEL, "-n", "2", "--seed", "1", "--json", "hi"], None, None),
    ("Prompt file does not exist", 0, ["tokenize", "-f", T + "/missing"], None, T + "/missing"),
    ("Prompt file is a directory", 0, ["generate", "-f", T], None, T),
    ("Invalid UTF-8 in the prompt", 0, ["tokenize"], bad_utf8, None),
    ("Special token under `--special error` (default)", 0, ["tokenize", "x<|endoftext|>"], None, None),
    ("Unknown encoding (`tokenize --encoding o200k`)", 0, ["tokenize", "--encoding", "o200k", "hi"], None, None),
    ("Unknown model name (`tokenize --model-name llama-3`)", 0, ["tokenize", "--model-name", "llama-3", "hi"], None, None),
    ("Another encoding on a command that runs a model (`generate --encoding cl100k_base`)", 0, ["generate", "--encoding", "cl100k_base", "hi"], None, None),
    ("`--decode` of an id the encoding does not have (`--encoding o200k_base --decode 199998`)", 0, ["tokenize", "--encoding", "o200k_base", "--decode", "199998"], None, None),
    ("Prompt longer than the context", 0, ["generate", "-m", MODEL, "-n", "1", long_prompt], None, None),
    ("Model path missing", 0, ["generate", "-m", T + "/nope", "hi"], None, T + "/nope"),
    ("Directory without config.json", 0, ["generate", "-m", no_config, "hi"], None, no_config),
    ("Directory without weights", 0, ["generate", "-m", no_weights, "hi"], None, no_weights),
    ("config.json not JSON / not an object", 0, ["generate", "-m", not_json, "hi"], None, not_json),
    ("config.json not JSON / not an object", 1, ["generate", "-m", not_object, "hi"], None, not_object),
    ("config.json missing field", 0, ["generate", "-m", missing_field, "hi"], None, missing_field),
    ("config.json wrong type", 0, ["generate", "-m", wrong_type, "hi"], None, wrong_type),
    ("config.json bad value", 0, ["generate", "-m", head0, "hi"], None, head0, "tail"),
    ("Unsupported model_type / activation", 0, ["generate", "-m", llama, "hi"], None, llama, "tail"),
    ("Unsupported model_type / activation", 1, ["generate", "-m", relu, "hi"], None, relu, "tail"),
    ("Header length larger than the file", 0, ["generate", "-m", long_header, "hi"], None, long_header),
    ("Header not JSON / not UTF-8 / not an object / empty", 0, ["generate", "-m", not_json_header, "hi"], None, not_json_header),
    ("Unknown / unsupported dtype", 0, ["generate", "-m", q4_dtype, "hi"], None, q4_dtype, "tail"),
    ("Missing shard", 0, ["generate", "-m", shard, "hi"], None, shard),
    ("`gpt2 embed`: an empty text (`printf 'Dog\\n\\nCat\\n' | gpt2 embed`)", 0, ["embed", "-m", tiny], b"Dog\n\nCat\n", None),
    ("`gpt2 embed --layer` out of range", 0, ["embed", "-m", tiny, "--layer", "3", "hi"], None, None),
    ("`gpt2 embed --wte` / `--wpe` beyond the table", 0, ["embed", "-m", MODEL, "--wte", "50257"], None, None),
    ("`gpt2 embed --plot` with fewer than 3 texts", 0, ["embed", "-m", tiny, "--plot", T + "/p.svg"], b"Dog\nCat\n", None),
    ("`gpt2 embed --similarity` with one text", 0, ["embed", "-m", tiny, "--similarity", "Dog"], None, None),
    ("`gpt2 embed --jsonl`: a token id outside the vocabulary, a text longer than the context", 0, ["embed", "-m", MODEL, "--jsonl"], b'{"prompt_ids":[50257]}\n', None),
]

def pattern(msg, path):
    """A regex for the message: … is any text, PATH the example's path."""
    parts = []
    for piece in re.split(r"(…|PATH)", msg):
        if piece == "…": parts.append(".*")
        elif piece == "PATH": parts.append(re.escape(path or "PATH"))
        else: parts.append(re.escape(piece))
    return "".join(parts)

checked = set()
for case, index, argv, stdin, path, *tail in EXAMPLES:
    row = rows.get(case)
    label = f"[{case}] gpt2 {' '.join(argv)}".replace("\n", "\\n")[:150]
    if row is None:
        bad(f"{label}: README's table has no row '{case}'")
        continue
    checked.add(case)
    spans = re.findall(r"`([^`]*)`", row[1])
    quiet = row[1].startswith("(none)")  # no message: stderr stays empty
    if quiet:
        spans = [""]
    if index >= len(spans):
        bad(f"{label}: the row has {len(spans)} backticked messages, wants #{index}")
        continue
    kind = "warning" if row[1].startswith("warning:") else "error"
    want_rc = int(row[2])
    r = subprocess.run([BIN] + argv, input=stdin if stdin is not None else b"",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = r.stderr.decode("utf-8", "replace")
    lines = err.splitlines()
    regex = f"gpt2: {kind}: " + ("(.*: )?" if tail else "") + pattern(spans[index], path)
    if r.returncode != want_rc:
        bad(f"{label}: exit {r.returncode}, the table says {want_rc}: {err[:300]}")
    elif quiet and err:
        bad(f"{label}: the table says no message, got {err[:300]!r}")
    elif not quiet and (len(lines) != 1 or not re.fullmatch(regex, lines[0])):
        bad(f"{label}:\n     got:   {err[:400]!r}\n     table: gpt2: {kind}: {spans[index]}")
    else:
        print(f"ok   {label}")

print(f"rows checked: {len(checked)} of {len(readme)}; not run here (their tests are in the "
      f"last column): {', '.join(r[0] for r in readme if r[0] not in checked)[:2000]}")
sys.exit(1 if fail else 0)
EOF
