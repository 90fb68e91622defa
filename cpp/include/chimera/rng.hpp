// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11) and
// the streams every kernel draws from. A stream is keyed by (seed, generation, individual,
// purpose), so what an individual receives never depends on thread count, scheduling order
// or backend. The Numba (python/chimera/_numba/rng.py) and CUDA (kernels/rng.cuh) twins
// follow this file draw for draw; docs/kernels.md is the contract between them.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>

#if defined(__CUDACC__)
#define CHIMERA_HD __host__ __device__ __forceinline__
#else
#define CHIMERA_HD inline
#endif

#if defined(__SSE2__) && !defined(__CUDA_ARCH__)
#include <emmintrin.h>
#define CHIMERA_PHILOX_SSE2 1
#endif

// Full unrolling of a SIMD Philox's loops keeps its chains in registers; left rolled, GCC -O2
// keeps them in memory and every round waits on store forwarding (about 2x slower).
#if defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__)
#define CHIMERA_UNROLL(n) _Pragma(CHIMERA_STRINGIFY(GCC unroll n))
#define CHIMERA_STRINGIFY(x) #x
#else
#define CHIMERA_UNROLL(n)
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
  kBanditTable = 7,    // a Thompson batch's bucket bytes (beta_argmax.hpp)
  kBanditResolve = 8,  // and its in-bucket draws
  kSample = 9,         // an evolution strategy's standard normal samples (es.hpp)
  kRestart = 10,       // a restart's start point and regime draws
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

#if defined(CHIMERA_PHILOX_SSE2)
// Four Philox blocks in SSE2 registers (baseline x86-64), counters (ctr[0] + b, ctr[1],
// ctr[2], ctr[3]) for b = 0..3. Each 64-bit lane holds one block's word zero-extended, so
// pmuludq gives the full product and its halves are a shift and a mask; blocks 0-1 and 2-3
// are two independent chains, which hides the multiply's latency.
inline void philox4x32_10_x4(const Block& ctr, Key key, std::uint32_t* out) {
  const __m128i mask = _mm_set_epi32(0, -1, 0, -1);
  const __m128i m0 = _mm_set_epi32(0, static_cast<int>(kPhiloxM0), 0, static_cast<int>(kPhiloxM0));
  const __m128i m1 = _mm_set_epi32(0, static_cast<int>(kPhiloxM1), 0, static_cast<int>(kPhiloxM1));
  auto lanes = [](std::uint32_t lo, std::uint32_t hi) {
    return _mm_set_epi32(0, static_cast<int>(hi), 0, static_cast<int>(lo));
  };
  __m128i x[2][4];
  for (int g = 0; g < 2; ++g) {
    const auto b = static_cast<std::uint32_t>(2 * g);
    x[g][0] = lanes(ctr[0] + b, ctr[0] + b + 1);
    x[g][1] = lanes(ctr[1], ctr[1]);
    x[g][2] = lanes(ctr[2], ctr[2]);
    x[g][3] = lanes(ctr[3], ctr[3]);
  }
  CHIMERA_UNROLL(10)
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key[0] += kPhiloxW0;
      key[1] += kPhiloxW1;
    }
    const __m128i k0 = lanes(key[0], key[0]), k1 = lanes(key[1], key[1]);
    CHIMERA_UNROLL(2)
    for (auto& v : x) {
      const __m128i p0 = _mm_mul_epu32(v[0], m0);
      const __m128i p1 = _mm_mul_epu32(v[2], m1);
      v[0] = _mm_xor_si128(_mm_xor_si128(_mm_srli_epi64(p1, 32), v[1]), k0);
      v[1] = _mm_and_si128(p1, mask);
      v[2] = _mm_xor_si128(_mm_xor_si128(_mm_srli_epi64(p0, 32), v[3]), k1);
      v[3] = _mm_and_si128(p0, mask);
    }
  }
  auto* o = reinterpret_cast<__m128i*>(out);
  for (int g = 0; g < 2; ++g) {
    const __m128i w01 = _mm_or_si128(x[g][0], _mm_slli_epi64(x[g][1], 32));
    const __m128i w23 = _mm_or_si128(x[g][2], _mm_slli_epi64(x[g][3], 32));
    _mm_storeu_si128(o + 2 * g, _mm_unpacklo_epi64(w01, w23));
    _mm_storeu_si128(o + 2 * g + 1, _mm_unpackhi_epi64(w01, w23));
  }
}
#endif

