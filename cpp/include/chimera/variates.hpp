// Non-uniform variates on a counter-based stream: a ziggurat normal and Marsaglia-Tsang
// Gamma and Beta. They serve the bandits' samplers, where a decision draws one or two
// variates per arm and Box-Muller's log, sqrt, sin and cos per pair would dominate. Host
// only (the ziggurat's tables are static data). The Numba twin is
// python/chimera/_numba/variates.py; docs/kernels.md ("Variates") is the contract.
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

// 128 layers of equal area v under f(x) = exp(-x^2 / 2) (Marsaglia and Tsang 2000, arranged
// as in Doornik 2005): x[0] = v / f(r) stands for the base strip and the tail beyond r
// together, x[1] = r, x[i+1] = sqrt(-2 log(v / x[i] + f(x[i]))), x[128] = 0.
struct Ziggurat {
  static constexpr int kLayers = 128;
  static constexpr double kR = 3.442619855899;
  static constexpr double kV = 9.91256303526217e-3;
  double x[kLayers + 1];
  double f[kLayers + 1];  // f(x[i])

  Ziggurat() {
    x[0] = kV / std::exp(-0.5 * kR * kR);
    x[1] = kR;
    for (int i = 1; i < kLayers - 1; ++i) {
      x[i + 1] = std::sqrt(-2.0 * std::log(kV / x[i] + std::exp(-0.5 * x[i] * x[i])));
    }
    x[kLayers] = 0.0;
    for (int i = 0; i <= kLayers; ++i) f[i] = std::exp(-0.5 * x[i] * x[i]);
  }
};

inline const Ziggurat kZiggurat;

// A normal's position from one word: bits 0-6 pick the layer i, bits 7-31 read as a signed
// integer give u in (-1, 1), and the candidate is u x[i].
inline double ziggurat_candidate(std::uint32_t w, int& layer) {
  layer = static_cast<int>(w & 127u);
  const double u =
      (static_cast<double>(static_cast<std::int32_t>(w & ~127u)) + 64.0) * (1.0 / 2147483648.0);
  return u * kZiggurat.x[layer];
}

// Standard normal whose first candidate comes from word w and any further words from st. The
// candidate is accepted at once when |x| is inside the next layer's edge (98.8% of draws);
// otherwise the wedge test (one uniform32) accepts it or starts over with a new word, and the
// base layer goes to the tail (Marsaglia 1964: a = -log(u1) / r, b = -log(u2) until
// 2 b > a^2; r + a, with the candidate's sign).
template <class S>
double normal_from(std::uint32_t w, S& st) {
  const Ziggurat& z = kZiggurat;
  for (;;) {
    int i = 0;
    const double x = ziggurat_candidate(w, i);
    if (std::fabs(x) < z.x[i + 1]) return x;
    if (i == 0) {
      double a = 0.0, b = 0.0;
      do {
        a = -std::log(st.uniform32()) / Ziggurat::kR;
        b = -std::log(st.uniform32());
      } while (!(b + b > a * a));
      return x < 0.0 ? -(Ziggurat::kR + a) : Ziggurat::kR + a;
    }
    const double y = z.f[i] + st.uniform32() * (z.f[i + 1] - z.f[i]);
    if (y < std::exp(-0.5 * x * x)) return x;
    w = st.next_u32();
  }
}

template <class S>
double normal(S& st) {
  return normal_from(st.next_u32(), st);
}

// A Gamma(a, 1) sampler's constants, computed once per shape (a > 0). Shapes below 1 use the
// boost Gamma(a) = Gamma(a + 1) * U^(1/a).
struct GammaShape {
  double shape = 0.0, d = 0.0, c = 0.0, inv_a = 0.0;  // inv_a > 0: boosted

  GammaShape() = default;
  explicit GammaShape(double a) : shape(a) {
    if (a < 1.0) {
      inv_a = 1.0 / a;
      a += 1.0;
    }
    d = a - 1.0 / 3.0;
    c = 1.0 / std::sqrt(9.0 * d);
  }
};

using rng::uniform32_of;

