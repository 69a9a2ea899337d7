#!/usr/bin/env bash
# models/model_impl.h is the inside of the models library (Model::Impl, the loaded weights):
# only models/ includes it. Everything above it uses the public headers (models/model.h,
# models/tensors.h for the list of tensors), so this fails when a file elsewhere includes it.
set -u
REPO=$2
cd "$REPO" || { echo "FAIL: no source tree at $REPO"; exit 1; }
bad=$(grep -rlE '#include +"models/model_impl\.h"' --include='*.cpp' --include='*.h' \
        app server generation training sampling tokenizer core tests 2>/dev/null)
[ -z "$bad" ] || { echo "FAIL: models/model_impl.h included outside models/:"; echo "$bad"; exit 1; }
[ -f models/model_impl.h ] || { echo "FAIL: models/model_impl.h is gone: update this test"; exit 1; }
echo ok
