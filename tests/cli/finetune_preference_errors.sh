#!/usr/bin/env bash
# Bad input of the preference methods: every case one line on stderr naming the line and the
# field (or the flag), exit 2 (1 for a model of the wrong kind), and nothing written to OUTDIR
# before the data is checked; chosen equal to rejected is a warning with the count.
set -u
BIN=$1; REPO=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
source "$REPO/tests/cli/test_model.bash"  # sets MODEL
cd "$T" || exit 1
printf '%s\n' '{"prompt":"a","chosen":"b","rejected":"c"}' > ok.jsonl
fails=0
expect() {  # expect RC MESSAGE -- ARGS...
  local rc=$1 msg=$2; shift 3
  "$BIN" "$@" > out.txt 2> err.txt; local got=$?
  if [ "$got" != "$rc" ] || [ "$(wc -l < err.txt)" != 1 ] || ! grep -qF -- "$msg" err.txt; then
    echo "FAIL: gpt2 $* -> exit $got (want $rc), stderr:"; cat err.txt; echo "(wanted: $msg)"; fails=1
  fi
}
line() { printf '%s\n' "$1" > "$2"; }
line '{"prompt":"a","chosen":"b"}' e1.jsonl
expect 2 "e1.jsonl:1: missing field 'rejected'" -- finetune -m "$MODEL" --method dpo --data e1.jsonl -o out1 --steps 1
[ ! -e out1 ] || { echo "FAIL: OUTDIR written before the data was checked"; fails=1; }
line '{"prompt":"a","chosen":"","rejected":"c"}' e2.jsonl
expect 2 "e2.jsonl:1: field 'chosen' is empty" -- finetune -m "$MODEL" --method dpo --data e2.jsonl -o o --steps 1
line '{"prompt":"a","chosen":["b"],"rejected":"c"}' e3.jsonl
expect 2 "e3.jsonl:1: field 'chosen' must be a string" -- finetune -m "$MODEL" --method reward --data e3.jsonl -o o --steps 1
line '{"prompt":"a","chosen":"b","rejected":"c","margin":"x"}' e4.jsonl
expect 2 "e4.jsonl:1: field 'margin' must be a finite number, not \"x\"" -- finetune -m "$MODEL" --method reward --data e4.jsonl -o o --steps 1
line '{"prompt":"a","response":"b"}' e5.jsonl
expect 2 "e5.jsonl:1: not a preference pair" -- finetune -m "$MODEL" --method dpo --data e5.jsonl -o o --steps 1
expect 2 "ok.jsonl:1: a preference pair (fields 'chosen'/'rejected')" -- finetune -m "$MODEL" --data ok.jsonl -o o --steps 1
line '{"prompt":[{"role":"user","content":"a"}],"chosen":[{"role":"user","content":"b"}],"rejected":"c"}' e6.jsonl
expect 2 "e6.jsonl:1: field 'chosen' must hold exactly one assistant message" -- finetune -m "$MODEL" --method dpo --data e6.jsonl -o o --steps 1
expect 2 "--beta 0 is out of range (must be > 0)" -- finetune -m "$MODEL" --method dpo --beta 0 --data ok.jsonl -o o --steps 1
expect 2 "--beta -1 is out of range (must be > 0)" -- finetune -m "$MODEL" --method dpo --beta -1 --data ok.jsonl -o o --steps 1
expect 2 "--method ppo: must be 'sft', 'dpo' or 'reward'" -- finetune -m "$MODEL" --method ppo --data ok.jsonl -o o --steps 1
expect 2 "--loss hinge: must be 'sigmoid' or 'ipo'" -- finetune -m "$MODEL" --method dpo --loss hinge --data ok.jsonl -o o --steps 1
expect 2 "--beta is for --method dpo" -- finetune -m "$MODEL" --beta 0.2 --data ok.jsonl -o o --steps 1
expect 2 "--best-of needs --reward-model RM" -- generate -m "$MODEL" --best-of 2 hi
echo '{"prompt":"hi","best_of":2}' | "$BIN" generate -m "$MODEL" --jsonl -n 2 > bo.out 2> err.txt
grep -q '"error":"\\"best_of\\" needs a reward model: give --reward-model RM' bo.out || { echo "FAIL: best_of line without a reward model: $(cat bo.out)"; fails=1; }
expect 2 "--best-of 0 is out of range (must be >= 1)" -- generate -m "$MODEL" --best-of 0 --reward-model x hi
expect 2 "--reward-model needs --best-of N" -- generate -m "$MODEL" --reward-model x hi
expect 2 "--best-of 2 draws its own samples" -- generate -m "$MODEL" --best-of 2 --num-samples 2 --reward-model x hi
expect 1 "is a language model (GPT2LMHeadModel: no score.weight)" -- generate -m "$MODEL" --best-of 2 --reward-model "$MODEL" hi
expect 1 "is a language model (GPT2LMHeadModel: no score.weight)" -- reward -m "$MODEL" hi
expect 2 "cannot open input file 'nope.jsonl': No such file or directory" -- reward -m "$MODEL" --jsonl -f nope.jsonl
expect 2 "--jsonl reads one JSON line per input line: give -f FILE or stdin, not TEXT" -- reward -m "$MODEL" --jsonl hi
# chosen equal to rejected: a warning with the count, the run goes on
printf '%s\n' '{"prompt":"a","chosen":"b","rejected":"b"}' '{"prompt":"a","chosen":"b","rejected":"c"}' > same.jsonl
"$BIN" finetune -m "$MODEL" --method dpo --data same.jsonl --val-fraction 0 -o s --steps 1 2> err.txt ||
  { echo "FAIL: identical pair refused"; cat err.txt; fails=1; }
grep -q "warning: same.jsonl: 1 of 2 pairs have 'chosen' equal to 'rejected'" err.txt || { echo "FAIL: no count warning"; cat err.txt; fails=1; }
[ "$fails" = 0 ] && echo ok
exit "$fails"
