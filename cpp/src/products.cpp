#include "chimera/products.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace chimera::es {

namespace {
// SIMD vectors of doubles as values: each operation is one instruction of the width, lane by
// lane the same IEEE operation at every width (-ffp-contract=off: no FMA).
typedef double V2 __attribute__((vector_size(16)));
typedef double V4 __attribute__((vector_size(32)));
typedef double V8 __attribute__((vector_size(64)));
// A dot product's lanes (products.hpp), held in kLanes / width vectors of a narrower width.
constexpr std::size_t kLanes = 8;

// Columns per block: a block of M's rows (lambda, m ~ 30) stays in L2 for dot_rows and in L1
// for add_combination while every row of the other operand passes over it.
constexpr std::size_t kDotBlock = 512;
constexpr std::size_t kCombineBlock = 128;
// Below this many multiply-adds a parallel region costs more than it saves.
constexpr std::size_t kParallelGrain = 1 << 18;
// dot_rows holds the eight lanes of at most this many pairs at once (4 MB).
constexpr std::size_t kPairsPerPass = 1 << 16;

#define CHIMERA_INLINE __attribute__((always_inline)) inline

// The same vectors at any address (loads and stores of unaligned rows), allowed to alias
// doubles.
typedef double V2u __attribute__((vector_size(16), aligned(8), may_alias));
typedef double V4u __attribute__((vector_size(32), aligned(8), may_alias));
typedef double V8u __attribute__((vector_size(64), aligned(8), may_alias));
template <class V>
struct Unaligned;
template <>
struct Unaligned<V2> {
  using type = V2u;
};
template <>
struct Unaligned<V4> {
  using type = V4u;
};
template <>
struct Unaligned<V8> {
  using type = V8u;
};

// By reference: a vector returned by value would change the ABI between the versions.
template <class V>
CHIMERA_INLINE void load(V& v, const double* p) {
  v = *reinterpret_cast<const typename Unaligned<V>::type*>(p);
}

template <class V>
CHIMERA_INLINE void store(double* p, const V& v) {
  *reinterpret_cast<typename Unaligned<V>::type*>(p) = v;
}

// The lanes of TI x TJ dot products, rows i0.. of A against rows j0.. of B, over columns
// [c0, c1) (a multiple of eight apart), added into part (each pair's eight lanes, row-major by
// (i, j)). S vectors of W lanes hold a pair's eight.
template <class V, int TI, int TJ>
CHIMERA_INLINE void dot_tile(double* part, const double* A, const double* B, std::size_t rb,
                             std::size_t n, std::size_t i0, std::size_t j0, std::size_t c0,
                             std::size_t c1) {
  constexpr std::size_t W = sizeof(V) / sizeof(double), S = kLanes / W;
  V acc[TI][TJ][S];
  for (int r = 0; r < TI; ++r)
    for (int s = 0; s < TJ; ++s)
      for (std::size_t h = 0; h < S; ++h)
        load(acc[r][s][h], part + ((i0 + r) * rb + j0 + s) * kLanes + W * h);
  for (std::size_t c = c0; c < c1; c += kLanes) {
    V a[TI][S], b[TJ][S];
    for (int r = 0; r < TI; ++r)
      for (std::size_t h = 0; h < S; ++h) load(a[r][h], A + (i0 + r) * n + c + W * h);
    for (int s = 0; s < TJ; ++s)
      for (std::size_t h = 0; h < S; ++h) load(b[s][h], B + (j0 + s) * n + c + W * h);
    for (int r = 0; r < TI; ++r)
      for (int s = 0; s < TJ; ++s)
        for (std::size_t h = 0; h < S; ++h) acc[r][s][h] = acc[r][s][h] + a[r][h] * b[s][h];
  }
  for (int r = 0; r < TI; ++r)
    for (int s = 0; s < TJ; ++s)
      for (std::size_t h = 0; h < S; ++h)
        store(part + ((i0 + r) * rb + j0 + s) * kLanes + W * h, acc[r][s][h]);
}

// The tile for the rows left at an edge (fewer than TI or TJ): sizes as template arguments so
// that each tile's accumulators stay in registers.
template <class V, int TI, int TJ>
CHIMERA_INLINE void dot_edge(double* part, const double* A, const double* B, std::size_t rb,
                             std::size_t n, std::size_t i0, std::size_t j0, std::size_t c0,
                             std::size_t c1, std::size_t ti, std::size_t tj) {
  if constexpr (TI > 1) {
    if (ti < TI) return dot_edge<V, TI - 1, TJ>(part, A, B, rb, n, i0, j0, c0, c1, ti, tj);
  }
  if constexpr (TJ > 1) {
    if (tj < TJ) return dot_edge<V, TI, TJ - 1>(part, A, B, rb, n, i0, j0, c0, c1, ti, tj);
  }
  dot_tile<V, TI, TJ>(part, A, B, rb, n, i0, j0, c0, c1);
}

// Row tile i0 (at most TI rows) against every row of B over columns [c0, c1).
template <class V, int TI, int TJ>
CHIMERA_INLINE void dot_block(double* part, const double* A, const double* B, std::size_t ra,
                              std::size_t rb, std::size_t n, std::size_t i0, std::size_t c0,
                              std::size_t c1) {
  for (std::size_t j0 = 0; j0 < rb; j0 += TJ) {
    dot_edge<V, TI, TJ>(part, A, B, rb, n, i0, j0, c0, c1, std::min<std::size_t>(TI, ra - i0),
                        std::min<std::size_t>(TJ, rb - j0));
  }
}

// Rows i0.. (TR of them) of Y over TV vectors from column c: a Z + C M, M's rows in order.
template <class V, int TR, int TV>
CHIMERA_INLINE void combine_tile(double* Y, double a, const double* Z, const double* C,
                                 const double* M, std::size_t k, std::size_t n, std::size_t i0,
                                 std::size_t c) {
  constexpr std::size_t W = sizeof(V) / sizeof(double);
  V acc[TR][TV];
  for (int r = 0; r < TR; ++r)
    for (int v = 0; v < TV; ++v) {
      load(acc[r][v], Z + (i0 + r) * n + c + W * v);
      acc[r][v] = a * acc[r][v];
    }
  for (std::size_t j = 0; j < k; ++j) {
    V m[TV];
    for (int v = 0; v < TV; ++v) load(m[v], M + j * n + c + W * v);
    for (int r = 0; r < TR; ++r) {
      const double w = C[(i0 + r) * k + j];
      for (int v = 0; v < TV; ++v) acc[r][v] = acc[r][v] + w * m[v];
    }
  }
  for (int r = 0; r < TR; ++r)
    for (int v = 0; v < TV; ++v) store(Y + (i0 + r) * n + c + W * v, acc[r][v]);
}

// Rows i0.. (tr of them, at most TR) of Y over columns [c0, c1): whole tiles, then single
// vectors, then the columns past the last whole vector one at a time.
template <class V, int TR, int TV>
CHIMERA_INLINE void combine_rows(double* Y, double a, const double* Z, const double* C,
                                 const double* M, std::size_t k, std::size_t n, std::size_t i0,
                                 std::size_t tr, std::size_t c0, std::size_t c1) {
  if constexpr (TR > 1) {
    if (tr < TR) return combine_rows<V, TR - 1, TV>(Y, a, Z, C, M, k, n, i0, tr, c0, c1);
  }
  constexpr std::size_t W = sizeof(V) / sizeof(double);
  std::size_t c = c0;
  for (; c + W * TV <= c1; c += W * TV) combine_tile<V, TR, TV>(Y, a, Z, C, M, k, n, i0, c);
  for (; c + W <= c1; c += W) combine_tile<V, TR, 1>(Y, a, Z, C, M, k, n, i0, c);
  for (std::size_t i = i0; i < i0 + TR; ++i) {
    for (std::size_t cc = c; cc < c1; ++cc) {
      double y = a * Z[i * n + cc];
      for (std::size_t j = 0; j < k; ++j) y = y + C[i * k + j] * M[j * n + cc];
      Y[i * n + cc] = y;
    }
  }
}

// One version per instruction set, each with its width and the tiles its registers hold (the
// fastest measured at lambda = m = 31, n = 10,000 on a Zen 5 core: AVX-512's 32 registers take
// 4 x 4 pairs' lanes, AVX2's 16 of half the width 4 x 1, reading B from memory). OpenMP's
// regions stay outside them: GCC compiles an outlined region for the default target.
using DotBlock = void (*)(double*, const double*, const double*, std::size_t, std::size_t,
                          std::size_t, std::size_t, std::size_t, std::size_t);
using CombineBlock = void (*)(double*, double, const double*, const double*, const double*,
                              std::size_t, std::size_t, std::size_t, std::size_t, std::size_t);

// dot_block_<name> and combine_block_<name>: a row tile against B over a column block, and
// every row of Y over one, for the instruction set in attrs with vectors V, dot tiles of DI x DJ
// pairs and combination tiles of CR rows x CV vectors.
#define CHIMERA_BLOCKS(name, attrs, V, DI, DJ, CR, CV)                                         \
  constexpr std::size_t kDotRows_##name = DI;                                                 \
  attrs void dot_block_##name(double* part, const double* A, const double* B, std::size_t ra, \
                              std::size_t rb, std::size_t n, std::size_t i0, std::size_t c0,  \
                              std::size_t c1) {                                               \
    dot_block<V, DI, DJ>(part, A, B, ra, rb, n, i0, c0, c1);                                  \
  }                                                                                           \
  attrs void combine_block_##name(double* Y, double a, const double* Z, const double* C,      \
                                  const double* M, std::size_t rows, std::size_t k,           \
                                  std::size_t n, std::size_t c0, std::size_t c1) {            \
    for (std::size_t i0 = 0; i0 < rows; i0 += CR) {                                           \
      combine_rows<V, CR, CV>(Y, a, Z, C, M, k, n, i0, std::min<std::size_t>(CR, rows - i0),  \
                              c0, c1);                                                        \
    }                                                                                         \
  }