// Philox of `Blocks` consecutive counters (ctr[0], ctr[0] + 1, ...) into out[4 * Blocks], for
// streams that draw dozens of words: four blocks at a time run in SIMD lanes where the CPU has
// them, several times the throughput of one block (ten dependent rounds of multiplies).
template <int Blocks>
CHIMERA_HD void philox4x32_10_run(Block ctr, Key key, std::uint32_t* out) {
#if defined(CHIMERA_PHILOX_SSE2)
  if constexpr (Blocks % 4 == 0) {
    for (int b = 0; b < Blocks; b += 4, ctr[0] += 4) philox4x32_10_x4(ctr, key, out + 4 * b);
    return;
  }
#endif
  for (int b = 0; b < Blocks; ++b, ++ctr[0]) {
    const Block w = philox4x32_10(ctr, key);
    for (int j = 0; j < 4; ++j) out[4 * b + j] = w[j];
  }
}

constexpr double kTwoPow32 = 4294967296.0;
constexpr double kTwoPowMinus32 = 1.0 / 4294967296.0;
constexpr double kTwoPowMinus53 = 1.0 / 9007199254740992.0;
constexpr double kTwoPi = 6.283185307179586476925286766559;

// Uniform on (0, 1) at 32-bit resolution from one word: (w + 1/2) 2^-32, safe for log().
CHIMERA_HD double uniform32_of(std::uint32_t w) {
  return (static_cast<double>(w) + 0.5) * kTwoPowMinus32;
}

// Probability p as a 33-bit threshold: a draw u (32 bits) succeeds when u < threshold.
// Integer comparison makes the decision bit-identical on every backend.
CHIMERA_HD std::uint64_t probability_threshold(double p) {
  if (!(p > 0.0)) return 0;
  if (p >= 1.0) return std::uint64_t{1} << 32;
  return static_cast<std::uint64_t>(p * kTwoPow32);
}

// A sequence of 32-bit words: counter (block, individual, generation, purpose), key = seed.
// `Blocks` is how many Philox blocks are computed per refill; it changes the speed, never the
// words. Stream (one block) suits the GA's short per-individual streams; BulkStream suits
// draws that take dozens of words (a Thompson decision over many arms).
template <int Blocks>
class BasicStream {
 public:
  // `block` is the first block's counter word: a stream from block 2^31 is a second,
  // independent sequence under the same key and counter words (es.hpp's tail draws).
  CHIMERA_HD BasicStream(std::uint64_t seed, std::uint32_t generation, std::uint32_t individual,
                    std::uint32_t purpose, std::uint32_t block = 0)
      : key_{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)},
        ctr_{block, individual, generation, purpose} {}

  CHIMERA_HD std::uint32_t next_u32() {
    if (pos_ == kWords) {
      philox4x32_10_run<Blocks>(ctr_, key_, buf_);
      ctr_[0] += static_cast<std::uint32_t>(Blocks);
      pos_ = 0;
    }
    return buf_[pos_++];
  }

  // The next n words into out, as n calls of next_u32() would give them: whole refills go
  // straight into out. `blocks`, when given, is a faster generator of the same words (such as
  // avx2::philox_blocks); it then also makes the last, partial refill.
  using BlocksFn = void (*)(Block, Key, std::uint32_t*, std::size_t);
  CHIMERA_HD void fill(std::uint32_t* out, std::size_t n, BlocksFn blocks = nullptr) {
    std::size_t i = 0;
    while (i < n && pos_ < kWords) out[i++] = buf_[pos_++];
    const std::size_t refills = (n - i) / kWords;
    if (blocks != nullptr) {
      blocks(ctr_, key_, out + i, refills * Blocks);
      ctr_[0] += static_cast<std::uint32_t>(refills * Blocks);
      i += refills * kWords;
      if (i < n) {
        blocks(ctr_, key_, buf_, Blocks);
        ctr_[0] += static_cast<std::uint32_t>(Blocks);
        pos_ = 0;
      }
    } else {
      for (std::size_t r = 0; r < refills; ++r, i += kWords) {
        philox4x32_10_run<Blocks>(ctr_, key_, out + i);
        ctr_[0] += static_cast<std::uint32_t>(Blocks);
      }
    }
    while (i < n) out[i++] = next_u32();
  }

  // 53 random bits from two words (high word first).
  CHIMERA_HD std::uint64_t next_u53() {
    const std::uint64_t hi = next_u32();
    const std::uint64_t lo = next_u32();
    return ((hi << 32) | lo) >> 11;
  }

  // Uniform on [0, 1).
  CHIMERA_HD double uniform() { return static_cast<double>(next_u53()) * kTwoPowMinus53; }

  // Uniform on (0, 1) at 32-bit resolution, one word (uniform32_of).
  CHIMERA_HD double uniform32() { return uniform32_of(next_u32()); }

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
  static constexpr int kWords = 4 * Blocks;
  Key key_;
  Block ctr_;
  std::uint32_t buf_[kWords] = {};
  int pos_ = kWords;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

using Stream = BasicStream<1>;
using BulkStream = BasicStream<4>;

}  // namespace chimera::rng
