// Whole-population genetic operators: one call breeds a generation of offspring.
// Each offspring pair draws from its own Philox streams (rng.hpp), so the loop over pairs is
// embarrassingly parallel and its result does not depend on the thread count. The per-pair
// work lives in operators.hpp, shared with the CUDA kernels; docs/kernels.md is the contract.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "chimera/operators.hpp"

namespace chimera::ga {

// Fills out (n x d) with uniform genomes in [low, high] (integers inclusive; booleans fair coins).
template <class T>
void init_uniform(T* out, std::size_t n, std::size_t d, const double* low, const double* high,
                  std::uint64_t seed);

// Breeds m offspring from parents X (n x d) with fitness f (minimised) into out (m x d) and
// writes each child's (primary, secondary) parent rows into parents (m x 2).
template <class T>
void breed(const T* X, const double* f, std::size_t n, std::size_t d, const double* low,
           const double* high, T* out, std::int32_t* parents, std::size_t m,
           const BreedConfig& cfg);

// Stochastic universal sampling (Baker 1987) of count parent slots: sequential by definition,
// shared by the host and CUDA drivers.
void sus_slots(const double* f, std::size_t n, std::int32_t* slots, std::size_t count,
               const BreedConfig& cfg);

// Number of OpenMP threads kernels use (1 when built without OpenMP).
int num_threads();
void set_num_threads(int n);

}  // namespace chimera::ga
