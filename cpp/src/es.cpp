#include "chimera/es.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "chimera/avx2.hpp"
#include "chimera/avx512.hpp"
#include "chimera/variates.hpp"

namespace chimera::es {

namespace {
// Below this many draws a parallel region costs more than it saves.
constexpr std::size_t kParallelGrain = 1 << 14;
// Words drawn per bulk refill: a multiple of the SIMD Philox's 32 words, small enough for L1.
constexpr std::size_t kChunk = 512;
// Genes per span of the box transform's identity check: one branch amortised over 64 genes.
constexpr std::size_t kBoxSpan = 64;

// The widest bulk Philox this CPU runs, up to simd (2: AVX-512, 1: AVX2, 0: none).
rng::Stream::BlocksFn bulk_philox(int simd) {
#if defined(CHIMERA_AVX512)
  if (simd >= 2 && avx512::supported()) return avx512::philox_blocks;
#endif
#if defined(CHIMERA_AVX2)
  if (simd >= 1 && avx2::supported()) return avx2::philox_blocks;
#endif
  (void)simd;
  return nullptr;
}

// The normals' first pass (variates::fast_normals): AVX2's where the CPU has it.
using FirstPass = void (*)(const std::uint32_t*, std::size_t, double*, std::uint64_t*);
FirstPass normal_first_pass(int simd) {
#if defined(CHIMERA_AVX2)
  if (simd >= 1 && avx2::supported()) return avx2::normal_first_pass;
#else
  (void)simd;
#endif
  return [](const std::uint32_t* words, std::size_t n, double* out, std::uint64_t* slow) {
    variates::fast_normals(words, 0, n, out, slow);
  };
}

void normal_row(double* row, std::size_t cols, std::uint64_t seed, std::uint32_t generation,
                std::uint32_t i, std::uint32_t purpose, rng::Stream::BlocksFn blocks,
                FirstPass first_pass) {
  rng::Stream words(seed, generation, i, purpose);
  rng::Stream tail(seed, generation, i, purpose, kTailBlock);
  std::uint32_t buf[kChunk];
  std::uint64_t slow[kChunk / 64];
  for (std::size_t j0 = 0; j0 < cols; j0 += kChunk) {
    const std::size_t k = std::min(kChunk, cols - j0);
    words.fill(buf, k, blocks);
    double* out = row + j0;
    std::fill(slow, slow + kChunk / 64, 0);
    // Candidates first (no data-dependent branch), then the few the fast path rejects.
    first_pass(buf, k, out, slow);
    for (std::size_t q = 0; q < (k + 63) / 64; ++q) {
      for (std::uint64_t bits = slow[q]; bits != 0; bits &= bits - 1) {
        const std::size_t t = 64 * q + static_cast<std::size_t>(__builtin_ctzll(bits));
        out[t] = variates::normal_from(buf[t], tail);
      }
    }
  }
}

// y mod p into [0, p), as NumPy's floor mod (fmod, plus p when negative, +0 for zero). Within
// a period of [0, p) one addition gives the same (exact: Sterbenz's lemma on [p, 2p)).
double floor_mod(double y, double p) {
  if (y >= -p && y < 2.0 * p) return y >= p ? y - p : (y < 0.0 ? y + p : y);
  y = std::fmod(y, p);
  if (y < 0.0) y += p;
  return y == 0.0 ? 0.0 : y;
}

// The box's per-gene constants, computed once a call: the margins' inner edges and the
// quadratic bends' factors 1 / (4 al), 1 / (4 au).
struct Box {
  const double *low, *high, *al, *au;
  std::vector<double> inner_lo, inner_hi, bend_lo, bend_hi;

