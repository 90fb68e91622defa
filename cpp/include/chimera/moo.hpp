// Multi-objective kernels (Layer 7): non-dominated sorting, crowding distance, and the
// reference-point niching of NSGA-III. Objectives are minimised, rows are points.
// docs/kernels.md is the contract the Numba (and CUDA) twins follow.
#pragma once

#include <cstddef>
#include <cstdint>

namespace chimera::moo {

// Writes the 0-based Pareto front of each of the n rows of F (n x m) into rank: front 0 is
// the non-dominated rows, front k+1 those dominated only by rows of fronts <= k. Exact on ties;
// duplicate rows share a front. O(n log n) for m <= 3, ENS with binary search for m > 3.
void pareto_rank(const double* F, std::size_t n, std::size_t m, std::int32_t* rank);

// Crowding distance (Deb et al. 2002) of each row within its front: per objective, the front
// sorted by value (ties by row), +inf at both ends, otherwise the gap between neighbours over
// the front's range, summed over objectives in order. Fronts of one or two rows are all +inf.
void crowding_distance(const double* F, std::size_t n, std::size_t m, const std::int32_t* rank,
                       double* out);

// For each of the n normalised rows of F (n x m), the nearest of the h reference directions W
// (h x m) by perpendicular distance to its line through the origin (ties to the lower index).
void associate(const double* F, std::size_t n, std::size_t m, const double* W, std::size_t h,
               std::int32_t* ref, double* dist);

// NSGA-III niching (Deb & Jain 2014): chooses k of the c candidates (the split front), each
// associated to reference ref[i] at distance dist[i], given the niche counts of the h
// references among the members already kept. Writes the chosen candidate indices in the order
// chosen. Draws from Stream(seed, generation, 0, kNiche).
void niche_select(const std::int32_t* niche_count, std::size_t h, const std::int32_t* ref,
                  const double* dist, std::size_t c, std::size_t k, std::uint64_t seed,
                  std::uint32_t generation, std::int32_t* chosen);

}  // namespace chimera::moo
