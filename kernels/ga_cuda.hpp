// Host-side interface of the CUDA GA kernels in ga.cu: plain C++, so that the pybind11 module
// (bindings/cuda_ga.cpp) compiles with the host compiler and never sees a CUDA header.
// Everything here follows docs/kernels.md draw for draw, like the OpenMP drivers in
// cpp/src/ga.cpp; every CUDA failure is thrown as chimera::cuda::Error (runtime.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "chimera/operators.hpp"
#include "runtime.hpp"

namespace chimera::cuda {

// The launchers, for T = double, float, std::int32_t and std::uint8_t (bool genomes). Shapes and
// meanings as in chimera/ga.hpp. They block until the kernels are done.
//
// *_device: every pointer (including cfg.mutation_cdf) is CUDA device memory on the current
// device, e.g. the buffers of CuPy arrays.
template <class T>
void init_uniform_device(T* out, std::size_t n, std::size_t d, const double* low,
                         const double* high, std::uint64_t seed);

template <class T>
void breed_device(const T* X, const double* f, std::size_t n, std::size_t d, const double* low,
                  const double* high, T* out, std::int32_t* parents, std::size_t m,
                  const ga::BreedConfig& cfg);

// *_host: every pointer (including cfg.mutation_cdf) is host memory; the inputs are copied to
// the current device, the kernels run there and the outputs are copied back.
template <class T>
void init_uniform_host(T* out, std::size_t n, std::size_t d, const double* low,
                       const double* high, std::uint64_t seed);

template <class T>
void breed_host(const T* X, const double* f, std::size_t n, std::size_t d, const double* low,
                const double* high, T* out, std::int32_t* parents, std::size_t m,
                const ga::BreedConfig& cfg);

}  // namespace chimera::cuda
