// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11) and
// the streams every kernel draws from. A stream is keyed by (seed, generation, individual,
// purpose), so what an individual receives never depends on thread count, scheduling order
// or backend. The Numba (python/chimera/_numba/rng.py) and CUDA (kernels/rng.cuh) twins
// follow this file draw for draw; docs/kernels.md is the contract between them.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define CHIMERA_HD __host__ __device__ __forceinline__
#else
#define CHIMERA_HD inline
#endif

namespace chimera::rng {

using Block = std::array<std::uint32_t, 4>;
using Key = std::array<std::uint32_t, 2>;

constexpr std::uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr std::uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr std::uint32_t kPhiloxW0 = 0x9E3779B9u;
constexpr std::uint32_t kPhiloxW1 = 0xBB67AE85u;

// What a stream is for; the fourth counter word.
enum Purpose : std::uint32_t {
  kInit = 0,
  kSelect = 1,
  kCrossover = 2,
  kMutate = 3,
  kShuffle = 4,
  kNiche = 5,
  kBandit = 6,
};

CHIMERA_HD Block philox4x32_10(Block ctr, Key key) {
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key[0] += kPhiloxW0;
      key[1] += kPhiloxW1;
    }
    const std::uint64_t p0 = std::uint64_t{kPhiloxM0} * ctr[0];
    const std::uint64_t p1 = std::uint64_t{kPhiloxM1} * ctr[2];
    ctr = {static_cast<std::uint32_t>(p1 >> 32) ^ ctr[1] ^ key[0], static_cast<std::uint32_t>(p1),
           static_cast<std::uint32_t>(p0 >> 32) ^ ctr[3] ^ key[1], static_cast<std::uint32_t>(p0)};
  }
  return ctr;
}

constexpr double kTwoPow32 = 4294967296.0;
constexpr double kTwoPowMinus53 = 1.0 / 9007199254740992.0;
constexpr double kTwoPi = 6.283185307179586476925286766559;

// Probability p as a 33-bit threshold: a draw u (32 bits) succeeds when u < threshold.
// Integer comparison makes the decision bit-identical on every backend.
CHIMERA_HD std::uint64_t probability_threshold(double p) {
  if (!(p > 0.0)) return 0;
  if (p >= 1.0) return std::uint64_t{1} << 32;
  return static_cast<std::uint64_t>(p * kTwoPow32);
}

// A sequence of 32-bit words: counter (block, individual, generation, purpose), key = seed.
class Stream {
 public:
  CHIMERA_HD Stream(std::uint64_t seed, std::uint32_t generation, std::uint32_t individual,
                    std::uint32_t purpose)
      : key_{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)},
        ctr_{0u, individual, generation, purpose} {}

  CHIMERA_HD std::uint32_t next_u32() {
    if (pos_ == 4) {
      buf_ = philox4x32_10(ctr_, key_);
      ++ctr_[0];
      pos_ = 0;
    }
    return buf_[pos_++];
  }

  // 53 random bits from two words (high word first).
  CHIMERA_HD std::uint64_t next_u53() {
    const std::uint64_t hi = next_u32();
    const std::uint64_t lo = next_u32();
    return ((hi << 32) | lo) >> 11;
  }

  // Uniform on [0, 1).
  CHIMERA_HD double uniform() { return static_cast<double>(next_u53()) * kTwoPowMinus53; }

  // Uniform on (0, 1], safe for log().
  CHIMERA_HD double uniform_pos() { return static_cast<double>(next_u53() + 1) * kTwoPowMinus53; }

  CHIMERA_HD bool bernoulli(std::uint64_t threshold) { return next_u32() < threshold; }

  // Uniform integer in [0, n), n >= 1: Lemire's multiply-shift with rejection, so unbiased.
  CHIMERA_HD std::uint32_t below(std::uint32_t n) {
    std::uint64_t m = std::uint64_t{next_u32()} * n;
    auto low = static_cast<std::uint32_t>(m);
    if (low < n) {
      const std::uint32_t t = static_cast<std::uint32_t>(-n) % n;
      while (low < t) {
        m = std::uint64_t{next_u32()} * n;
        low = static_cast<std::uint32_t>(m);
      }
    }
    return static_cast<std::uint32_t>(m >> 32);
  }

  // Standard normal by Box-Muller; the second variate of each pair is kept for the next call.
  CHIMERA_HD double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double r = std::sqrt(-2.0 * std::log(uniform_pos()));
    const double theta = kTwoPi * uniform();
    spare_ = r * std::sin(theta);
    has_spare_ = true;
    return r * std::cos(theta);
  }

 private:
  Key key_;
  Block ctr_;
  Block buf_{};
  int pos_ = 4;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace chimera::rng
