// Evolution-strategy kernels: the standard normal samples of a generation.
//
// Row i of a generation's samples is Stream(seed, generation, i, kSample) drawn normal() by
// normal(), so a row does not depend on how many rows there are or on the thread count: a
// mirrored or a resized population reuses the same rows, and every backend draws the same
// numbers (docs/kernels.md).
#pragma once

#include <cstddef>
#include <cstdint>

#include "chimera/rng.hpp"

namespace chimera::es {

// out (rows, cols), row-major: row i from Stream(seed, generation, i, purpose).
void standard_normal(double* out, std::size_t rows, std::size_t cols, std::uint64_t seed,
                     std::uint32_t generation, std::uint32_t purpose);

}  // namespace chimera::es
