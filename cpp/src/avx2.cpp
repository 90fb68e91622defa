#include "chimera/avx2.hpp"

#if defined(CHIMERA_AVX2)
#include <immintrin.h>

#include "chimera/variates.hpp"

namespace chimera::avx2 {

#define CHIMERA_TARGET_AVX2 __attribute__((target("avx2")))

bool supported() {
  // libgcc checks the OS saves the YMM registers too. cpu_init first: this may run before
  // libgcc's own constructor has (a static initialiser in another library).
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return yes;
}

namespace {

// 4 * Chains blocks, counters ctr[0] + b: each chain is four 64-bit lanes, each lane one
// block's word zero-extended (vpmuludq gives the full 64-bit product), as in rng.hpp's SSE2
// version. Independent chains overlap the multiplies' latency; the loops are unrolled so that
// the chains stay in registers.
template <int Chains>
CHIMERA_TARGET_AVX2 void philox_lanes(const rng::Block& ctr, rng::Key key, std::uint32_t* out) {
  const __m256i mask = _mm256_set1_epi64x(0xFFFFFFFFll);
  const __m256i m0 = _mm256_set1_epi64x(rng::kPhiloxM0);
  const __m256i m1 = _mm256_set1_epi64x(rng::kPhiloxM1);
  __m256i x[Chains][4];
  for (int g = 0; g < Chains; ++g) {
    const std::uint32_t c0 = ctr[0] + 4u * static_cast<std::uint32_t>(g);
    x[g][0] = _mm256_set_epi64x(c0 + 3u, c0 + 2u, c0 + 1u, c0);
    x[g][1] = _mm256_set1_epi64x(ctr[1]);
    x[g][2] = _mm256_set1_epi64x(ctr[2]);
    x[g][3] = _mm256_set1_epi64x(ctr[3]);
  }
  CHIMERA_UNROLL(10)
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key[0] += rng::kPhiloxW0;
      key[1] += rng::kPhiloxW1;
    }
    const __m256i k0 = _mm256_set1_epi64x(key[0]), k1 = _mm256_set1_epi64x(key[1]);
    CHIMERA_UNROLL(4)
    for (int g = 0; g < Chains; ++g) {
      __m256i* v = x[g];
      const __m256i p0 = _mm256_mul_epu32(v[0], m0);
      const __m256i p1 = _mm256_mul_epu32(v[2], m1);
      v[0] = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p1, 32), v[1]), k0);
      v[1] = _mm256_and_si256(p1, mask);
      v[2] = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p0, 32), v[3]), k1);
      v[3] = _mm256_and_si256(p0, mask);
    }
  }
  auto* o = reinterpret_cast<__m256i*>(out);
  for (int g = 0; g < Chains; ++g) {
    // Lane b of w01 is block b's words 0-1, of w23 its words 2-3; the unpacks pair them within
    // each 128-bit half (blocks 0, 2 and 1, 3), the permutes put the blocks in order.
    const __m256i w01 = _mm256_or_si256(x[g][0], _mm256_slli_epi64(x[g][1], 32));
    const __m256i w23 = _mm256_or_si256(x[g][2], _mm256_slli_epi64(x[g][3], 32));
    const __m256i lo = _mm256_unpacklo_epi64(w01, w23), hi = _mm256_unpackhi_epi64(w01, w23);
    _mm256_storeu_si256(o + 2 * g, _mm256_permute2x128_si256(lo, hi, 0x20));
    _mm256_storeu_si256(o + 2 * g + 1, _mm256_permute2x128_si256(lo, hi, 0x31));
  }
}

}  // namespace

CHIMERA_TARGET_AVX2 void philox_blocks(rng::Block ctr, rng::Key key, std::uint32_t* out,
                                       std::size_t blocks) {
  std::size_t b = 0;
  for (; b + 8 <= blocks; b += 8, ctr[0] += 8) philox_lanes<2>(ctr, key, out + 4 * b);
  if (b + 4 <= blocks) {
    philox_lanes<1>(ctr, key, out + 4 * b);
    b += 4;
    ctr[0] += 4;
  }
  for (; b < blocks; ++b, ++ctr[0]) rng::philox4x32_10_run<1>(ctr, key, out + 4 * b);
}

