#!/usr/bin/env bash
# Builds llama-cpp-python once into a wheelhouse, as a portable CPU build, and prints the wheelhouse path.
#
# Why not a plain `pip install llama-cpp-python`: it compiles llama.cpp with -march=native, and on CPUs that
# advertise AMX (Sapphire Rapids and later) ggml then uses AMX tile instructions, which many virtual
# machines fault on (SIGILL on the first generation). This build targets AVX2/FMA/F16C — every x86-64 CPU
# of the last decade — with no AVX-512 and no AMX, so the same wheel runs on the build host, in CI and in
# the Docker image wherever it is deployed (docs/benchmarks.md: tokens/s of this build).
# pip's own wheel cache is keyed by the source, not by these flags, so the wheel lives in a wheelhouse
# whose name carries the flags: a later install (or a fresh clone on the same machine) reuses it.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VERSION="$(sed -n 's/.*"llama-cpp-python\[server\]==\([0-9.]*\)".*/\1/p' pyproject.toml)"
[ -n "$VERSION" ] || { echo "llama-cpp-python is not pinned in pyproject.toml" >&2; exit 1; }
CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF"
CMAKE_ARGS+=" -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF"
KEY="$(printf '%s %s' "$VERSION" "$CMAKE_ARGS" | sha256sum | cut -c1-12)"
WHEELHOUSE="${NOOBLE4_WHEELHOUSE:-${XDG_CACHE_HOME:-$HOME/.cache}/nooble4/wheels}/llama-$VERSION-portable-$KEY"

if ! ls "$WHEELHOUSE"/llama_cpp_python-"$VERSION"-*.whl >/dev/null 2>&1; then
  echo "building llama-cpp-python $VERSION (portable AVX2 build; about 10-15 minutes on 2 cores, once)" >&2
  mkdir -p "$WHEELHOUSE.tmp"
  CMAKE_ARGS="$CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
    "$PYTHON" -m pip wheel --quiet --no-deps --no-cache-dir --wheel-dir "$WHEELHOUSE.tmp" \
    "llama-cpp-python==$VERSION" >&2
  rm -rf "$WHEELHOUSE" && mv "$WHEELHOUSE.tmp" "$WHEELHOUSE"
fi
echo "$WHEELHOUSE"