// Marsaglia and Tsang (2000) with the first normal from word wn and the first uniform from word
// wu, everything else from st (first the boost's uniform when the shape is below 1): repeat
// { repeat x = normal(), v = 1 + c x until v > 0; v = v^3; u = uniform32(); accept d v if
// u < 1 - 0.0331 x^4 or log u < x^2 / 2 + d (1 - v + log v) }.
template <class S>
double gamma_from(std::uint32_t wn, std::uint32_t wu, S& st, const GammaShape& g) {
  const double boost = g.inv_a > 0.0 ? std::pow(st.uniform32(), g.inv_a) : 1.0;
  double x = normal_from(wn, st);
  double u = uniform32_of(wu);
  for (;;) {
    double v = 1.0 + g.c * x;
    while (v <= 0.0) {
      x = normal(st);
      v = 1.0 + g.c * x;
    }
    v = v * v * v;
    const double x2 = x * x;
    if (u < 1.0 - 0.0331 * x2 * x2 || std::log(u) < 0.5 * x2 + g.d * (1.0 - v + std::log(v))) {
      return g.d * v * boost;
    }
    x = normal(st);
    u = st.uniform32();
  }
}

// A first pass over normals t = begin..n-1, one word each: the ziggurat's candidate, and a
// bit in slow unless the fast path accepts it (about 1.2%: normal_from finishes those, in
// order of t, so the stream's later words go to the same normals as a one-pass loop's).
// avx2::normal_first_pass computes the same four at a time and leaves its tail to this.
inline void fast_normals(const std::uint32_t* words, std::size_t begin, std::size_t n,
                         double* out, std::uint64_t* slow) {
  for (std::size_t t = begin; t < n; ++t) {
    int i = 0;
    const double x = ziggurat_candidate(words[t], i);
    out[t] = x;
    slow[t / 64] |= std::uint64_t{!(std::fabs(x) < kZiggurat.x[i + 1])} << (t % 64);
  }
}

// BetaSampler's first pass over Gammas g = begin..n-1, from their words (2g: normal, 2g + 1:
// uniform): the candidate d v^3, and a bit in slow unless it is exact (the ziggurat's fast
// path, v > 0, the squeeze, no boost). avx2::beta_first_pass computes the same four at a time
// and leaves its tail to this.
inline void fast_gammas(const std::uint32_t* words, std::size_t begin, std::size_t n,
                        const double* c, const double* d, const double* inv_a, double* gammas,
                        std::uint64_t* slow) {
  for (std::size_t g = begin; g < n; ++g) {
    int i = 0;
    const double x = ziggurat_candidate(words[2 * g], i);
    const double u = uniform32_of(words[2 * g + 1]);
    const double v = 1.0 + c[g] * x;
    const double x2 = x * x;
    // & rather than &&: a select here compiles to branches the CPU mispredicts.
    const bool exact = (std::fabs(x) < kZiggurat.x[i + 1]) & (v > 0.0) &
                       (u < 1.0 - 0.0331 * x2 * x2) & (inv_a[g] == 0.0);
    gammas[g] = d[g] * (v * v * v);
    slow[g / 64] |= std::uint64_t{!exact} << (g % 64);
  }
}

// Beta(a_j, b_j) = X_j / (X_j + Y_j), X_j ~ Gamma(a_j), Y_j ~ Gamma(b_j), for j < m, drawn
// together: a Thompson decision's one variate per arm. sample() takes 4m words from the
// stream at once; X_j starts from words (4j, 4j + 1) and Y_j from (4j + 2, 4j + 3), the
// Gammas numbered g = 2j and 2j + 1. A first pass over all 2m Gammas has no data-dependent
// branch, so the CPU overlaps them: it computes each candidate and marks in a bit mask those
// that fast_gammas cannot accept (about 8% of Gammas with a shape of 1 or 2, 3% from 30 up;
// all below 1). A second pass finishes the marked ones, in order of g, with gamma_from on the
// words after the 4m; a third resolves, in order of j, a pair that underflowed to X + Y = 0
// (both shapes far below 1): 1 with probability a / (a + b), from one uniform32. Where the
// CPU has AVX2 the words and the first pass come from avx2.hpp, with the same results.
class BetaSampler {
 public:
  BetaSampler();

