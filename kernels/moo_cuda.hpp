// Host-side interface of the CUDA multi-objective kernels in moo.cu: plain C++, like
// ga_cuda.hpp. Every pointer is CUDA device memory on the current device; every call blocks
// until its kernels are done. Results equal chimera::moo's (docs/kernels.md): the same fronts,
// and crowding distances and associations bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime.hpp"

namespace chimera::cuda::moo {

// Fronts by counting dominators: one O(n^2 m) pass counts each row's dominators, then front
// k+1 is the rows whose count drops to zero once front k's members are subtracted. Exact (only
// comparisons), and no slower than one more pass in total. At most kMaxObjectives objectives.
void pareto_rank(const double* F, std::size_t n, std::size_t m, std::int32_t* rank);

// Per objective, rows sorted by value (radix sort, stable) then stably by front, so each front
// is contiguous and in the C++ order; one thread per sorted position adds its gap.
void crowding_distance(const double* F, std::size_t n, std::size_t m, const std::int32_t* rank,
                       double* out);

// One thread per row, scanning the h directions in order (W read through the cache).
void associate(const double* F, std::size_t n, std::size_t m, const double* W, std::size_t h,
               std::int32_t* ref, double* dist);

// Checks the bindings cannot make on device memory without copying it back.
bool any_nan(const double* x, std::size_t count);
// Whether every x[i] lies in [low, high).
bool all_within(const std::int32_t* x, std::size_t count, std::int32_t low, std::int32_t high);

// A shared-memory tile must hold one row of F.
constexpr std::size_t kMaxObjectives = 4096;

}  // namespace chimera::cuda::moo