CHIMERA_BLOCKS(base, , V2, 2, 1, 4, 2)
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CHIMERA_X86 1
CHIMERA_BLOCKS(avx2, __attribute__((target("avx2"))), V4, 4, 1, 4, 2)
CHIMERA_BLOCKS(avx512, __attribute__((target("avx512f"))), V8, 4, 4, 6, 2)

// The widest instruction set this CPU runs (asked once; cpu_init first, as avx2.cpp does).
int simd_level() {
  static const int level = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 2;
    return __builtin_cpu_supports("avx2") ? 1 : 0;
  }();
  return level;
}
#endif

// The version for simd (capped at the CPU's) and its dot tile's rows of A.
struct Versions {
  DotBlock dot = dot_block_base;
  CombineBlock combine = combine_block_base;
  std::size_t tile = kDotRows_base;
};

Versions versions(int simd) {
#if defined(CHIMERA_X86)
  const int level = std::min(simd, simd_level());
  if (level >= 2) return {dot_block_avx512, combine_block_avx512, kDotRows_avx512};
  if (level == 1) return {dot_block_avx2, combine_block_avx2, kDotRows_avx2};
#else
  (void)simd;
#endif
  return {};
}

// The products of ra rows of A by rb rows of B (out's rows ld apart), their lanes in part.
void dot_pass(double* out, std::size_t ld, const double* A, const double* B, std::size_t ra,
              std::size_t rb, std::size_t n, const Versions& v, double* part) {
  std::fill(part, part + ra * rb * kLanes, 0.0);
  const std::size_t whole = n - n % kLanes;  // columns in whole vectors
  const auto row_tiles = static_cast<std::int64_t>((ra + v.tile - 1) / v.tile);
  // Column blocks in order, row tiles in parallel: each pair's lanes have one owner, which
  // adds the products in column order.
#pragma omp parallel if (ra * rb * n >= kParallelGrain)
  for (std::size_t c0 = 0; c0 < whole; c0 += kDotBlock) {
#pragma omp for schedule(static)
    for (std::int64_t t = 0; t < row_tiles; ++t) {
      v.dot(part, A, B, ra, rb, n, static_cast<std::size_t>(t) * v.tile, c0,
            std::min(whole, c0 + kDotBlock));
    }
  }
  for (std::size_t i = 0; i < ra; ++i) {
    for (std::size_t j = 0; j < rb; ++j) {
      double* s = part + (i * rb + j) * kLanes;
      for (std::size_t c = whole; c < n; ++c) {
        s[c - whole] = s[c - whole] + A[i * n + c] * B[j * n + c];
      }
      out[i * ld + j] = ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
    }
  }
}
}  // namespace

