// CUDA twins of the host drivers in cpp/src/ga.cpp. The per-pair work is the same code
// (chimera/operators.hpp, chimera/rng.hpp, compiled here for the device), one thread per
// individual, selection slot or offspring pair; docs/kernels.md is the contract. Compiled with
// --fmad=false so that a*b+c rounds as in the C++ build (-ffp-contract=off).
//
// Population-wide steps follow the C++ order exactly:
//   - truncation ranks rows with CUB's radix sort, which is stable and treats -0.0 and +0.0 as
//     equal, i.e. the order of std::stable_sort by f with ties by row;
//   - stochastic universal sampling is sequential by definition (running sums in row order, one
//     stream for the whole shuffle), so it runs on the host, as in ga.cpp, and only the slots go
//     to the device.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <cub/device/device_radix_sort.cuh>

#include "chimera/ga.hpp"
#include "chimera/operators.hpp"
#include "chimera/rng.hpp"
#include "ga_cuda.hpp"
#include "launch.cuh"

namespace chimera::cuda {

namespace {

template <class T>
constexpr bool kIntegral = std::is_integral_v<T>;
template <class T>
constexpr bool kBoolean = std::is_same_v<T, std::uint8_t>;

using namespace detail;  // NOLINT: launch.cuh, the helpers every .cu file shares

constexpr unsigned kBreedThreads = 128;  // breed_pair keeps a 64-entry table per thread

// ---------------------------------------------------------------------------------------------
// Kernels

template <class T>
__global__ void init_uniform_kernel(T* out, std::size_t n, std::size_t d, const double* low,
                                    const double* high, std::uint64_t seed) {
  for (std::size_t i = thread_index(); i < n; i += thread_stride()) {
    rng::Stream st(seed, 0, static_cast<std::uint32_t>(i), rng::kInit);
    T* row = out + i * d;
    for (std::size_t j = 0; j < d; ++j) {
      row[j] = ga::init_gene<T>(st, low[j], high[j], kIntegral<T>, kBoolean<T>);
    }
  }
}

__global__ void iota_kernel(std::int32_t* rows, std::size_t n) {
  for (std::size_t i = thread_index(); i < n; i += thread_stride()) {
    rows[i] = static_cast<std::int32_t>(i);
  }
}

// Tournament or truncation: slot s from Stream(seed, gen, s, SELECT).
__global__ void select_kernel(const double* f, std::uint32_t n, std::size_t count,
                              ga::BreedConfig cfg, const std::int32_t* order,
                              std::int32_t* slots) {
  for (std::size_t s = thread_index(); s < count; s += thread_stride()) {
    slots[s] = static_cast<std::int32_t>(
        ga::select_slot(f, n, static_cast<std::uint32_t>(s), cfg, order));
  }
}

template <class T>
__global__ void breed_kernel(const T* X, std::size_t d, const double* low, const double* high,
                             const std::int32_t* slots, T* out, std::int32_t* parents,
                             std::size_t m, std::size_t pairs, ga::BreedConfig cfg) {
  for (std::size_t p = thread_index(); p < pairs; p += thread_stride()) {
    ga::breed_pair(X, d, low, high, slots, out, parents, m, static_cast<std::uint32_t>(p), cfg);
  }
}

// Point crossovers (and none): each offspring pair is its parents with a segment [a, b)
// swapped, then mutated. A warp takes 32 pairs; each lane plans its own (selection and the
// segment, with breed_pair's draws); the warp copies the pairs one after another, lanes side by
// side, so that every row moves in whole cache lines (16-byte vectors when the rows allow; a
// thread per pair would touch 32 rows per instruction); then each lane mutates its two
// children in place, while they are still in L2. The block size is a multiple of 32.
struct PairPlan {
  std::int32_t pa, pb;  // parent rows
  std::uint32_t a, b;   // genes [a, b) come from the other parent
};

// V: T itself, or a 16-byte vector of T when d is a multiple of its width and the arrays are
// 16-byte aligned. slots: the selected rows (stochastic universal sampling), or null to select
// here.
template <class T, class V>
__global__ void breed_segment_kernel(const T* __restrict__ X, const double* f, std::uint32_t n,
                                     const std::int32_t* order, const std::int32_t* slots,
                                     std::size_t d, const double* low, const double* high,
                                     T* __restrict__ out, std::int32_t* parents, std::size_t m,
                                     std::size_t pairs, ga::BreedConfig cfg) {
  constexpr unsigned kAll = 0xffffffffu;
  constexpr unsigned kPer = sizeof(V) / sizeof(T);
  __shared__ std::uint32_t table[ga::kMaxMutationTable];
  for (std::size_t k = threadIdx.x; k < cfg.mutation_cdf_len; k += blockDim.x) {
    table[k] = cfg.mutation_cdf[k];
  }
  __syncthreads();
  cfg.mutation_cdf = table;
  const std::size_t width = d / kPer;
  const unsigned lane = threadIdx.x % 32;
  for (std::size_t base = thread_index() - lane; base < pairs; base += thread_stride()) {
    const std::size_t p = base + lane;  // base is the same across the warp
    PairPlan pl{0, 0, 0, 0};
    if (p < pairs) {
      const auto s = static_cast<std::uint32_t>(2 * p);
      pl.pa = slots ? slots[s] : static_cast<std::int32_t>(ga::select_slot(f, n, s, cfg, order));
      pl.pb = slots ? slots[s + 1]
                    : static_cast<std::int32_t>(ga::select_slot(f, n, s + 1, cfg, order));
      ga::swap_segment(d, static_cast<std::uint32_t>(p), cfg, pl.a, pl.b);
    }
    const auto count = static_cast<unsigned>(pairs - base < 32 ? pairs - base : 32);
    for (unsigned q = 0; q < count; ++q) {
      const std::int32_t pa = __shfl_sync(kAll, pl.pa, q), pb = __shfl_sync(kAll, pl.pb, q);
      const std::uint32_t a = __shfl_sync(kAll, pl.a, q), b = __shfl_sync(kAll, pl.b, q);
      const V* r1 = reinterpret_cast<const V*>(X + static_cast<std::size_t>(pa) * d);
      const V* r2 = reinterpret_cast<const V*>(X + static_cast<std::size_t>(pb) * d);
      const std::size_t i1 = 2 * (base + q);
      V* c1 = reinterpret_cast<V*>(out + i1 * d);
      V* c2 = i1 + 1 < m ? c1 + width : nullptr;
      for (std::size_t k = lane; k < width; k += 32) {
        const V x = r1[k], y = r2[k];
        V o1 = x, o2 = y;
        const std::size_t j0 = k * kPer;
        if (j0 + kPer > a && j0 < b) {  // the vector meets the segment
          const T* xs = reinterpret_cast<const T*>(&x);
          const T* ys = reinterpret_cast<const T*>(&y);
          T* s1 = reinterpret_cast<T*>(&o1);
          T* s2 = reinterpret_cast<T*>(&o2);
#pragma unroll
          for (unsigned e = 0; e < kPer; ++e) {
            if (j0 + e >= a && j0 + e < b) {
              s1[e] = ys[e];
              s2[e] = xs[e];
            }
          }
        }
        c1[k] = o1;
        if (c2) c2[k] = o2;
      }
    }
    __syncwarp();  // the children are written before their owners mutate them
    if (p < pairs) {
      const std::size_t i1 = 2 * p, i2 = i1 + 1;
      ga::mutate_child(out + i1 * d, d, low, high, static_cast<std::uint32_t>(i1), cfg);
      parents[2 * i1] = pl.pa;
      parents[2 * i1 + 1] = pl.pb;
      if (i2 < m) {
        ga::mutate_child(out + i2 * d, d, low, high, static_cast<std::uint32_t>(i2), cfg);
        parents[2 * i2] = pl.pb;
        parents[2 * i2 + 1] = pl.pa;
      }
    }
  }
}

template <class T>
void breed_segments(const T* X, const double* f, std::uint32_t n, const std::int32_t* order,
                    const std::int32_t* slots, std::size_t d, const double* low,
                    const double* high, T* out, std::int32_t* parents, std::size_t m,
                    std::size_t pairs, const ga::BreedConfig& cfg) {
  constexpr std::size_t kPer = 16 / sizeof(T);
  const bool vectors = reinterpret_cast<std::uintptr_t>(X) % 16 == 0 &&
                       reinterpret_cast<std::uintptr_t>(out) % 16 == 0 && d % kPer == 0;
  const unsigned blocks = blocks_for(pairs, kBreedThreads);
  if (vectors) {
    breed_segment_kernel<T, uint4><<<blocks, kBreedThreads>>>(X, f, n, order, slots, d, low,
                                                              high, out, parents, m, pairs, cfg);
  } else {
    breed_segment_kernel<T, T><<<blocks, kBreedThreads>>>(X, f, n, order, slots, d, low, high,
                                                          out, parents, m, pairs, cfg);
  }
  check_launch("breed_segment_kernel");
}

// ---------------------------------------------------------------------------------------------
// Population-wide steps

// Scratch memory of one breed call; it lives until the final synchronize, so nothing is freed
// under a kernel still reading it.
struct Scratch {
  DeviceBuffer slots, order, rows, keys, temp;
};

// order = rows sorted by f (device), ties by row.
void stable_order(const double* f, std::size_t n, std::int32_t* order, Scratch& scratch) {
  scratch.rows = DeviceBuffer(n * sizeof(std::int32_t));
  scratch.keys = DeviceBuffer(n * sizeof(double));
  auto* r = static_cast<std::int32_t*>(scratch.rows.get());
  auto* k = static_cast<double*>(scratch.keys.get());
  iota_kernel<<<blocks_for(n, kThreads), kThreads>>>(r, n);
  check_launch("iota_kernel");
  const int items = static_cast<int>(n);
  constexpr int kEndBit = static_cast<int>(sizeof(double) * 8);
  std::size_t temp_bytes = 0;
  check(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, f, k, r, order, items, 0, kEndBit,
                                        cudaStream_t{}),
        "cub::DeviceRadixSort::SortPairs (temporary storage size)");
  scratch.temp = DeviceBuffer(temp_bytes);
  check(cub::DeviceRadixSort::SortPairs(scratch.temp.get(), temp_bytes, f, k, r, order, items, 0,
                                        kEndBit, cudaStream_t{}),
        "cub::DeviceRadixSort::SortPairs");
}

template <class T>
void check_genes(const ga::BreedConfig& cfg) {
  if (kIntegral<T> && ga::needs_real_genes(cfg)) {
    throw std::invalid_argument("blend, SBX, Gaussian and polynomial operators need real genes");
  }
}

// The checks the C++ drivers rely on their callers for; on a GPU a bad index is not a wrong
// answer but a dead context, so the launchers repeat them.
void validate(std::size_t n, std::size_t m, const ga::BreedConfig& cfg) {
  constexpr std::size_t kRowLimit = std::size_t{1} << 31;
  if (n >= kRowLimit || m >= kRowLimit) {
    throw std::invalid_argument("populations are limited to 2^31 rows");
  }
  if (cfg.selection < ga::kTournament || cfg.selection > ga::kStochasticUniversal) {
    throw std::invalid_argument("unknown selection code");
  }
  if (cfg.crossover < ga::kNoCrossover || cfg.crossover > ga::kSBX) {
    throw std::invalid_argument("unknown crossover code");
  }
  if (cfg.mutation < ga::kNoMutation || cfg.mutation > ga::kRandomReset) {
    throw std::invalid_argument("unknown mutation code");
  }
  if (cfg.bounds != ga::kClip && cfg.bounds != ga::kReflect) {
    throw std::invalid_argument("unknown bounds code");
  }
  if (cfg.mutation_cdf_len > ga::kMaxMutationTable) {
    throw std::invalid_argument("mutation_cdf has more than 64 entries");
  }
  if (cfg.mutation_cdf_len > 0 && cfg.mutation_cdf == nullptr) {
    throw std::invalid_argument("mutation_cdf is null");
  }
  if (n > 0 && cfg.selection == ga::kTournament && cfg.selection_size < 1) {
    throw std::invalid_argument("tournament size must be at least 1");
  }
  if (n > 0 && cfg.selection == ga::kTruncation &&
      (cfg.selection_size < 1 || static_cast<std::size_t>(cfg.selection_size) > n)) {
    throw std::invalid_argument("truncation must keep between 1 and n rows");
  }
}

// breed on device buffers; f_host, when not null, is the same fitness in host memory (SUS).
template <class T>
void breed_on_device(const T* X, const double* f, const double* f_host, std::size_t n,
                     std::size_t d, const double* low, const double* high, T* out,
                     std::int32_t* parents, std::size_t m, const ga::BreedConfig& cfg) {
  validate(n, m, cfg);
  if (n == 0 || m == 0) return;
  check_genes<T>(cfg);
  const std::size_t pairs = (m + 1) / 2, count = 2 * pairs;
  Scratch scratch;
  const std::int32_t* order = nullptr;
  const std::int32_t* slots = nullptr;
  if (cfg.selection == ga::kStochasticUniversal) {
    std::vector<double> staged;
    if (f_host == nullptr) {
      staged.resize(n);
      check(cudaMemcpy(staged.data(), f, n * sizeof(double), cudaMemcpyDeviceToHost),
            "cudaMemcpy (fitness to host)");
      f_host = staged.data();
    }
    std::vector<std::int32_t> host_slots(count);
    ga::sus_slots(f_host, n, host_slots.data(), count, cfg);  // sequential by definition
    scratch.slots = DeviceBuffer(count * sizeof(std::int32_t));
    scratch.slots.upload(host_slots.data(), count * sizeof(std::int32_t));
    slots = static_cast<const std::int32_t*>(scratch.slots.get());
  } else if (cfg.selection == ga::kTruncation) {
    scratch.order = DeviceBuffer(n * sizeof(std::int32_t));
    stable_order(f, n, static_cast<std::int32_t*>(scratch.order.get()), scratch);
    order = static_cast<const std::int32_t*>(scratch.order.get());
  }
  const auto rows = static_cast<std::uint32_t>(n);
  if (ga::swaps_segment(cfg)) {
    breed_segments<T>(X, f, rows, order, slots, d, low, high, out, parents, m, pairs, cfg);
  } else {
    if (slots == nullptr) {
      scratch.slots = DeviceBuffer(count * sizeof(std::int32_t));
      auto* sl = static_cast<std::int32_t*>(scratch.slots.get());
      select_kernel<<<blocks_for(count, kThreads), kThreads>>>(f, rows, count, cfg, order, sl);
      check_launch("select_kernel");
      slots = sl;
    }
    breed_kernel<T><<<blocks_for(pairs, kBreedThreads), kBreedThreads>>>(
        X, d, low, high, slots, out, parents, m, pairs, cfg);
    check_launch("breed_kernel");
  }
  synchronize();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Launchers

template <class T>
void init_uniform_device(T* out, std::size_t n, std::size_t d, const double* low,
                         const double* high, std::uint64_t seed) {
  if (n == 0 || d == 0) return;
  init_uniform_kernel<T><<<blocks_for(n, kThreads), kThreads>>>(out, n, d, low, high, seed);
  check_launch("init_uniform_kernel");
  synchronize();
}

template <class T>
void init_uniform_host(T* out, std::size_t n, std::size_t d, const double* low,
                       const double* high, std::uint64_t seed) {
  if (n == 0 || d == 0) return;
  DeviceBuffer lo(d * sizeof(double)), hi(d * sizeof(double)), o(n * d * sizeof(T));
  lo.upload(low, d * sizeof(double));
  hi.upload(high, d * sizeof(double));
  init_uniform_device<T>(static_cast<T*>(o.get()), n, d, static_cast<const double*>(lo.get()),
                         static_cast<const double*>(hi.get()), seed);
  o.download(out, n * d * sizeof(T));
}

template <class T>
void breed_device(const T* X, const double* f, std::size_t n, std::size_t d, const double* low,
                  const double* high, T* out, std::int32_t* parents, std::size_t m,
                  const ga::BreedConfig& cfg) {
  breed_on_device<T>(X, f, nullptr, n, d, low, high, out, parents, m, cfg);
}

template <class T>
void breed_host(const T* X, const double* f, std::size_t n, std::size_t d, const double* low,
                const double* high, T* out, std::int32_t* parents, std::size_t m,
                const ga::BreedConfig& cfg) {
  validate(n, m, cfg);
  if (n == 0 || m == 0) return;
  check_genes<T>(cfg);
  DeviceBuffer x(n * d * sizeof(T)), fit(n * sizeof(double)), lo(d * sizeof(double)),
      hi(d * sizeof(double)), cdf(cfg.mutation_cdf_len * sizeof(std::uint32_t)),
      o(m * d * sizeof(T)), par(m * 2 * sizeof(std::int32_t));
  x.upload(X, x.size());
  fit.upload(f, fit.size());
  lo.upload(low, lo.size());
  hi.upload(high, hi.size());
  cdf.upload(cfg.mutation_cdf, cdf.size());
  ga::BreedConfig dcfg = cfg;
  dcfg.mutation_cdf = static_cast<const std::uint32_t*>(cdf.get());
  breed_on_device<T>(static_cast<const T*>(x.get()), static_cast<const double*>(fit.get()), f, n,
                     d, static_cast<const double*>(lo.get()), static_cast<const double*>(hi.get()),
                     static_cast<T*>(o.get()), static_cast<std::int32_t*>(par.get()), m, dcfg);
  o.download(out, o.size());
  par.download(parents, par.size());
}

#define CHIMERA_CUDA_INSTANTIATE(T)                                                             \
  template void init_uniform_device<T>(T*, std::size_t, std::size_t, const double*,             \
                                       const double*, std::uint64_t);                           \
  template void init_uniform_host<T>(T*, std::size_t, std::size_t, const double*, const double*, \
                                     std::uint64_t);                                            \
  template void breed_device<T>(const T*, const double*, std::size_t, std::size_t, const double*, \
                                const double*, T*, std::int32_t*, std::size_t,                  \
                                const ga::BreedConfig&);                                        \
  template void breed_host<T>(const T*, const double*, std::size_t, std::size_t, const double*,   \
                              const double*, T*, std::int32_t*, std::size_t,                    \
                              const ga::BreedConfig&);
CHIMERA_CUDA_INSTANTIATE(double)
CHIMERA_CUDA_INSTANTIATE(float)
CHIMERA_CUDA_INSTANTIATE(std::int32_t)
CHIMERA_CUDA_INSTANTIATE(std::uint8_t)
#undef CHIMERA_CUDA_INSTANTIATE

}  // namespace chimera::cuda
