#include "chimera/es.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "chimera/avx2.hpp"
#include "chimera/variates.hpp"

namespace chimera::es {

namespace {
// Below this many draws a parallel region costs more than it saves.
constexpr std::size_t kParallelGrain = 1 << 14;
// Words drawn per bulk refill: a multiple of the SIMD Philox's 32 words, small enough for L1.
constexpr std::size_t kChunk = 512;

rng::Stream::BlocksFn bulk_philox() {
#if defined(CHIMERA_AVX2)
  if (avx2::supported()) return avx2::philox_blocks;
#endif
  return nullptr;
}

void normal_row(double* row, std::size_t cols, std::uint64_t seed, std::uint32_t generation,
                std::uint32_t i, std::uint32_t purpose, rng::Stream::BlocksFn blocks) {
  const double* edge = variates::kZiggurat.x + 1;
  rng::Stream words(seed, generation, i, purpose);
  rng::Stream tail(seed, generation, i, purpose, kTailBlock);
  std::uint32_t buf[kChunk];
  for (std::size_t j0 = 0; j0 < cols; j0 += kChunk) {
    const std::size_t k = std::min(kChunk, cols - j0);
    words.fill(buf, k, blocks);
    double* out = row + j0;
    for (std::size_t t = 0; t < k; ++t) {
      int layer = 0;
      const double x = variates::ziggurat_candidate(buf[t], layer);
      out[t] = std::fabs(x) < edge[layer] ? x : variates::normal_from(buf[t], tail);
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

// T's value from m = (g - a) mod 2r: reflected into [a, a + r], then bent quadratically within
// al (au) of a bound; bend_l = 1 / (4 al), bend_u = 1 / (4 au). Every operation is computed
// and then selected, so that a loop over genes runs in SIMD lanes.
inline double box_fold(double m, double lo, double hi, double al, double au, double bend_l,
                       double bend_u) {
  const double a = lo - al;
  const double r = hi + au - a;
  const double back = 2.0 * r - m;
  double y = a + (m > r ? back : m);
  const double below = lo + (y - a) * (y - a) * bend_l;
  y = y < lo + al ? below : y;
  const double above = hi - (y - hi - au) * (y - hi - au) * bend_u;
  y = y > hi - au ? above : y;
  y = y < lo ? lo : y;  // rounding at the bounds
  return y > hi ? hi : y;
}

// One row, o = T(mean + sigma y). Which genes are mapped is a coin flip while the step is
// large against the box, and a branch per gene would be mispredicted at that rate: every gene
// takes the map's operations as selects, in SIMD lanes, the floor mod by one addition; genes
// beyond a period of [0, 2r) (rare) are mapped again with fmod. Compiled for AVX2 and for
// baseline x86-64, chosen when the library loads: four lanes or two, the same IEEE operations
// (no FMA), the same doubles.
#if defined(CHIMERA_AVX2) && defined(__linux__)
__attribute__((target_clones("avx2", "default")))
#endif
void box_row(double* o, const double* y_row, std::size_t cols, const double* mean, double sigma,
             const double* low, const double* high, const double* al, const double* au,
             const double* bend) {
  double far = 0.0;  // genes beyond a period (counted in a double: one lane width)
  for (std::size_t j = 0; j < cols; ++j) {
    const double g = mean[j] + sigma * y_row[j], lo = low[j], hi = high[j];
    const double a = lo - al[j];
    const double p = 2.0 * (hi + au[j] - a), t = g - a;
    far += (t >= -p) & (t < 2.0 * p) ? 0.0 : 1.0;
    const double down = t - p, up = t + p;
    const double m = t >= p ? down : (t < 0.0 ? up : t);
    const double y = box_fold(m, lo, hi, al[j], au[j], bend[2 * j], bend[2 * j + 1]);
    o[j] = (lo + al[j] <= g) & (g <= hi - au[j]) ? g : y;
  }
  if (far == 0.0) return;
  for (std::size_t j = 0; j < cols; ++j) {
    const double g = mean[j] + sigma * y_row[j], a = low[j] - al[j];
    const double p = 2.0 * (high[j] + au[j] - a);
    if (g - a >= -p && g - a < 2.0 * p) continue;
    o[j] = box_fold(floor_mod(g - a, p), low[j], high[j], al[j], au[j], bend[2 * j],
                    bend[2 * j + 1]);
  }
}
}  // namespace

void box_transform(double* out, const double* Y, std::size_t rows, std::size_t cols,
                   const double* mean, double sigma, const double* low, const double* high,
                   const double* al, const double* au) {
  std::vector<double> bend(2 * cols);
  for (std::size_t j = 0; j < cols; ++j) {
    bend[2 * j] = 1.0 / (4.0 * al[j]);
    bend[2 * j + 1] = 1.0 / (4.0 * au[j]);
  }
  const auto n = static_cast<std::int64_t>(rows);
#pragma omp parallel for schedule(static) if (rows * cols >= kParallelGrain)
  for (std::int64_t i = 0; i < n; ++i) {
    const std::size_t off = static_cast<std::size_t>(i) * cols;
    box_row(out + off, Y + off, cols, mean, sigma, low, high, al, au, bend.data());
  }
}

void standard_normal(double* out, std::size_t rows, std::size_t cols, std::uint64_t seed,
                     std::uint32_t generation, std::uint32_t purpose) {
  const auto n = static_cast<std::int64_t>(rows);
  const rng::Stream::BlocksFn blocks = bulk_philox();
#pragma omp parallel for schedule(static) if (rows * cols >= kParallelGrain)
  for (std::int64_t i = 0; i < n; ++i) {
    normal_row(out + static_cast<std::size_t>(i) * cols, cols, seed, generation,
               static_cast<std::uint32_t>(i), purpose, blocks);
  }
}

}  // namespace chimera::es
