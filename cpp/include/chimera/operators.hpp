// The genetic operators for one offspring pair, written once for the host (OpenMP) and the
// device (CUDA): selection of a parent slot, crossover of a pair, mutation of a child and
// bounds repair. Names and formulas follow the usual definitions: tournament selection,
// single-point/two-point/uniform crossover, BLX-alpha (Eshelman & Schaffer 1993), SBX and
// polynomial mutation (Deb & Agrawal 1995, the bounded form of Deb's NSGA-II code).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "chimera/rng.hpp"

namespace chimera::ga {

enum Selection : int { kTournament = 0, kTruncation = 1, kStochasticUniversal = 2 };
enum Crossover : int { kNoCrossover = 0, kSinglePoint = 1, kTwoPoint = 2, kUniform = 3, kBlend = 4, kSBX = 5 };
enum Mutation : int { kNoMutation = 0, kGaussian = 1, kPolynomial = 2, kBitFlip = 3, kRandomReset = 4 };
enum BoundsRepair : int { kClip = 0, kReflect = 1 };

// Most genes one child may have mutated through the binomial-count path; above this the
// Python layer passes no table and each gene gets its own Bernoulli draw.
constexpr std::size_t kMaxMutationTable = 64;

struct BreedConfig {
  std::uint64_t seed = 0;
  std::uint32_t generation = 0;
  int selection = kTournament;
  std::int64_t selection_size = 2;  // tournament size, or how many of the best truncation keeps
  int crossover = kSinglePoint;
  std::uint64_t crossover_threshold = 0;  // probability a pair recombines, as rng::probability_threshold
  double crossover_param = 0.0;          // BLX alpha or SBX eta
  int mutation = kGaussian;
  std::uint64_t mutation_threshold = 0;  // per-gene probability, used when there is no table
  double mutation_param = 0.0;           // Gaussian sigma (fraction of the range) or polynomial eta
  // P(at most k genes mutated) * 2^32 for k = 0..len-1; the count of a child's mutations is the
  // number of entries a draw is not below. Empty: one Bernoulli draw per gene instead.
  const std::uint32_t* mutation_cdf = nullptr;
  std::size_t mutation_cdf_len = 0;
  int bounds = kClip;
};

template <class T>
CHIMERA_HD double gene(const T* x, std::size_t j) {
  return static_cast<double>(x[j]);
}

// Floating genomes store the double result rounded; integer ones never reach here with
// fractional values (Python refuses blend/SBX/Gaussian/polynomial for them).
template <class T>
CHIMERA_HD T to_gene(double v) {
  return static_cast<T>(v);
}

CHIMERA_HD double repair(double x, double lo, double hi, int mode) {
  if (x >= lo && x <= hi) return x;
  if (mode == kClip || !(hi > lo)) return x < lo ? lo : hi;
  // Reflect at the bounds, repeatedly for points more than a range away.
  const double w = hi - lo;
  double y = std::fmod(x - lo, 2.0 * w);
  if (y < 0.0) y += 2.0 * w;
  if (y > w) y = 2.0 * w - y;
  return lo + y;
}

// Parent row for selection slot s by tournament or truncation (SUS is chosen population-wide).
CHIMERA_HD std::uint32_t select_slot(const double* f, std::uint32_t n, std::uint32_t s,
                                     const BreedConfig& cfg, const std::int32_t* order) {
  rng::Stream st(cfg.seed, cfg.generation, s, rng::kSelect);
  if (cfg.selection == kTruncation) {
    return static_cast<std::uint32_t>(order[st.below(static_cast<std::uint32_t>(cfg.selection_size))]);
  }
  std::uint32_t best = st.below(n);
  for (std::int64_t i = 1; i < cfg.selection_size; ++i) {
    const std::uint32_t c = st.below(n);
    if (f[c] < f[best]) best = c;
  }
  return best;
}

// Genes [from, to) of src into dst: contiguous copies the compiler turns into memcpy.
template <class T>
CHIMERA_HD void copy_genes(T* __restrict__ dst, const T* __restrict__ src, std::size_t from,
                           std::size_t to) {
  for (std::size_t j = from; j < to; ++j) dst[j] = src[j];
}

CHIMERA_HD double sbx_betaq(double rand, double beta, double eta) {
  const double alpha = 2.0 - std::pow(beta, -(eta + 1.0));
  if (rand <= 1.0 / alpha) return std::pow(rand * alpha, 1.0 / (eta + 1.0));
  return std::pow(1.0 / (2.0 - rand * alpha), 1.0 / (eta + 1.0));
}

// Whether the pair recombines at all: the first draw of its crossover stream.
CHIMERA_HD bool mates(rng::Stream& st, std::size_t d, const BreedConfig& cfg) {
  return cfg.crossover != kNoCrossover && d > 1 && st.bernoulli(cfg.crossover_threshold);
}

// Single and two point crossover: genes in [a, b) come from the other parent; single point
// is b = d.
CHIMERA_HD void cut_points(rng::Stream& st, std::size_t d, const BreedConfig& cfg,
                           std::uint32_t& a, std::uint32_t& b) {
  const auto dd = static_cast<std::uint32_t>(d);
  a = 1 + st.below(dd - 1);
  b = dd;
  if (cfg.crossover == kTwoPoint) {
    b = 1 + st.below(dd - 1);
    if (b >= a) {
      ++b;
    } else {
      const std::uint32_t t = a;
      a = b;
      b = t;
    }
  }
}

// True for the crossovers whose children are their parents with a segment swapped.
CHIMERA_HD bool swaps_segment(const BreedConfig& cfg) {
  return cfg.crossover == kNoCrossover || cfg.crossover == kSinglePoint ||
         cfg.crossover == kTwoPoint;
}

// For those: the segment [a, b) the pair swaps (empty when it does not mate), with the
// draws crossover_pair makes.
CHIMERA_HD void swap_segment(std::size_t d, std::uint32_t pair, const BreedConfig& cfg,
                             std::uint32_t& a, std::uint32_t& b) {
  rng::Stream st(cfg.seed, cfg.generation, pair, rng::kCrossover);
  a = b = 0;
  if (mates(st, d, cfg)) cut_points(st, d, cfg, a, b);
}

// Recombines p1 and p2 into c1 and, when c2 is not null, c2.
template <class T>
CHIMERA_HD void crossover_pair(const T* p1, const T* p2, T* c1, T* c2, std::size_t d,
                               const double* low, const double* high, std::uint32_t pair,
                               const BreedConfig& cfg) {
  rng::Stream st(cfg.seed, cfg.generation, pair, rng::kCrossover);
  if (!mates(st, d, cfg)) {
    copy_genes(c1, p1, 0, d);
    if (c2) copy_genes(c2, p2, 0, d);
    return;
  }
  switch (cfg.crossover) {
    case kSinglePoint:
    case kTwoPoint: {
      std::uint32_t a = 0, b = 0;
      cut_points(st, d, cfg, a, b);
      copy_genes(c1, p1, 0, a);
      copy_genes(c1, p2, a, b);
      copy_genes(c1, p1, b, d);
      if (c2) {
        copy_genes(c2, p2, 0, a);
        copy_genes(c2, p1, a, b);
        copy_genes(c2, p2, b, d);
      }
      break;
    }
    case kUniform: {
      std::uint32_t bits = 0;
      for (std::size_t j = 0; j < d; ++j) {
        if (j % 32 == 0) bits = st.next_u32();
        const bool swap = (bits >> (j % 32)) & 1u;
        c1[j] = swap ? p2[j] : p1[j];
        if (c2) c2[j] = swap ? p1[j] : p2[j];
      }
      break;
    }
    case kBlend: {
      const double alpha = cfg.crossover_param;
      for (std::size_t j = 0; j < d; ++j) {
        const double x = gene(p1, j), y = gene(p2, j);
        const double lo = x < y ? x : y, span = x < y ? y - x : x - y;
        const double from = lo - alpha * span, width = span * (1.0 + 2.0 * alpha);
        const double u1 = st.uniform(), u2 = st.uniform();
        c1[j] = to_gene<T>(repair(from + u1 * width, low[j], high[j], cfg.bounds));
        if (c2) c2[j] = to_gene<T>(repair(from + u2 * width, low[j], high[j], cfg.bounds));
      }
      break;
    }
    case kSBX: {
      const double eta = cfg.crossover_param;
      for (std::size_t j = 0; j < d; ++j) {
        const double x = gene(p1, j), y = gene(p2, j);
        double v1 = x, v2 = y;
        // Each gene recombines with probability 1/2, and only where the parents differ.
        const std::uint32_t w = st.next_u32();
        if ((w & 1u) && std::fabs(x - y) > 1e-14) {
          const double y1 = x < y ? x : y, y2 = x < y ? y : x;
          const double yl = low[j], yu = high[j], diff = y2 - y1;
          const double rand = st.uniform();
          double a = 0.5 * ((y1 + y2) - sbx_betaq(rand, 1.0 + 2.0 * (y1 - yl) / diff, eta) * diff);
          double b = 0.5 * ((y1 + y2) + sbx_betaq(rand, 1.0 + 2.0 * (yu - y2) / diff, eta) * diff);
          a = a < yl ? yl : (a > yu ? yu : a);
          b = b < yl ? yl : (b > yu ? yu : b);
          const bool flip = (w >> 1) & 1u;
          v1 = flip ? b : a;
          v2 = flip ? a : b;
        }
        c1[j] = to_gene<T>(v1);
        if (c2) c2[j] = to_gene<T>(v2);
      }
      break;
    }
    default:
      break;
  }
}

template <class T>
CHIMERA_HD void mutate_gene(T* c, std::size_t j, const double* low, const double* high,
                            rng::Stream& st, const BreedConfig& cfg) {
  switch (cfg.mutation) {
    case kGaussian: {
      const double v = gene(c, j) + cfg.mutation_param * (high[j] - low[j]) * st.normal();
      c[j] = to_gene<T>(repair(v, low[j], high[j], cfg.bounds));
      break;
    }
    case kPolynomial: {
      const double yl = low[j], yu = high[j], range = yu - yl;
      if (!(range > 0.0)) break;
      // The bounded form needs y inside the bounds (a parent from outside may not be).
      double y = gene(c, j);
      y = y < yl ? yl : (y > yu ? yu : y);
      const double eta = cfg.mutation_param, rnd = st.uniform(), power = 1.0 / (eta + 1.0);
      double dq;
      if (rnd < 0.5) {
        const double xy = 1.0 - (y - yl) / range;
        const double val = 2.0 * rnd + (1.0 - 2.0 * rnd) * std::pow(xy, eta + 1.0);
        dq = std::pow(val, power) - 1.0;
      } else {
        const double xy = 1.0 - (yu - y) / range;
        const double val = 2.0 * (1.0 - rnd) + 2.0 * (rnd - 0.5) * std::pow(xy, eta + 1.0);
        dq = 1.0 - std::pow(val, power);
      }
      double v = y + dq * range;
      v = v < yl ? yl : (v > yu ? yu : v);
      c[j] = to_gene<T>(v);
      break;
    }
    case kBitFlip:
      c[j] = c[j] ? T(0) : T(1);
      break;
    case kRandomReset: {
      const auto lo = static_cast<std::int64_t>(low[j]);
      const auto span = static_cast<std::uint32_t>(static_cast<std::int64_t>(high[j]) - lo + 1);
      c[j] = static_cast<T>(lo + static_cast<std::int64_t>(st.below(span)));
      break;
    }
    default:
      break;
  }
}

// Mutates child number `child` in place. With a table, draws how many genes mutate
// (binomial, by inversion) and which (Floyd's sampling of distinct positions): about two draws
// per child at the usual rate 1/d, instead of d.
template <class T>
CHIMERA_HD void mutate_child(T* c, std::size_t d, const double* low, const double* high,
                             std::uint32_t child, const BreedConfig& cfg) {
  if (cfg.mutation == kNoMutation) return;
  rng::Stream st(cfg.seed, cfg.generation, child, rng::kMutate);
  if (cfg.mutation_cdf_len == 0) {
    for (std::size_t j = 0; j < d; ++j) {
      if (st.bernoulli(cfg.mutation_threshold)) mutate_gene(c, j, low, high, st, cfg);
    }
    return;
  }
  const std::uint32_t u = st.next_u32();
  std::size_t k = 0;
  while (k < cfg.mutation_cdf_len && u >= cfg.mutation_cdf[k]) ++k;
  if (k > d) k = d;
  std::uint32_t chosen[kMaxMutationTable];
  const auto dd = static_cast<std::uint32_t>(d);
  for (std::uint32_t i = 0; i < k; ++i) {
    const std::uint32_t top = dd - static_cast<std::uint32_t>(k) + i;
    std::uint32_t t = st.below(top + 1);
    for (std::uint32_t q = 0; q < i; ++q) {
      if (chosen[q] == t) {
        t = top;
        break;
      }
    }
    chosen[i] = t;
    mutate_gene(c, t, low, high, st, cfg);
  }
}

// True for the operators that produce fractional genes, which integer genomes refuse.
CHIMERA_HD bool needs_real_genes(const BreedConfig& cfg) {
  return cfg.crossover == kBlend || cfg.crossover == kSBX || cfg.mutation == kGaussian ||
         cfg.mutation == kPolynomial;
}

// The offspring pair `pair`: children 2*pair and 2*pair+1 (the second only when it is < m).
template <class T>
CHIMERA_HD void breed_pair(const T* X, std::size_t d, const double* low, const double* high,
                           const std::int32_t* slots, T* out, std::int32_t* parents,
                           std::size_t m, std::uint32_t pair, const BreedConfig& cfg) {
  const std::size_t i1 = 2 * std::size_t{pair}, i2 = i1 + 1;
  const std::int32_t a = slots[i1], b = slots[i2];
  T* c1 = out + i1 * d;
  T* c2 = i2 < m ? out + i2 * d : nullptr;
  crossover_pair(X + std::size_t(a) * d, X + std::size_t(b) * d, c1, c2, d, low, high, pair, cfg);
  mutate_child(c1, d, low, high, static_cast<std::uint32_t>(i1), cfg);
  parents[2 * i1] = a;
  parents[2 * i1 + 1] = b;
  if (c2) {
    mutate_child(c2, d, low, high, static_cast<std::uint32_t>(i2), cfg);
    parents[2 * i2] = b;
    parents[2 * i2 + 1] = a;
  }
}

// Gene j of individual i of a uniform initial population.
template <class T>
CHIMERA_HD T init_gene(rng::Stream& st, double lo, double hi, bool integral, bool boolean) {
  if (boolean) return static_cast<T>(st.next_u32() & 1u);
  if (integral) {
    const auto l = static_cast<std::int64_t>(lo);
    const auto span = static_cast<std::uint32_t>(static_cast<std::int64_t>(hi) - l + 1);
    return static_cast<T>(l + static_cast<std::int64_t>(st.below(span)));
  }
  return to_gene<T>(lo + st.uniform() * (hi - lo));
}

}  // namespace chimera::ga
