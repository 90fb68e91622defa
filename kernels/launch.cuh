// Device-side helpers shared by the .cu files: error checks that throw chimera::cuda::Error,
// grid sizes, and grid-stride indices. Every kernel runs on the legacy default stream.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <string>

#include "runtime.hpp"

namespace chimera::cuda::detail {

constexpr unsigned kThreads = 256;
constexpr std::size_t kMaxBlocks = std::size_t{1} << 20;  // the kernels loop grid-stride beyond

inline std::string describe(cudaError_t err) {
  return std::string(cudaGetErrorString(err)) + " (" + cudaGetErrorName(err) + ")";
}

inline void check(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return;
  (void)cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  throw Error(std::string(what) + ": " + describe(err));
}

// After a launch: configuration errors now, execution errors at the final synchronize.
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

inline void synchronize() { check(cudaStreamSynchronize(0), "cudaStreamSynchronize"); }

inline unsigned blocks_for(std::size_t count, unsigned threads) {
  const std::size_t b = (count + threads - 1) / threads;
  return static_cast<unsigned>(std::min(std::max<std::size_t>(b, 1), kMaxBlocks));
}

__device__ __forceinline__ std::size_t thread_index() {
  return static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}

__device__ __forceinline__ std::size_t thread_stride() {
  return static_cast<std::size_t>(gridDim.x) * blockDim.x;
}

}  // namespace chimera::cuda::detail
