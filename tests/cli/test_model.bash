# Sourced by CLI tests (not a test itself: ctest runs only *.sh) after setting BIN, REPO and
# T (a temp dir). Sets MODEL: $GPT2_TEST_MODEL, else a small random checkpoint with GPT-2's
# full vocabulary written by generate_model.py (the committed fixtures have a 96-token
# vocabulary). Exits 77 (skip) without numpy.
MODEL=${GPT2_TEST_MODEL:-}
if [ -z "$MODEL" ]; then
  /usr/bin/python3 -c 'import numpy' 2>/dev/null || { echo "skip: numpy missing"; exit 77; }
  MODEL=$T/model
  /usr/bin/python3 "$REPO/tests/cli/generate_model.py" "$MODEL" || { echo "FAIL: cannot write the test model"; exit 1; }
fi
