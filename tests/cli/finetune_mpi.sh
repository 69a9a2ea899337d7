#!/usr/bin/env bash
# gpt2 finetune under mpirun (data-parallel, training/distributed.h), 1 thread a rank, on the
# tiny test model: -np 2 and -np 3 write the bytes one process writes (checkpoint, optimizer
# state, log.tsv but tokens_per_s), for SFT with several rounds a step and for DPO; only rank 0
# writes and prints; a batch the ranks do not divide is exit 2; a data file one rank cannot
# read is exit 2 on every rank before training; Ctrl-C (SIGINT to mpirun) saves one checkpoint
# and exits 130, and --resume under mpirun ends with the uninterrupted run's bytes; SIGINT to
# mpirun: one save, every rank exits 130 (mpirun itself 1); a rank that dies stops the others
# (non-zero, one gpt2 line naming it) without a hang.
# A build without MPI: `gpt2 --version` says so and a process started by mpirun is refused.
set -u
BIN=$1; REPO=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
source "$REPO/tests/cli/test_model.bash"  # sets MODEL
D=$REPO/tests/data/finetune
export OPENBLAS_NUM_THREADS=1
# The sanitizer build: no leak check in this test. Open MPI keeps allocations past
# MPI_Finalize in components it has dlclose'd by exit, so LeakSanitizer reports them from
# "<unknown module>" and no suppression can name them; gpt2's own leaks are checked by the
# finetune tests that run without mpirun, and ASan's other checks stay on here.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

ver=$("$BIN" --version | grep '^mpi: ') || { echo "FAIL: --version has no mpi line"; exit 1; }
if [[ $ver == "mpi: no"* ]]; then
  OMPI_COMM_WORLD_SIZE=2 "$BIN" finetune -m "$MODEL" --data "$D/pairs.jsonl" -o "$T/x" 2> "$T/e"
  rc=$?
  [ "$rc" = 1 ] && grep -q "built without MPI" "$T/e" || { echo "FAIL: no-MPI build under mpirun: exit $rc"; cat "$T/e"; exit 1; }
  echo "ok (built without MPI)"; exit 0
fi
command -v mpirun > /dev/null || { echo "FAIL: gpt2 has MPI ($ver) but mpirun is not installed (scripts/setup)"; exit 1; }
MPI=(mpirun --oversubscribe --allow-run-as-root --mca btl self,vader --bind-to none)

same() {  # same DIR_A DIR_B WHAT: model, optimizer state and log (but tokens_per_s) equal
  cmp -s "$1/model.safetensors" "$2/model.safetensors" || { echo "FAIL: $3: model.safetensors differs"; exit 1; }
  cmp -s "$1/optimizer.safetensors" "$2/optimizer.safetensors" || { echo "FAIL: $3: optimizer.safetensors differs"; exit 1; }
  [ "$(cut -f1-4,6- "$1/log.tsv")" = "$(cut -f1-4,6- "$2/log.tsv")" ] ||
    { echo "FAIL: $3: log.tsv differs"; diff <(cut -f1-4,6- "$1/log.tsv") <(cut -f1-4,6- "$2/log.tsv"); exit 1; }
}

# SFT: 6 micro-batches a step = 3 rounds of 2 ranks, 2 rounds of 3; validation shared out
base=(-m "$MODEL" --val "$D/pairs-val.jsonl" --context 24 --micro-batch 1 --lr 3e-2 --seed 3
      --val-batches 2 --eval-every 3 -t 1)
opts=("${base[@]}" --batch 6 --data "$D/pairs.jsonl" --steps 6)
"$BIN" finetune "${opts[@]}" -o "$T/one" 2> "$T/one.err" || { echo "FAIL: one process"; cat "$T/one.err"; exit 1; }
for np in 2 3; do
  "${MPI[@]}" -np $np "$BIN" finetune "${opts[@]}" -o "$T/np$np" > "$T/np$np.out" 2> "$T/np$np.err" ||
    { echo "FAIL: -np $np"; cat "$T/np$np.err"; exit 1; }
  same "$T/one" "$T/np$np" "-np $np"
  [ ! -s "$T/np$np.out" ] && [ ! -s "$T/np$np.err" ] || { echo "FAIL: -np $np not quiet:"; cat "$T/np$np.out" "$T/np$np.err"; exit 1; }
done

# DPO: 2 pairs a step on 2 ranks
dpo=(-m "$MODEL" --method dpo --data "$D/prefs.jsonl" --steps 2 --context 24 --micro-batch 1
     --batch 2 --lr 1e-2 --seed 1 -t 1)
"$BIN" finetune "${dpo[@]}" -o "$T/dpo1" 2> "$T/e" || { echo "FAIL: dpo, one process"; cat "$T/e"; exit 1; }
"${MPI[@]}" -np 2 "$BIN" finetune "${dpo[@]}" -o "$T/dpo2" 2> "$T/e" || { echo "FAIL: dpo -np 2"; cat "$T/e"; exit 1; }
same "$T/dpo1" "$T/dpo2" "dpo -np 2"

# a batch the ranks do not divide: exit 2, said once
"${MPI[@]}" -np 2 "$BIN" finetune "${base[@]}" --data "$D/pairs.jsonl" --steps 6 --batch 3 -o "$T/bad" > /dev/null 2> "$T/e"; rc=$?
[ "$rc" = 2 ] && [ "$(grep -c 'error: --batch 3 must be a multiple of --micro-batch 1 × 2 ranks = 2 (every' "$T/e")" = 1 ] ||
  { echo "FAIL: --batch 3 on 2 ranks: exit $rc"; cat "$T/e"; exit 1; }

