# Sourced by CLI tests (not a test itself: ctest runs only *.sh) after setting BIN, REPO and
# T (a temp dir). Defines make_checkpoint DIR [OPTIONS] (runs tests/tools/make_test_checkpoint:
# a deterministic random-weight GPT-2 checkpoint, options --layers --heads --embd --positions
# --vocab --prefix --seed) and sets MODEL: $GPT2_TEST_MODEL (ctest points it at the model the
# build wrote), else the tool's default model written into $T/model: GPT-2's full vocabulary
# (the committed fixtures have 96 tokens), 1 layer, 2 heads, width 16, context 64.
# The tool is $GPT2_MAKE_TEST_CHECKPOINT (set by ctest), else ../tests/make_test_checkpoint
# from the gpt2 binary (BUILD/app/gpt2), so `bash script GPT2_BIN SOURCE_DIR` works alone.
make_checkpoint() {
  local tool=${GPT2_MAKE_TEST_CHECKPOINT:-$(dirname "$BIN")/../tests/make_test_checkpoint}
  [ -x "$tool" ] || { echo "FAIL: no test checkpoint tool at $tool (build the tests)"; exit 1; }
  local dir=$1; shift
  "$tool" --out "$dir" "$@" || { echo "FAIL: cannot write the test checkpoint $dir"; exit 1; }
}
MODEL=${GPT2_TEST_MODEL:-}
if [ -z "$MODEL" ]; then
  MODEL=$T/model
  make_checkpoint "$MODEL"
fi
