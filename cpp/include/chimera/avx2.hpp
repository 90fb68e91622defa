// AVX2 twins of the Thompson sampler's two hot loops, chosen at run time: wheels target
// baseline x86-64 (SSE2), and most CPUs they run on have AVX2. Each gives exactly the words
// and doubles of its baseline version (integer Philox; the same IEEE operations in the same
// order, no FMA), so a decision never depends on the CPU. Defined in cpp/src/avx2.cpp, whose
// functions carry target("avx2") attributes rather than the whole file an -mavx2 flag: an
// inline function compiled with -mavx2 could be the copy the linker keeps for everyone.
#pragma once

#include <cstddef>
#include <cstdint>

#include "chimera/rng.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CHIMERA_AVX2 1

namespace chimera::avx2 {

// Whether this CPU runs AVX2 (asked once).
bool supported();

// Philox blocks ctr, ctr + 1, ... (counter word 0) into out[4 * blocks]: eight at a time in two
// chains of four 64-bit lanes, then four in one chain, the rest (fewer than four) one by one.
void philox_blocks(rng::Block ctr, rng::Key key, std::uint32_t* out, std::size_t blocks);

// variates::BetaSampler's first pass over n Gammas, four at a time (the ziggurat's table read
// by gathers); slow must hold (n + 63) / 64 zeroed words.
void beta_first_pass(const std::uint32_t* words, std::size_t n, const double* c, const double* d,
                     const double* inv_a, double* gammas, std::uint64_t* slow);

// variates::fast_normals over n words, four at a time; slow must hold (n + 63) / 64 zeroed
// words.
void normal_first_pass(const std::uint32_t* words, std::size_t n, double* out,
                       std::uint64_t* slow);

}  // namespace chimera::avx2
#endif
