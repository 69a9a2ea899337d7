#!/usr/bin/env bash
# gpt2 generate streams valid UTF-8: a token that ends inside a multi-byte character is held
# back until it completes; a character left unfinished at the end is flushed as U+FFFD.
# --logit-bias forces GPT-2's byte tokens 127 (0xC3) and 102 (0xA9): "é" is C3 A9, so every
# "é" in the output is split over two tokens.
set -u
BIN=$1; REPO=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
source "$REPO/tests/cli/test_model.bash"  # sets MODEL
[ "$("$BIN" tokenize --decode "127 102" | od -An -tx1 | tr -d ' \n')" = "c3a9" ] || { echo "FAIL: byte tokens 127 102 are not C3 A9"; exit 1; }
# Temperature 100 with top-p and min-p off: both byte tokens are about equally likely at
# every step whatever the (random) model prefers, so "é" appears.
args=(-m "$MODEL" -n 40 --seed 11 --top-k 2 --top-p 1 --min-p 0 --temperature 100 --logit-bias 127=100 --logit-bias 102=100 "x")
# Read the stream chunk by chunk: every chunk must end on a character boundary.
/usr/bin/python3 - "$BIN" "${args[@]}" <<'PY' || exit 1
import json, os, subprocess, sys
cmd = [sys.argv[1], "generate"] + sys.argv[2:]
p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
chunks = []
while True:
    b = os.read(p.stdout.fileno(), 65536)
    if not b:
        break
    chunks.append(b)
err = p.stderr.read().decode()
if p.wait() != 0:
    print("FAIL: exit", p.returncode, err); sys.exit(1)
for c in chunks:
    try:
        c.decode("utf-8")
    except UnicodeDecodeError as e:
        print("FAIL: a streamed chunk is not valid UTF-8 on its own:", c, e); sys.exit(1)
out = b"".join(chunks).decode("utf-8")
j = json.loads(subprocess.run(cmd + ["--format", "json", "--logprobs", "1"], capture_output=True, check=True).stdout)
s = j["samples"][0]
if out != s["text"]:
    print("FAIL: text output differs from JSON text:", repr(out), repr(s["text"])); sys.exit(1)
if "é" not in out:
    print("FAIL: no é produced:", repr(out)); sys.exit(1)
if set(s["ids"]) - {127, 102}:
    print("FAIL: bias did not force byte tokens:", s["ids"]); sys.exit(1)
for t in s["tokens"]:
    if t.get("bytes") != [0xC3 if t["id"] == 127 else 0xA9]:
        print("FAIL: token without its bytes field:", t); sys.exit(1)
print(len(chunks), "chunks")
PY
# one token C3 alone: flushed at the end as U+FFFD (EF BF BD)
H=$("$BIN" generate -m "$MODEL" -n 1 --logit-bias 127=100 "x" | od -An -tx1 | tr -d ' \n')
[ "$H" = "efbfbd" ] || { echo "FAIL: unfinished character flushed as '$H', want efbfbd"; exit 1; }
echo ok
