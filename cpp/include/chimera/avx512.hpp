// AVX-512 twins of the hottest words and normals, chosen at run time beside avx2.hpp's: eight
// 64-bit lanes where AVX2 has four. Each gives exactly the words and doubles of its baseline
// version (integer Philox; the same IEEE operations in the same order, no FMA). Defined in
// cpp/src/avx512.cpp with target attributes, as avx2.cpp is.
#pragma once

#include <cstddef>
#include <cstdint>

#include "chimera/rng.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CHIMERA_AVX512 1

namespace chimera::avx512 {

// Whether this CPU runs AVX-512 F (asked once).
bool supported();

// Philox blocks ctr, ctr + 1, ... (counter word 0) into out[4 * blocks]: 32 at a time in four
// chains of eight 64-bit lanes, then eight in one chain, the rest (fewer than eight) one by one.
void philox_blocks(rng::Block ctr, rng::Key key, std::uint32_t* out, std::size_t blocks);

}  // namespace chimera::avx512
#endif