# rank 1 cannot read the data: exit 2 on every rank before any step, rank 1 named, no OUTDIR rows
"${MPI[@]}" -np 1 "$BIN" finetune "${opts[@]}" -o "$T/half" : \
            -np 1 "$BIN" finetune "${base[@]}" --batch 6 --data "$T/missing.jsonl" --steps 6 -o "$T/half" > /dev/null 2> "$T/e"; rc=$?
[ "$rc" = 2 ] && grep -q "^gpt2: error: rank 1: .*missing.jsonl" "$T/e" ||
  { echo "FAIL: data missing on rank 1: exit $rc"; cat "$T/e"; exit 1; }
[ "$(grep -c '^gpt2: error' "$T/e")" = 1 ] || { echo "FAIL: data missing on rank 1: not one line"; cat "$T/e"; exit 1; }
[ ! -e "$T/half/trainer_state.json" ] || { echo "FAIL: a checkpoint after a failed start"; exit 1; }

# SIGUSR1 to mpirun (passed on to the ranks as it is): the ranks agree on the step, rank 0
# saves it once, exit 130; --resume on 3 ranks ends with the one process's bytes.
# Ctrl-C (SIGINT to mpirun, which sends the ranks SIGTERM after its odls_base_sigkill_timeout
# and SIGKILL after another — 5 s here, time for a loaded machine): one save too, every rank
# exits 130; mpirun itself then exits 1.
long=("${base[@]}" --batch 6 --data "$D/pairs.jsonl" --steps 60)
forever=("${base[@]}" --batch 6 --data "$D/pairs.jsonl" --steps 100000)
"$BIN" finetune "${long[@]}" -o "$T/full" 2> "$T/e" || { echo "FAIL: the long run"; cat "$T/e"; exit 1; }
interrupt() {  # interrupt SIGNAL DIR OPTIONS…: the run stopped after its 3rd step; sets rc, saved
  local sig=$1 dir=$2; shift 2
  local wrap=()
  # SIGINT: each rank's own exit code in DIR.rank.R, through a shell that ignores the SIGTERM
  # mpirun sends the rank's process group (mpirun passes SIGUSR1 to the shell alone)
  [ "$sig" = INT ] && wrap=(sh -c 'trap "" TERM; "$0" "$@"; echo $? > "$RC_DIR.rank.$OMPI_COMM_WORLD_RANK"')
  export RC_DIR=$dir
  "${MPI[@]}" --mca odls_base_sigkill_timeout 5 -np 2 "${wrap[@]}" "$BIN" finetune "$@" -o "$dir" > /dev/null 2> "$dir.err" &
  local pid=$!
  for _ in $(seq 1 600); do
    [ "$(cat "$dir/log.tsv" 2>/dev/null | wc -l)" -ge 4 ] && break
    sleep 0.05
  done
  kill -"$sig" "$pid"
  wait "$pid"; rc=$?
  [ "$(grep -c 'interrupted; step [0-9]* saved' "$dir.err")" = 1 ] || { echo "FAIL: SIG$sig: not one save message"; cat "$dir.err"; exit 1; }
  saved=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["step"])' "$dir/trainer_state.json")
  [ "$saved" -ge 3 ] || { echo "FAIL: SIG$sig: saved step $saved"; exit 1; }
}
interrupt USR1 "$T/usr1" "${long[@]}"
[ "$rc" = 130 ] && [ "$saved" -lt 60 ] || { echo "FAIL: SIGUSR1 to mpirun: exit $rc, step $saved"; cat "$T/usr1.err"; exit 1; }
"${MPI[@]}" -np 3 "$BIN" finetune --resume "$T/usr1" -t 1 2> "$T/e" || { echo "FAIL: --resume -np 3"; cat "$T/e"; exit 1; }
same "$T/full" "$T/usr1" "interrupted at step $saved, resumed on 3 ranks"
interrupt INT "$T/int" "${forever[@]}"
# mpirun's own exit status after a SIGINT is 1 whatever the ranks return (Open MPI 4.1 sets it
# before stopping them); the ranks themselves saved once and exited 130
[ "$rc" = 1 ] || { echo "FAIL: SIGINT to mpirun: exit $rc"; cat "$T/int.err"; exit 1; }
[ "$(cat "$T/int.rank.0" "$T/int.rank.1" 2>/dev/null | tr '\n' ' ')" = "130 130 " ] ||
  { echo "FAIL: SIGINT to mpirun: the ranks exited $(cat "$T"/int.rank.* 2>/dev/null | tr '\n' ' ') (want 130 130)"; exit 1; }

# a rank that dies (killed by its CPU-time limit) stops the others: non-zero, rank 1 named
"${MPI[@]}" -np 1 "$BIN" finetune "${forever[@]}" -o "$T/dead" : \
            -np 1 bash -c 'ulimit -t 1; exec "$0" "$@"' "$BIN" finetune "${forever[@]}" -o "$T/dead" \
  > /dev/null 2> "$T/e" & pid=$!
( timeout 120 tail --pid=$pid -f /dev/null ) || { kill -9 $pid; echo "FAIL: a dead rank hangs the run"; exit 1; }
wait $pid; rc=$?
[ "$rc" != 0 ] && [ "$(grep -c '^gpt2: error: rank 1 (pid [0-9]* on .*) ended while the run was going on' "$T/e")" = 1 ] &&
  [ "$(grep -c '^gpt2: error' "$T/e")" = 1 ] || { echo "FAIL: a dead rank: exit $rc, not one line naming rank 1"; cat "$T/e"; exit 1; }
echo ok