  Box(const double* lo, const double* hi, const double* l, const double* u, std::size_t cols)
      : low(lo), high(hi), al(l), au(u), inner_lo(cols), inner_hi(cols), bend_lo(cols),
        bend_hi(cols) {
    for (std::size_t j = 0; j < cols; ++j) {
      inner_lo[j] = low[j] + al[j];
      inner_hi[j] = high[j] - au[j];
      bend_lo[j] = 1.0 / (4.0 * al[j]);
      bend_hi[j] = 1.0 / (4.0 * au[j]);
    }
  }
};

// T's value at gene j from m = (g - a) mod 2r: reflected into [a, a + r], then bent
// quadratically within al (au) of a bound. Every operation is computed and then selected, so
// that a loop over genes runs in SIMD lanes.
inline double box_fold(double m, const Box& b, std::size_t j) {
  const double lo = b.low[j], hi = b.high[j], al = b.al[j], au = b.au[j];
  const double a = lo - al;
  const double r = hi + au - a;
  const double back = 2.0 * r - m;
  double y = a + (m > r ? back : m);
  const double below = lo + (y - a) * (y - a) * b.bend_lo[j];
  y = y < b.inner_lo[j] ? below : y;
  const double above = hi - (y - hi - au) * (y - hi - au) * b.bend_hi[j];
  y = y > b.inner_hi[j] ? above : y;
  y = y < lo ? lo : y;  // rounding at the bounds
  return y > hi ? hi : y;
}

// Genes [j0, end) of a row that has some outside the identity region, o = T(mean + sigma y).
// Which genes are mapped is a coin flip while the step is large against the box, and a branch
// per gene would be mispredicted at that rate: every gene takes the map's operations as
// selects, in SIMD lanes, the floor mod by one addition; genes beyond a period of [0, 2r)
// (rare) are mapped again with fmod.
__attribute__((always_inline)) inline void box_span(double* o, const double* y_row,
                                                    std::size_t j0, std::size_t end,
                                                    const double* mean, double sigma,
                                                    const Box& b) {
  std::int64_t far = 0;  // whether a gene lies beyond a period
  for (std::size_t j = j0; j < end; ++j) {
    const double g = mean[j] + sigma * y_row[j];
    const double a = b.low[j] - b.al[j];
    const double p = 2.0 * (b.high[j] + b.au[j] - a), t = g - a;
    far |= (t >= -p) & (t < 2.0 * p) ? 0 : 1;
    const double down = t - p, up = t + p;
    const double m = t >= p ? down : (t < 0.0 ? up : t);
    const double y = box_fold(m, b, j);
    o[j] = (b.inner_lo[j] <= g) & (g <= b.inner_hi[j]) ? g : y;
  }
  if (far == 0) return;
  for (std::size_t j = j0; j < end; ++j) {
    const double g = mean[j] + sigma * y_row[j], a = b.low[j] - b.al[j];
    const double p = 2.0 * (b.high[j] + b.au[j] - a);
    if (g - a >= -p && g - a < 2.0 * p) continue;
    o[j] = box_fold(floor_mod(g - a, p), b, j);
  }
}

// One row, o = T(mean + sigma y), a span of kBoxSpan genes at a time: the span's steps first,
// then the map only where one of them left the identity region [low + al, high - au], which a
// run converging inside the box rarely does; one branch per span costs little when
// mispredicted. Compiled for AVX2 and for baseline x86-64, chosen when the library loads: four
// lanes or two, the same IEEE operations (no FMA), the same doubles.
#if defined(CHIMERA_AVX2) && defined(__linux__)
__attribute__((target_clones("avx2", "default")))
#endif
void box_row(double* o, const double* y_row, std::size_t cols, const double* mean, double sigma,
             const Box& b) {
  for (std::size_t j0 = 0; j0 < cols; j0 += kBoxSpan) {
    const std::size_t end = std::min(cols, j0 + kBoxSpan);
    std::int64_t outside = 0;  // an OR of 64-bit flags: the lanes' width, and it vectorises
    for (std::size_t j = j0; j < end; ++j) {
      const double g = mean[j] + sigma * y_row[j];
      o[j] = g;  // the identity, written at once: one pass over the span when none left
      outside |= (b.inner_lo[j] <= g) & (g <= b.inner_hi[j]) ? 0 : 1;
    }
    if (outside != 0) box_span(o, y_row, j0, end, mean, sigma, b);
  }
}
}  // namespace

void box_transform(double* out, const double* Y, std::size_t rows, std::size_t cols,
                   const double* mean, double sigma, const double* low, const double* high,
                   const double* al, const double* au) {
  const Box box(low, high, al, au, cols);
  const auto n = static_cast<std::int64_t>(rows);
#pragma omp parallel for schedule(static) if (rows * cols >= kParallelGrain)
  for (std::int64_t i = 0; i < n; ++i) {
    const std::size_t off = static_cast<std::size_t>(i) * cols;
    box_row(out + off, Y + off, cols, mean, sigma, box);
  }
}

void standard_normal(double* out, std::size_t rows, std::size_t cols, std::uint64_t seed,
                     std::uint32_t generation, std::uint32_t purpose, int simd) {
  const auto n = static_cast<std::int64_t>(rows);
  const rng::Stream::BlocksFn blocks = bulk_philox(simd);
  const FirstPass first_pass = normal_first_pass(simd);
#pragma omp parallel for schedule(static) if (rows * cols >= kParallelGrain)
  for (std::int64_t i = 0; i < n; ++i) {
    normal_row(out + static_cast<std::size_t>(i) * cols, cols, seed, generation,
               static_cast<std::uint32_t>(i), purpose, blocks, first_pass);
  }
}

}  // namespace chimera::es