CHIMERA_TARGET_AVX2 void beta_first_pass(const std::uint32_t* words, std::size_t n,
                                         const double* c, const double* d, const double* inv_a,
                                         double* gammas, std::uint64_t* slow) {
  const double* zx = variates::kZiggurat.x;
  const __m256d one = _mm256_set1_pd(1.0), zero = _mm256_setzero_pd();
  // Masked gathers with every lane on: the unmasked intrinsic trips GCC 12's
  // maybe-uninitialized warning on its undefined source.
  const __m256d all = _mm256_castsi256_pd(_mm256_set1_epi64x(-1));
  const __m256d abs_mask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7FFFFFFFFFFFFFFFll));
  const __m128i layer_mask = _mm_set1_epi32(127), sign = _mm_set1_epi32(INT32_MIN);
  // The even and odd words of eight: each Gamma's normal word and its uniform word.
  const __m256i split = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
  std::size_t g = 0;
  for (; g + 4 <= n; g += 4) {
    const __m256i w8 = _mm256_permutevar8x32_epi32(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(words + 2 * g)), split);
    const __m128i wn = _mm256_castsi256_si128(w8), wu = _mm256_extracti128_si256(w8, 1);
    // ziggurat_candidate: layer = wn & 127, u = (int32(wn & ~127) + 64) 2^-31, x = u x[layer]
    const __m128i layer = _mm_and_si128(wn, layer_mask);
    const __m256d un = _mm256_mul_pd(
        _mm256_add_pd(_mm256_cvtepi32_pd(_mm_andnot_si128(layer_mask, wn)), _mm256_set1_pd(64.0)),
        _mm256_set1_pd(1.0 / 2147483648.0));
    const __m256d x = _mm256_mul_pd(un, _mm256_mask_i32gather_pd(zero, zx, layer, all, 8));
    const __m256d edge = _mm256_mask_i32gather_pd(zero, zx + 1, layer, all, 8);
    // uniform32_of: (double(wu) + 0.5) 2^-32, the unsigned word through a signed conversion
    const __m256d u = _mm256_mul_pd(
        _mm256_add_pd(_mm256_add_pd(_mm256_cvtepi32_pd(_mm_xor_si128(wu, sign)),
                                    _mm256_set1_pd(2147483648.0)),
                      _mm256_set1_pd(0.5)),
        _mm256_set1_pd(rng::kTwoPowMinus32));
    const __m256d v = _mm256_add_pd(one, _mm256_mul_pd(_mm256_loadu_pd(c + g), x));
    const __m256d x2 = _mm256_mul_pd(x, x);
    const __m256d squeeze =
        _mm256_sub_pd(one, _mm256_mul_pd(_mm256_mul_pd(_mm256_set1_pd(0.0331), x2), x2));
    __m256d exact = _mm256_cmp_pd(_mm256_and_pd(x, abs_mask), edge, _CMP_LT_OQ);
    exact = _mm256_and_pd(exact, _mm256_cmp_pd(v, zero, _CMP_GT_OQ));
    exact = _mm256_and_pd(exact, _mm256_cmp_pd(u, squeeze, _CMP_LT_OQ));
    exact = _mm256_and_pd(exact, _mm256_cmp_pd(_mm256_loadu_pd(inv_a + g), zero, _CMP_EQ_OQ));
    _mm256_storeu_pd(gammas + g,
                     _mm256_mul_pd(_mm256_loadu_pd(d + g), _mm256_mul_pd(_mm256_mul_pd(v, v), v)));
    const auto missed = static_cast<std::uint64_t>(~_mm256_movemask_pd(exact) & 15);
    slow[g / 64] |= missed << (g % 64);  // g is a multiple of 4: the four bits share a word
  }
  variates::fast_gammas(words, g, n, c, d, inv_a, gammas, slow);
}

CHIMERA_TARGET_AVX2 void normal_first_pass(const std::uint32_t* words, std::size_t n,
                                            double* out, std::uint64_t* slow) {
  const double* zx = variates::kZiggurat.x;
  const __m256d abs_mask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7FFFFFFFFFFFFFFFll));
  const __m128i layer_mask = _mm_set1_epi32(127);
  std::size_t t = 0;
  for (; t + 4 <= n; t += 4) {
    const __m128i w = _mm_loadu_si128(reinterpret_cast<const __m128i*>(words + t));
    // Each layer's x[i] and edge x[i + 1] are neighbours: one 16-byte load a normal, then
    // unpacks, where gathers (microcoded on AMD's cores) took twice as long.
    const __m256d p02 = _mm256_insertf128_pd(
        _mm256_castpd128_pd256(_mm_loadu_pd(zx + (words[t] & 127u))),
        _mm_loadu_pd(zx + (words[t + 2] & 127u)), 1);
    const __m256d p13 = _mm256_insertf128_pd(
        _mm256_castpd128_pd256(_mm_loadu_pd(zx + (words[t + 1] & 127u))),
        _mm_loadu_pd(zx + (words[t + 3] & 127u)), 1);
    const __m256d scale = _mm256_unpacklo_pd(p02, p13), edge = _mm256_unpackhi_pd(p02, p13);
    const __m256d u = _mm256_mul_pd(
        _mm256_add_pd(_mm256_cvtepi32_pd(_mm_andnot_si128(layer_mask, w)), _mm256_set1_pd(64.0)),
        _mm256_set1_pd(1.0 / 2147483648.0));
    const __m256d x = _mm256_mul_pd(u, scale);
    _mm256_storeu_pd(out + t, x);
    const __m256d fast = _mm256_cmp_pd(_mm256_and_pd(x, abs_mask), edge, _CMP_LT_OQ);
    const auto missed = static_cast<std::uint64_t>(~_mm256_movemask_pd(fast) & 15);
    slow[t / 64] |= missed << (t % 64);  // t is a multiple of 4: the four bits share a word
  }
  variates::fast_normals(words, t, n, out, slow);
}

}  // namespace chimera::avx2
#endif
