#!/usr/bin/env bash
# Build chimera with CUDA on a GPU machine, hold the CUDA kernels to the C++ ones, check them
# under compute-sanitizer, and run the GPU benchmark. Logs and JSON go to ${OUT:-gpu-check}/.
#
#   bash scripts/gpu_check.sh            # needs nvcc, a GPU, CuPy, and the test/bench extras
#
# On a machine with no package index, put the missing wheels in .whl/ first: they are
# installed into /tmp/site and put on PYTHONPATH.
set -uo pipefail
out=${OUT:-gpu-check}
mkdir -p "$out"
py=${PYTHON:-python3}
if compgen -G ".whl/*.whl" >/dev/null; then
  $py -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.mem --format=csv
nvcc --version | tail -2

echo "== build (CUDA, sm_${CUDA_ARCH:-90}, warnings as errors)"
t0=$(date +%s)
CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) $py -m pip install -q --no-build-isolation --no-deps . \
  -Cbuild-dir=/tmp/chimera-build -Ccmake.define.CHIMERA_ENABLE_CUDA=ON \
  -Ccmake.define.CHIMERA_WERROR=ON -Ccmake.define.CMAKE_CUDA_ARCHITECTURES="${CUDA_ARCH:-90}" \
  >"$out/build.log" 2>&1 || { tail -40 "$out/build.log"; exit 1; }
echo "built in $(( $(date +%s) - t0 )) s"
$py -c "import chimera; print({k: (v.available, v.reason) for k, v in chimera.backends().items()})"

echo "== CUDA tests"
$py -m pytest -q -p no:cacheprovider -m cuda tests/test_cuda_backend.py tests/test_cuda_moo.py \
  2>&1 | tee "$out/pytest_cuda.log" | tail -25

echo "== compute-sanitizer (memcheck, racecheck) on the multi-objective kernels"
cat >/tmp/sanitize_moo.py <<'PY'
import numpy as np
from chimera import _cuda
rng = np.random.default_rng(0)
for n, m in ((700, 2), (700, 3), (300, 11), (2, 5), (1, 1)):
    F = rng.integers(0, 4, (n, m)).astype(float)
    rank = np.empty(n, np.int32)
    _cuda.moo.pareto_rank(F, rank)
    out = np.empty(n)
    _cuda.moo.crowding_distance(F, rank, out)
    W = np.abs(rng.normal(size=(20, m)))
    ref, dist = np.empty(n, np.int32), np.empty(n)
    _cuda.moo.associate(F, W, ref, dist)
print("sanitized run finished")
PY
for tool in memcheck racecheck; do
  compute-sanitizer --tool $tool --error-exitcode 9 $py /tmp/sanitize_moo.py \
    >"$out/sanitizer_$tool.log" 2>&1
  echo "$tool: exit $? ($(tail -1 "$out/sanitizer_$tool.log"))"
done

echo "== benchmark"
PYTHONUNBUFFERED=1 $py benchmarks/bench_gpu.py --json "$out/bench_gpu.json" 2>&1 | tee "$out/bench_gpu.log"
