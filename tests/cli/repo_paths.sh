#!/usr/bin/env bash
# The repository names no location of one machine and no file beside the checkout: a peer's
# location (a llama.cpp or llm.c build, a corpus, a work folder) is an argument or an
# environment variable of the script that needs it. This test fails when a file of the
# repository (tracked, or new and not ignored: `git ls-files --cached --others
# --exclude-standard` in the source dir; text files only) contains
#   - an absolute path in a build machine's own folders: the top-level folder names in
#     GPT2_MACHINE_DIRS (default "work home root": the work, home and root folders). A path
#     starts where the preceding character cannot be part of a path or URL, so the path of a
#     URL (https://host/DIR/..., file:///DIR/...) is not matched;
#   - a fixed path in the temporary folder (GPT2_TMP_DIR, default "tmp"): /DIR/NAME..., unless
#     that path component is a mkstemp/mktemp template (contains XXXXXX), which names no fixed
#     location; $TMPDIR/NAME is the way;
#   - the folder beside the checkout (GPT2_BESIDE_DIR, default "shared"): ../DIR, or a
#     computed `...)/DIR` / `}/DIR` ($(dirname "$REPO")/DIR/...).
# The folder names are words here, never written as paths, so this file holds no path either.
# Exempt: tests/data/tokenizer-cases/*.jsonl (the texts of the tokenizer cases quote Debian's
# documentation, which names a user's home folder: data, not a location anything reads).
# Self-check first: the rules must report each kind of path in a probe file (in a temporary
# folder) and spare the allowed forms, or the test fails.
set -u
REPO=$2
read -r -a machine_dirs <<< "${GPT2_MACHINE_DIRS:-work home root}"
tmp=${GPT2_TMP_DIR:-tmp}
beside=${GPT2_BESIDE_DIR:-shared}
fail=0
bad() { echo "FAIL $*"; fail=1; }

git -C "$REPO" rev-parse --is-inside-work-tree > /dev/null 2>&1 ||
  { echo "FAIL $REPO is not a git checkout: cannot list its files"; exit 1; }

# A path starts at the beginning of a line or after a character that cannot be inside a path
# or a URL (letters, digits, _ . - ~ / $ } are such characters).
start='(^|[^A-Za-z0-9_.~/$}-])'
dirs=$(IFS='|'; echo "${machine_dirs[*]}")
pattern="$start(/($dirs)/[^[:space:]\"'\`)]*|/$tmp/[A-Za-z0-9_][^[:space:]\"'\`)]*)|(\\.\\.|\\)|\\})/$beside([^A-Za-z0-9_]|\$)"

# hits DIR: reads NUL-separated file names (relative to DIR) on stdin, prints FILE:LINE:MATCH
# for every offending match in them
hits() {
  (cd "$1" && xargs -0 -r grep -sIonE -- "$pattern") |
    while IFS= read -r hit; do
      m=${hit#*:*:}
      # a mktemp template names no fixed location
      if [[ $m == */"$tmp"/* ]]; then
        comp=${m#*/"$tmp"/}; comp=${comp%%/*}
        [[ $comp == *XXXXXX* ]] && continue
      fi
      printf '%s\n' "$hit"
    done
}

# --- self-check: the rules catch each kind, and spare the allowed forms ----------------------
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
check() {  # check WANT TEXT: WANT = hit | clean
  local want=$1 text=$2 got
  printf '%s\n' "$text" > "$T/probe"
  got=$(printf 'probe\0' | hits "$T")
  if [[ $want == hit && -z $got ]]; then bad "[self-check] not reported: $text"
  elif [[ $want == clean && -n $got ]]; then bad "[self-check] reported: $got"
  else echo "ok   [self-check] $want: $text"; fi
}
for d in "${machine_dirs[@]}"; do
  check hit   "default: /$d/scratch/llama/build/bin/llama-server"
  check hit   "cd /$d/user/src && make"
  check hit   "open(\"/$d/data.txt\")"
  check clean "see https://example.com/$d/page and file:///$d/foo"
  check clean "the \$TMPDIR/gpt2-bench folder, or \$HOME/models, or ~/$d/x"
done
check hit   "MODEL=/$tmp/gpt2-bench/gpt2-124m"
check hit   "(\`/$tmp/sftd2\`)"
check hit   "corpus=\"\$here/../../$beside/data/tinyshakespeare/input.txt\""
check hit   "DATA=\$(dirname \"\$REPO\")/$beside/data/input.txt"
check hit   "see ../$beside"
check clean "char d[] = \"/$tmp/gpt2-output-XXXXXX\";"
check clean "WORK=\$(mktemp -d \"\${TMPDIR:-/$tmp}/bench-train.XXXXXX\")"
check clean "std::shared_ptr<int> p; a $beside/ folder inside the repository, ../${beside}_things"

# --- the repository ------------------------------------------------------------------------
found=$(cd "$REPO" && git ls-files -z --cached --others --exclude-standard |
          grep -zv -e '^tests/data/tokenizer-cases/.*\.jsonl$' | hits "$REPO")
if [[ -n $found ]]; then
  bad "files name a location outside the repository (make it an argument or an environment variable):"
  printf '%s\n' "$found" | cut -c1-200
else
  echo "ok   no machine path and no ../$beside in $(cd "$REPO" && git ls-files | wc -l) files"
fi
exit $fail
