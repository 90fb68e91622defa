// Evolution-strategy kernels: the standard normal samples of a generation.
//
// Normal j of row i is the ziggurat normal (variates.hpp) whose first candidate is word j of
// Stream(seed, generation, i, purpose); the 1.2% of candidates the ziggurat rejects draw their
// further words, in order of j, from the same stream started at block 2^31 (the row's tail
// stream). Words are drawn in bulk (SIMD Philox) and most normals cost a table read and a
// multiply, where Box-Muller's log, sqrt, sin and cos per pair cost about ten times more. A row
// does not depend on how many rows there are or on the thread count: a mirrored or a resized
// population reuses the same rows, and every backend draws the same numbers (docs/kernels.md).
#pragma once

#include <cstddef>
#include <cstdint>

#include "chimera/rng.hpp"

namespace chimera::es {

// The tail stream's first block (its counter word zero): rows are far shorter than 2^33.
constexpr std::uint32_t kTailBlock = 1u << 31;

// out (rows, cols), row-major: row i from Stream(seed, generation, i, purpose). The same doubles
// by the AVX-512 and AVX2 loops (where the CPU has them, up to simd: 2 AVX-512, 1 AVX2 at most,
// 0 the baseline) or the baseline ones.
void standard_normal(double* out, std::size_t rows, std::size_t cols, std::uint64_t seed,
                     std::uint32_t generation, std::uint32_t purpose, int simd = 2);

// A box [low, high] with quadratic margins al, au (per coordinate, each at most half the
// span): out (rows, cols) holds T(mean + sigma * Y) gene by gene, where T is the identity on
// [low + al, high - au] and elsewhere reflects g into one period [low - al, high + au] and
// bends it quadratically within al (au) of the bound, a C^1 map of the line onto the box
// (strategies/bounds.py; docs/kernels.md gives each operation).
void box_transform(double* out, const double* Y, std::size_t rows, std::size_t cols,
                   const double* mean, double sigma, const double* low, const double* high,
                   const double* al, const double* au);

}  // namespace chimera::es
