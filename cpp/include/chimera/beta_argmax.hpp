// Thompson decisions in a batch on fixed Beta posteriors, by inversion on quantile tables.
//
// Arm j's draw is X_j = F_j^{-1}(U_j). Eight bits of U_j (one byte of a word) say which of 256
// equal-mass buckets [q_j[k], q_j[k + 1]] holds X_j, where q_j[k] = F_j^{-1}(k / 256) comes
// from the caller (SciPy's betaincinv). The arm whose bucket starts highest has the largest
// draw unless another arm's bucket reaches past that start; only then do the arms in contention
// draw X_j inside their buckets, exactly, and the largest wins. A decision thus costs a quarter
// of a word per arm, where the Gamma sampler (variates.hpp) takes four words and two Gammas.
//
// The in-bucket draw is rejection from the tangent of log f at a point t of the bucket: an
// upper bound of the density wherever it is log-concave, which Beta(a, b) is for a, b >= 1, the
// only shapes this path takes. docs/kernels.md ("Bandits") is the contract the Numba twin
// (python/chimera/_numba/beta_argmax.py) follows.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "chimera/avx2.hpp"
#include "chimera/rng.hpp"

namespace chimera::variates {

constexpr int kBetaBuckets = 256;
constexpr std::size_t kBetaRow = kBetaBuckets + 1;  // q[0] = 0 .. q[256] = 1

// log f(x) - (log f(t) + s (x - t)) for the Beta(a, b) density f, a, b >= 1, and s the slope of
// log f at t: with d = x - t, (a-1) (log1p(d/t) - d/t) + (b-1) (log1p(-d/(1-t)) + d/(1-t)).
// Written so, it never subtracts the large logs of f(x) and f(t) (a shape of exactly 1
// contributes nothing, and no 0 * log 0 at the ends).
inline double beta_tangent_gap(double a, double b, double t, double d) {
  double gap = 0.0;
  if (a != 1.0) {
    const double u = d / t;
    gap += (a - 1.0) * (std::log1p(u) - u);
  }
  if (b != 1.0) {
    const double v = d / (1.0 - t);
    gap += (b - 1.0) * (std::log1p(-v) + v);
  }
  return gap;
}

// Whether a quantile row can serve the inversion path: 0 to 1, non-decreasing, and no bucket
// spanning all of [0, 1] (which happens only when the whole mass sits at one end in doubles).
inline bool usable_row(const double* q) {
  bool ok = q[0] == 0.0 && q[kBetaBuckets] == 1.0;
  for (int k = 0; k < kBetaBuckets; ++k) ok = ok && q[k] <= q[k + 1];  // false for NaN too
  return ok && q[1] < 1.0 && q[kBetaBuckets - 1] > 0.0;
}

// X ~ Beta(a, b), a, b >= 1, conditioned on lo <= X <= hi, with 0 <= lo <= hi <= 1 and not
// [0, 1]. Tangent point t: the bucket's middle, or its inner end for a bucket touching 0 or 1.
// Proposal density proportional to exp(s x) on [lo, hi] with s the slope of log f at t, by
// inversion from uniform() (y = -log1p(w * expm1(-|s| width)) / |s| from the end the density
// rises towards); accept when log(uniform32()) < beta_tangent_gap(a, b, t, x - t). Over the
// rows of shapes 1 to 1e8, a sweep found at least 0.74 of the proposals accepted in every bucket.
template <class S>
double beta_in_bucket(double a, double b, double lo, double hi, S& st) {
  if (!(lo < hi)) return lo;
  const double t = lo == 0.0 ? hi : (hi == 1.0 ? lo : 0.5 * (lo + hi));
  const double s = (a - 1.0) / t - (b - 1.0) / (1.0 - t);
  const double width = hi - lo, r = std::fabs(s);
  const double g = std::expm1(-r * width);  // in [-1, 0]
  for (;;) {
    const double w = st.uniform();
    const double y = g == 0.0 ? w * width : -std::log1p(w * g) / r;
    double x = s > 0.0 ? hi - y : lo + y;
    x = x < lo ? lo : (x > hi ? hi : x);
    const double u = st.uniform32();
    if (std::log(u) < beta_tangent_gap(a, b, t, x - t)) return x;
  }
}

// The batch: m arms (ids ascending), their shapes and quantile rows. Decision i takes
// ceil(m / 4) words from `buckets`; the arm in position p reads byte p % 4 of word p / 4
// (bits 8 (p % 4) .. 8 (p % 4) + 7) as its bucket k. The arm with the highest q[k] wins (ties
// to the lower id) unless another arm's q[k + 1] exceeds it; then every arm in contention (that
// one, and those) draws beta_in_bucket from `resolve`, in order of id, and the largest draw wins
// (ties to the lower id).
class BetaArgmax {
 public:
  BetaArgmax(std::vector<std::int32_t> ids, std::vector<double> a, std::vector<double> b,
             std::vector<double> rows)
      : ids_(std::move(ids)), a_(std::move(a)), b_(std::move(b)), rows_(std::move(rows)) {}

  std::size_t words_per_decision() const { return (ids_.size() + 3) / 4; }

  template <class S, class R>
  void decide(S& buckets, R& resolve, std::int32_t* out, std::size_t n) {
    const std::size_t m = ids_.size(), per = words_per_decision();
    constexpr std::size_t kBlock = 256;  // decisions whose words are drawn at once
    words_.resize(kBlock * per);
    lo_.resize(m);
    hi_.resize(m);
    for (std::size_t start = 0; start < n; start += kBlock) {
      const std::size_t count = std::min(kBlock, n - start);
      fill(buckets, count * per);
      for (std::size_t i = 0; i < count; ++i) {
        out[start + i] = one(words_.data() + i * per, resolve);
      }
    }
  }

 private:
  template <class S>
  void fill(S& st, std::size_t n) {
#if defined(CHIMERA_AVX2)
    if (avx2::supported()) {
      st.fill(words_.data(), n, avx2::philox_blocks);
      return;
    }
#endif
    st.fill(words_.data(), n);
  }

  template <class R>
  std::int32_t one(const std::uint32_t* w, R& resolve) {
    const std::size_t m = ids_.size();
    const double* rows = rows_.data();
    double* lo = lo_.data();
    double* hi = hi_.data();
    std::size_t best = 0;
    double top = -1.0;
    for (std::size_t p = 0; p < m; ++p) {
      const std::uint32_t k = (w[p / 4] >> (8 * (p % 4))) & 255u;
      const double* q = rows + p * kBetaRow + k;
      lo[p] = q[0];
      hi[p] = q[1];
      // Arithmetic rather than a select, which GCC compiles to a branch the CPU mispredicts.
      const std::size_t higher = lo[p] > top;
      best += (p - best) & (0 - higher);
      top = std::max(top, lo[p]);
    }
    bool contest = false;
    for (std::size_t p = 0; p < m; ++p) contest |= (p != best) & (hi[p] > top);
    if (!contest) return ids_[best];
    std::size_t winner = best;
    double most = -1.0;
    for (std::size_t p = 0; p < m; ++p) {
      if (p != best && !(hi[p] > top)) continue;
      const double x = beta_in_bucket(a_[p], b_[p], lo[p], hi[p], resolve);
      if (x > most) {
        most = x;
        winner = p;
      }
    }
    return ids_[winner];
  }

  std::vector<std::int32_t> ids_;
  std::vector<double> a_, b_, rows_;  // rows_: m rows of kBetaRow quantiles
  std::vector<std::uint32_t> words_;
  std::vector<double> lo_, hi_;
};

}  // namespace chimera::variates
