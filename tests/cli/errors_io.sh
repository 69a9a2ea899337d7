#!/usr/bin/env bash
# Output and process-level faults: an --output file that cannot be written (each cause named:
# missing directory, a file where a directory should be, a directory as the file, permission
# denied, a read-only file system, a file that refuses writes), --output to a FIFO and to
# /dev/stdout, stdout closed early, Ctrl-C (SIGINT) during generation, a 10 MB prompt on stdin.
# Permission denied needs a user other than root: run as root, the test runs gpt2 as nobody
# (setpriv); the read-only file system is a read-only bind mount in a private mount namespace
# (unshare -m as root, unshare -rm otherwise).
set -u
BIN=$1; REPO=$2
TINY=$REPO/tests/data/models/tiny      # vocab 96, context 48
T=$(mktemp -d); trap 'rm -rf "$T"; [ -n "${pid:-}" ] && kill -9 "$pid" 2>/dev/null' EXIT
fail=0
bad() { echo "FAIL $*"; fail=1; }

# --- --output to an unwritable path: exit 1, one line naming the path and the cause, no
# partial file ------------------------------------------------------------------------------
out_fails() {  # out_fails LABEL OUT CAUSE [COMMAND PREFIX...]: CAUSE is a fixed string
  local label=$1 out=$2 cause=$3; shift 3
  "$@" "$BIN" inspect-logits -m "$TINY" --prompt-ids "1 2 3" --format npy --output "$out" \
    > "$T/stdout" 2> "$T/err" < /dev/null; local rc=$?
  if [ "$rc" != 1 ] || [ "$(wc -l < "$T/err")" != 1 ] || ! grep -qF -- "cannot write $out: " "$T/err" \
     || ! grep -qF -- "$cause" "$T/err" || [ -s "$T/stdout" ]; then
    bad "[--output $label] exit $rc: $(head -c 300 "$T/err") (want '$cause')"
  else
    echo "ok   [--output $label] $(cat "$T/err")"
  fi
}
: > "$T/file"
out_fails "missing directory" "$T/no/such/dir/x.npy" "directory '$T/no' does not exist"
[ -e "$T/no" ] && bad "[--output] created a directory"
out_fails "a file as directory" "$T/file/x.npy" "'$T/file' is not a directory"
out_fails "a directory"       "$T"             "it is a directory"
# /proc takes no new file and /proc/version refuses writes (EIO as root, EACCES otherwise);
# it used to say "No such file or directory"
if [ "$(id -u)" = 0 ]; then want="'/proc' takes no new file and the file itself refuses writes"
else want="Permission denied"; fi
out_fails "/proc/version"     /proc/version    "$want"
out_fails "/proc/new"         /proc/gpt2-test.npy "directory '/proc' does not take new files"
out_fails "/sys (refused)"    /sys/gpt2-test.npy  "cannot create a file in '/sys': Permission denied"
# permission denied by the directory's mode
mkdir -p "$T/locked"
: > "$T/locked/mine.npy"
if [ "$(id -u)" = 0 ]; then
  # as nobody: a copy of gpt2 and the model it can read, a root-owned 0755 directory
  chmod 755 "$T"; cp "$BIN" "$T/gpt2"; cp -r "$TINY" "$T/tiny"; chmod -R a+rX "$T/tiny"
  chown 65534 "$T/locked/mine.npy"
  as_other=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  BIN_SAVED=$BIN; TINY_SAVED=$TINY; BIN=$T/gpt2; TINY=$T/tiny
else
  chmod 555 "$T/locked"
  as_other=(env)
fi
out_fails "permission denied" "$T/locked/x.npy" "cannot create a file in '$T/locked': Permission denied" "${as_other[@]}"
# the directory is locked but the file itself is writable: it is rewritten in place
"${as_other[@]}" "$BIN" inspect-logits -m "$TINY" --prompt-ids "1 2 3" --format npy \
  --output "$T/locked/mine.npy" 2> "$T/err" < /dev/null; rc=$?
if [ $rc != 0 ] || [ "$(head -c 6 "$T/locked/mine.npy" | od -An -c | tr -d ' ')" != "223NUMPY" ]; then
  bad "[--output writable file in a locked directory] exit $rc: $(head -c 300 "$T/err")"