  std::size_t size() const { return shape_.size() / 2; }

  // Whether sample() uses the AVX2 loops (on by default where the CPU has them; off to test
  // the baseline ones, or where there are none).
  void use_avx2(bool on);
  bool uses_avx2() const { return avx2_; }

  void resize(std::size_t m) {
    for (auto* v : {&shape_, &d_, &c_, &inv_a_, &gammas_}) v->resize(2 * m, 0.0);
    slow_.resize((2 * m + 63) / 64, 0);
    words_.resize(4 * m, 0);
  }

  void set(std::size_t j, double a, double b) {
    set_gamma(2 * j, a);
    set_gamma(2 * j + 1, b);
  }

  // Pair j's shapes (a_j, b_j).
  std::pair<double, double> shapes(std::size_t j) const {
    return {shape_[2 * j], shape_[2 * j + 1]};
  }

  // Only pairs with active[j] != 0 are finished and written to out (the others are removed
  // arms: their first words are drawn and left unused).
  template <class S>
  void sample(S& st, const std::uint8_t* active, double* out) {
    const std::size_t m = size(), n = 2 * m;
    std::uint32_t* w = words_.data();
    double* gammas = gammas_.data();
    std::uint64_t* slow = slow_.data();
    std::fill(slow_.begin(), slow_.end(), 0);
    first_pass(st, w, n, gammas, slow);
    for (std::size_t k = 0; k < slow_.size(); ++k) {
      for (std::uint64_t bits = slow[k]; bits != 0; bits &= bits - 1) {
        const std::size_t g = 64 * k + static_cast<std::size_t>(__builtin_ctzll(bits));
        if (active[g / 2]) gammas[g] = gamma_from(w[2 * g], w[2 * g + 1], st, shape(g));
      }
    }
    for (std::size_t j = 0; j < m; ++j) {
      if (!active[j]) continue;
      const double x = gammas[2 * j], y = gammas[2 * j + 1];
      if (x + y > 0.0) {
        out[j] = x / (x + y);
      } else {
        const double a = shape_[2 * j], b = shape_[2 * j + 1];
        out[j] = st.uniform32() * (a + b) < a ? 1.0 : 0.0;
      }
    }
  }

 private:
  template <class S>
  void first_pass(S& st, std::uint32_t* w, std::size_t n, double* gammas, std::uint64_t* slow) {
#if defined(CHIMERA_AVX2)
    if (avx2_) {
      st.fill(w, 2 * n, avx2::philox_blocks);
      avx2::beta_first_pass(w, n, c_.data(), d_.data(), inv_a_.data(), gammas, slow);
      return;
    }
#endif
    st.fill(w, 2 * n);
    fast_gammas(w, 0, n, c_.data(), d_.data(), inv_a_.data(), gammas, slow);
  }

  void set_gamma(std::size_t g, double a) {
    const GammaShape sh(a);
    shape_[g] = sh.shape;
    d_[g] = sh.d;
    c_[g] = sh.c;
    inv_a_[g] = sh.inv_a;
  }

  GammaShape shape(std::size_t g) const {
    GammaShape sh;
    sh.shape = shape_[g];
    sh.d = d_[g];
    sh.c = c_[g];
    sh.inv_a = inv_a_[g];
    return sh;
  }

  // Structure of arrays, so that the first pass streams through them.
  std::vector<double> shape_, d_, c_, inv_a_, gammas_;
  std::vector<std::uint64_t> slow_;  // bit g: Gamma g needs the second pass
  std::vector<std::uint32_t> words_;
  bool avx2_ = false;
};

#if defined(CHIMERA_AVX2)
inline BetaSampler::BetaSampler() : avx2_(avx2::supported()) {}
inline void BetaSampler::use_avx2(bool on) { avx2_ = on && avx2::supported(); }
#else
inline BetaSampler::BetaSampler() = default;
inline void BetaSampler::use_avx2(bool) {}
#endif

}  // namespace chimera::variates