void dot_rows(double* out, const double* A, const double* B, std::size_t ra, std::size_t rb,
              std::size_t n, int simd) {
  const Versions v = versions(simd);
  // Passes over blocks of at most kPairsPerPass pairs (whole row tiles of A), each pair's
  // lanes summed within one pass: the scratch stays small whatever the shape.
  const std::size_t cols = std::max<std::size_t>(1, std::min(rb, kPairsPerPass / v.tile));
  const std::size_t rows = std::max(v.tile, kPairsPerPass / cols / v.tile * v.tile);
  std::vector<double> part(std::min(ra, rows) * std::min(rb, cols) * kLanes);
  for (std::size_t a0 = 0; a0 < ra; a0 += rows) {
    for (std::size_t b0 = 0; b0 < rb; b0 += cols) {
      dot_pass(out + a0 * rb + b0, rb, A + a0 * n, B + b0 * n, std::min(rows, ra - a0),
               std::min(cols, rb - b0), n, v, part.data());
    }
  }
}

void add_combination(double* Y, double a, const double* Z, const double* C, const double* M,
                     std::size_t rows, std::size_t k, std::size_t n, int simd) {
  const Versions v = versions(simd);
  const auto blocks = static_cast<std::int64_t>((n + kCombineBlock - 1) / kCombineBlock);
  // Column blocks in parallel: every element is summed by one thread in the defined order.
#pragma omp parallel for schedule(static) if (rows * k * n >= kParallelGrain)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::size_t c0 = static_cast<std::size_t>(b) * kCombineBlock;
    v.combine(Y, a, Z, C, M, rows, k, n, c0, std::min(n, c0 + kCombineBlock));
  }
}

}  // namespace chimera::es