else echo "ok   [--output writable file in a locked directory] rewritten in place"; fi
[ "$(ls "$T/locked")" = mine.npy ] || bad "[--output locked] left files: $(ls "$T/locked")"
[ "$(id -u)" = 0 ] && { BIN=$BIN_SAVED; TINY=$TINY_SAVED; } || chmod 755 "$T/locked"
# read-only file system: a read-only bind mount of $T/ro, seen only by this command
mkdir -p "$T/ro"
if [ "$(id -u)" = 0 ]; then ns=(unshare -m); else ns=(unshare -rm); fi
if "${ns[@]}" true 2> /dev/null; then
  ro() { "${ns[@]}" sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"' sh "$T/ro" "$@"; }
  out_fails "read-only file system" "$T/ro/x.npy" "cannot create a file in '$T/ro': Read-only file system" ro
else
  bad "[--output read-only file system] cannot make a private read-only mount here (${ns[*]} failed): run the tests as root or allow user namespaces"
fi
# the same path, writable: works (so the rows above fail for the right reason)
"$BIN" inspect-logits -m "$TINY" --prompt-ids "1 2 3" --format npy --output "$T/ro/ok.npy" \
  2> "$T/err" < /dev/null || bad "[--output ok.npy] exit $?: $(cat "$T/err")"
[ -s "$T/ro/ok.npy" ] || bad "[--output ok.npy] empty"
# a FIFO and /dev/stdout are written directly, not replaced by a regular file
mkfifo "$T/fifo"
cat "$T/fifo" > "$T/fifo.out" &
"$BIN" inspect-logits -m "$TINY" --prompt-ids "1 2 3" --format json --output "$T/fifo" \
  2> "$T/err" < /dev/null; rc=$?
wait
if [ $rc != 0 ] || [ ! -p "$T/fifo" ] || ! grep -q '"tokens"' "$T/fifo.out"; then
  bad "[--output FIFO] exit $rc, fifo $(stat -c %F "$T/fifo"): $(head -c 300 "$T/err")"
else echo "ok   [--output FIFO] written through the pipe"; fi
"$BIN" inspect-logits -m "$TINY" --prompt-ids "1 2 3" --format json --output /dev/stdout \
  2> "$T/err" < /dev/null | grep -q '"tokens"' || bad "[--output /dev/stdout | grep] $(head -c 300 "$T/err")"

# --- stdout closed early: quiet exit 0 (docs/cli.md), nothing on stderr ---------------------------
"$BIN" generate -m "$TINY" --prompt-ids 1 -n 5000 --ignore-eos --seed 1 2> "$T/err" < /dev/null \
  | head -c 20 > /dev/null
rc=${PIPESTATUS[0]}
if [ "$rc" != 0 ] || [ -s "$T/err" ]; then bad "[generate | head] exit $rc: $(head -c 300 "$T/err")"
else echo "ok   [generate | head -c 20] exit 0, quiet"; fi
head -c 3000000 /dev/zero | tr '\0' 'a' | sed 's/aaaaaaaaaa/hello you /g' > "$T/text"
"$BIN" tokenize -f "$T/text" 2> "$T/err" | head -c 20 > /dev/null
rc=${PIPESTATUS[0]}
if [ "$rc" != 0 ] || [ -s "$T/err" ]; then bad "[tokenize | head] exit $rc: $(head -c 300 "$T/err")"
else echo "ok   [tokenize | head -c 20] exit 0, quiet"; fi
"$BIN" inspect-logits -m "$TINY" --prompt-ids "$(seq -s ' ' 1 40)" --all-positions --full \
  --format json 2> "$T/err" < /dev/null | head -c 20 > /dev/null
rc=${PIPESTATUS[0]}
if [ "$rc" != 0 ] || [ -s "$T/err" ]; then bad "[inspect-logits | head] exit $rc: $(head -c 300 "$T/err")"
else echo "ok   [inspect-logits | head -c 20] exit 0, quiet"; fi

# --- SIGINT during generation: stops, flushes what was produced, exits 130 ---------------
# (started with job control so the background process does not ignore SIGINT)
set -m
"$BIN" generate -m "$TINY" --prompt-ids 1 -n 100000000 --ignore-eos --seed 1 \
  > "$T/gen" 2> "$T/err" < /dev/null &
pid=$!
set +m
for _ in $(seq 1 200); do [ -s "$T/gen" ] && break; sleep 0.05; done
kill -INT "$pid"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then bad "[SIGINT] still running 10 s after SIGINT"; kill -9 "$pid"; fi
wait "$pid"; rc=$?; pid=
if [ "$rc" != 130 ]; then bad "[SIGINT] exit $rc, want 130: $(head -c 300 "$T/err")"
elif [ ! -s "$T/gen" ]; then bad "[SIGINT] nothing flushed"
else echo "ok   [SIGINT] exit 130 after $(wc -c < "$T/gen") bytes; stderr: $(head -c 200 "$T/err")"; fi
[ "$(wc -l < "$T/err")" -le 1 ] || bad "[SIGINT] stderr more than one line: $(head -c 300 "$T/err")"

# --- a 10 MB prompt on stdin -------------------------------------------------------------
# varied words (not one repeated token) so the tokenizer does real work
/usr/bin/python3 - "$T/big" <<'PY'
import random, sys
r = random.Random(8)
words = ["the", "cat", "sat", "on", "a", "mat", "and", "then", "went", "to", "sleep",
         "quietly", "while", "rain", "fell", "outside", "Ünïcödé", "naïve", "42", "1984,"]
out, n = [], 0
while n < 10 * 1024 * 1024:
    w = r.choice(words) + (" " if r.random() < 0.9 else "\n")
    out.append(w); n += len(w.encode())
open(sys.argv[1], "w").write("".join(out)[: 10 * 1024 * 1024])
PY
s=$(date +%s.%N)
count=$("$BIN" tokenize --format count < "$T/big" 2> "$T/err"); rc=$?
e=$(date +%s.%N)
if [ "$rc" != 0 ] || ! [ "${count:-0}" -gt 1000000 ] 2>/dev/null; then bad "[10 MB tokenize count] exit $rc count '$count': $(head -c 300 "$T/err")"
else echo "ok   [10 MB tokenize --format count] $count tokens in $(awk "BEGIN{printf \"%.2f\", $e - $s}") s"; fi
# the full-vocabulary test model (tests/cli/test_model.bash sets MODEL)
. "$REPO/tests/cli/test_model.bash"
for cmd in generate inspect-logits; do
  gen_args=(); [ $cmd = generate ] && gen_args=(-n 3 --seed 1)
  s=$(date +%s.%N)
  "$BIN" $cmd -m "$MODEL" "${gen_args[@]}" < "$T/big" > "$T/out" 2> "$T/err"; rc=$?
  e=$(date +%s.%N)
  if [ "$rc" != 0 ] || [ ! -s "$T/out" ] || [ "$(grep -c . "$T/err")" != 1 ] || ! grep -q "context" "$T/err"; then
    bad "[10 MB $cmd] exit $rc: $(head -c 300 "$T/err")"
  else echo "ok   [10 MB stdin $cmd] $(awk "BEGIN{printf \"%.2f\", $e - $s}") s; $(cat "$T/err")"; fi
done
exit $fail
