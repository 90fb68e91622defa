#include "chimera/avx512.hpp"

#if defined(CHIMERA_AVX512)
#include <immintrin.h>

namespace chimera::avx512 {

#define CHIMERA_TARGET_AVX512 __attribute__((target("avx512f")))

bool supported() {
  static const bool yes = [] {
    __builtin_cpu_init();  // before libgcc's own constructor may have run (avx2.cpp)
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return yes;
}

namespace {

// Every lane on: GCC 12's unmasked forms of these intrinsics pass an undefined vector as the
// merge source, which its -Wuninitialized flags once inlined (as avx2.cpp's gathers do).
constexpr __mmask8 kAll = 0xFF;

// 8 * Chains blocks from counter ctr[0]: each chain holds a block's word in each 64-bit lane.
// vpmuludq reads only a lane's low 32 bits, so the rounds leave the high halves of words 1
// and 3 as they fall and the output masks them once; three-way XORs are one vpternlogq.
template <int Chains>
CHIMERA_TARGET_AVX512 void philox_lanes(const rng::Block& ctr, rng::Key key, std::uint32_t* out) {
  const __m512i low = _mm512_set1_epi64(0xFFFFFFFFll);
  const __m512i m0 = _mm512_set1_epi64(rng::kPhiloxM0);
  const __m512i m1 = _mm512_set1_epi64(rng::kPhiloxM1);
  __m512i x[Chains][4];
  for (int g = 0; g < Chains; ++g) {
    const std::uint32_t c0 = ctr[0] + 8u * static_cast<std::uint32_t>(g);
    x[g][0] = _mm512_set_epi64(c0 + 7u, c0 + 6u, c0 + 5u, c0 + 4u, c0 + 3u, c0 + 2u, c0 + 1u, c0);
    x[g][1] = _mm512_set1_epi64(ctr[1]);
    x[g][2] = _mm512_set1_epi64(ctr[2]);
    x[g][3] = _mm512_set1_epi64(ctr[3]);
  }
  CHIMERA_UNROLL(10)
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key[0] += rng::kPhiloxW0;
      key[1] += rng::kPhiloxW1;
    }
    const __m512i k0 = _mm512_set1_epi64(key[0]), k1 = _mm512_set1_epi64(key[1]);
    CHIMERA_UNROLL(4)
    for (int g = 0; g < Chains; ++g) {
      __m512i* v = x[g];
      const __m512i p0 = _mm512_maskz_mul_epu32(kAll, v[0], m0);
      const __m512i p1 = _mm512_maskz_mul_epu32(kAll, v[2], m1);
      v[0] = _mm512_ternarylogic_epi64(_mm512_maskz_srli_epi64(kAll, p1, 32), v[1], k0,
                                       0x96);  // a ^ b ^ c
      v[1] = p1;
      v[2] = _mm512_ternarylogic_epi64(_mm512_maskz_srli_epi64(kAll, p0, 32), v[3], k1, 0x96);
      v[3] = p0;
    }
  }
  // Lane b of w01 is block b's words 0-1, of w23 its words 2-3; the unpacks pair them within
  // each 128-bit quarter (blocks 0, 2, 4, 6 and 1, 3, 5, 7), the permutes put blocks in order.
  const __m512i first = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0);
  const __m512i second = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4);
  auto* o = reinterpret_cast<__m512i*>(out);
  for (int g = 0; g < Chains; ++g) {
    const __m512i w01 = _mm512_or_si512(_mm512_and_si512(x[g][0], low),
                                        _mm512_maskz_slli_epi64(kAll, x[g][1], 32));
    const __m512i w23 = _mm512_or_si512(_mm512_and_si512(x[g][2], low),
                                        _mm512_maskz_slli_epi64(kAll, x[g][3], 32));
    const __m512i lo = _mm512_maskz_unpacklo_epi64(kAll, w01, w23);
    const __m512i hi = _mm512_maskz_unpackhi_epi64(kAll, w01, w23);
    _mm512_storeu_si512(o + 2 * g, _mm512_permutex2var_epi64(lo, first, hi));
    _mm512_storeu_si512(o + 2 * g + 1, _mm512_permutex2var_epi64(lo, second, hi));
  }
}

}  // namespace

CHIMERA_TARGET_AVX512 void philox_blocks(rng::Block ctr, rng::Key key, std::uint32_t* out,
                                         std::size_t blocks) {
  std::size_t b = 0;
  for (; b + 32 <= blocks; b += 32, ctr[0] += 32) philox_lanes<4>(ctr, key, out + 4 * b);
  for (; b + 8 <= blocks; b += 8, ctr[0] += 8) philox_lanes<1>(ctr, key, out + 4 * b);
  for (; b < blocks; ++b, ++ctr[0]) rng::philox4x32_10_run<1>(ctr, key, out + 4 * b);
}

}  // namespace chimera::avx512
#endif
