// CUDA twins of the multi-objective kernels in cpp/src/moo.cpp (docs/kernels.md). The fronts
// come from another algorithm than the C++ one (dominator counting, which suits a GPU: no
// sequential insertion, only comparisons) but are the same by definition; crowding distance
// and association do the same floating-point operations in the same order as the C++ code
// (built with --fmad=false), so they agree bit for bit.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>

#include "launch.cuh"
#include "moo_cuda.hpp"

namespace chimera::cuda::moo {

namespace {

using namespace detail;  // NOLINT: launch.cuh, the helpers every .cu file shares

using Index = std::int32_t;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int kMaxTileRows = 128;           // candidate dominators staged per shared tile
constexpr std::size_t kTileBytes = 48 * 1024;  // the default dynamic shared-memory limit

int tile_rows(std::size_t m) {
  return static_cast<int>(std::min<std::size_t>(kMaxTileRows, kTileBytes / (8 * std::max<std::size_t>(m, 1))));
}

// ---------------------------------------------------------------------------------------------
// Non-dominated sorting

// The row a thread judges, in registers when M is known at compile time (M = 0: run-time m,
// read through the cache).
template <int M>
struct Own {
  double v[M > 0 ? M : 1];
  const double* row;
  __device__ void load(const double* F, Index j, int m) {
    row = F + static_cast<std::size_t>(j) * m;
    if constexpr (M > 0) {
#pragma unroll
      for (int t = 0; t < M; ++t) v[t] = row[t];
    }
  }
  __device__ double operator()(int t) const {
    if constexpr (M > 0) {
      return v[t];
    } else {
      return __ldg(row + t);
    }
  }
};

// Does tile row i (shared, objective-major with stride `rows`) dominate `own`?
template <int M>
__device__ __forceinline__ bool dominates(const double* tile, int rows, int i, const Own<M>& own,
                                          int m) {
  bool all_le = true, any_lt = false;
  if constexpr (M > 0) {
#pragma unroll
    for (int t = 0; t < M; ++t) {
      const double a = tile[t * rows + i], b = own(t);
      all_le &= a <= b;
      any_lt |= a < b;
    }
  } else {
    for (int t = 0; t < m; ++t) {
      const double a = tile[t * rows + i], b = own(t);
      all_le &= a <= b;
      any_lt |= a < b;
    }
  }
  return all_le && any_lt;
}

// How many of the rows `members[begin, end)` (or rows begin..end-1 when members is null)
// dominate row j. Every thread of the block calls it: the tiles are loaded together.
template <int M>
__device__ int count_dominating(const double* F, int m, const Index* members, Index begin,
                                Index end, bool active, const Own<M>& own, double* tile,
                                int rows) {
  int c = 0;
  for (Index base = begin; base < end; base += rows) {
    const int count = min(rows, end - base);
    __syncthreads();  // the previous tile is no longer read
    for (int e = threadIdx.x; e < count * m; e += blockDim.x) {
      const int i = e / m, t = e - i * m;
      const Index row = members != nullptr ? members[base + i] : base + i;
      tile[t * rows + i] = F[static_cast<std::size_t>(row) * m + t];
    }
    __syncthreads();
    if (active) {
      for (int i = 0; i < count; ++i) c += dominates<M>(tile, rows, i, own, m);
    }
  }
  return c;
}

// dominators[j] = how many rows dominate row j; rows nothing dominates form front 0.
template <int M>
__global__ void count_kernel(const double* F, Index n, int m, int rows, Index* dominators,
                             Index* rank, Index* queue, Index* tail) {
  extern __shared__ double tile[];
  const Index j = static_cast<Index>(blockIdx.x * blockDim.x + threadIdx.x);
  const bool active = j < n;
  Own<M> own;
  if (active) own.load(F, j, m);
  const int c = count_dominating<M>(F, m, nullptr, 0, n, active, own, tile, rows);
  if (!active) return;
  dominators[j] = c;
  rank[j] = -1;
  if (c == 0) {
    rank[j] = 0;
    queue[atomicAdd(tail, 1)] = j;
  }
}

// Front k is queue[bounds[k], bounds[k+1]); each unranked row loses its dominators in it and
// joins front k+1 when none are left. Rows appended now land at or past bounds[k+1].
template <int M>
__global__ void peel_kernel(const double* F, Index n, int m, int rows, Index k,
                            const Index* bounds, Index* dominators, Index* rank, Index* queue,
                            Index* tail) {
  extern __shared__ double tile[];
  const Index begin = bounds[k], end = bounds[k + 1];
  if (begin == end) return;  // past the last front
  const Index j = static_cast<Index>(blockIdx.x * blockDim.x + threadIdx.x);
  const bool active = j < n && rank[j] < 0;
  if (!__syncthreads_or(active)) return;  // the whole block is ranked
  Own<M> own;
  if (active) own.load(F, j, m);
  const int c = count_dominating<M>(F, m, queue, begin, end, active, own, tile, rows);
  if (!active || c == 0) return;
  const Index left = dominators[j] - c;
  dominators[j] = left;
  if (left == 0) {
    rank[j] = k + 1;
    queue[atomicAdd(tail, 1)] = j;
  }
}

__global__ void close_front_kernel(Index* bounds, Index slot, const Index* tail) {
  bounds[slot] = *tail;
}

struct RankLaunch {
  const double* F;
  Index n;
  int m;
  int rows;
  std::size_t shared;
  Index *dominators, *rank, *queue, *tail, *bounds;
};

template <int M>
void rank_fronts(const RankLaunch& a) {
  const unsigned blocks = static_cast<unsigned>((a.n + kThreads - 1) / kThreads);
  count_kernel<M><<<blocks, kThreads, a.shared>>>(a.F, a.n, a.m, a.rows, a.dominators, a.rank,
                                                  a.queue, a.tail);
  check_launch("count_kernel");
  close_front_kernel<<<1, 1>>>(a.bounds, 1, a.tail);
  check_launch("close_front_kernel");
  // Peel fronts in batches between looks at the tail (a look is a round trip to the host);
  // a batch past the last front costs one empty launch per step.
  Index k = 0, batch = 4;
  for (;;) {
    Index ranked = 0;
    check(cudaMemcpy(&ranked, a.tail, sizeof(Index), cudaMemcpyDeviceToHost),
          "cudaMemcpy (ranked rows)");
    if (ranked == a.n) break;
    for (Index step = 0; step < batch; ++step, ++k) {
      peel_kernel<M><<<blocks, kThreads, a.shared>>>(a.F, a.n, a.m, a.rows, k, a.bounds,
                                                     a.dominators, a.rank, a.queue, a.tail);
      check_launch("peel_kernel");
      close_front_kernel<<<1, 1>>>(a.bounds, k + 2, a.tail);
      check_launch("close_front_kernel");
    }
    batch = std::min<Index>(batch * 2, 64);
  }
}

// ---------------------------------------------------------------------------------------------
// Crowding distance

__global__ void iota_kernel(Index* rows, std::size_t n) {
  for (std::size_t i = thread_index(); i < n; i += thread_stride()) rows[i] = static_cast<Index>(i);
}

__global__ void front_sizes_kernel(const Index* rank, std::size_t n, Index* start) {
  for (std::size_t i = thread_index(); i < n; i += thread_stride()) atomicAdd(start + rank[i] + 1, 1);
}

__global__ void crowding_init_kernel(const Index* rank, std::size_t n, const Index* start,
                                     double* out) {
  for (std::size_t i = thread_index(); i < n; i += thread_stride()) {
    const Index f = rank[i];
    out[i] = start[f + 1] - start[f] <= 2 ? kInf : 0.0;
  }
}

__global__ void column_kernel(const double* F, std::size_t n, std::size_t m, std::size_t j,
                              const Index* rows, double* values) {
  for (std::size_t p = thread_index(); p < n; p += thread_stride()) {
    values[p] = F[static_cast<std::size_t>(rows[p]) * m + j];
  }
}

__global__ void gather_rank_kernel(const Index* rank, std::size_t n, const Index* rows,
                                   Index* out) {
  for (std::size_t p = thread_index(); p < n; p += thread_stride()) out[p] = rank[rows[p]];
}

// order: rows sorted by (front, F[:, j], row); position p adds its gap within its front.
__global__ void crowding_add_kernel(const double* F, std::size_t n, std::size_t m, std::size_t j,
                                    const Index* rank, const Index* start, const Index* order,
                                    double* out) {
  for (std::size_t p = thread_index(); p < n; p += thread_stride()) {
    const Index row = order[p];
    const Index f = rank[row];
    const auto s = static_cast<std::size_t>(start[f]), e = static_cast<std::size_t>(start[f + 1]);
    if (e - s <= 2) continue;
    if (p == s || p + 1 == e) {
      out[row] = kInf;
      continue;
    }
    auto value = [&](std::size_t q) { return F[static_cast<std::size_t>(order[q]) * m + j]; };
    const double range = value(e - 1) - value(s);
    // A flat objective separates nothing; an infinite range would turn the gaps into NaN.
    if (!(range > 0.0) || !isfinite(range)) continue;
    out[row] += (value(p + 1) - value(p - 1)) / range;
  }
}

// Stable radix sort of (keys, values) pairs into (keys_out, values_out); `temp` grows as needed.
template <class Key>
void sort_pairs(const Key* keys, Key* keys_out, const Index* values, Index* values_out,
                std::size_t n, DeviceBuffer& temp) {
  std::size_t bytes = 0;
  const int items = static_cast<int>(n);
  check(cub::DeviceRadixSort::SortPairs(nullptr, bytes, keys, keys_out, values, values_out, items),
        "cub::DeviceRadixSort::SortPairs (temporary storage size)");
  if (bytes > temp.size()) temp = DeviceBuffer(bytes);
  check(cub::DeviceRadixSort::SortPairs(temp.get(), bytes, keys, keys_out, values, values_out,
                                        items),
        "cub::DeviceRadixSort::SortPairs");
}

// ---------------------------------------------------------------------------------------------
// Association and checks

__global__ void norms_kernel(const double* W, std::size_t h, std::size_t m, double* ww) {
  for (std::size_t r = thread_index(); r < h; r += thread_stride()) {
    double s = 0.0;
    for (std::size_t t = 0; t < m; ++t) s += W[r * m + t] * W[r * m + t];
    ww[r] = s;
  }
}

__global__ void associate_kernel(const double* F, std::size_t n, std::size_t m, const double* W,
                                 const double* ww, std::size_t h, Index* ref, double* dist) {
  for (std::size_t i = thread_index(); i < n; i += thread_stride()) {
    const double* f = F + i * m;
    double best = kInf;
    Index best_r = 0;
    for (std::size_t r = 0; r < h; ++r) {
      const double* w = W + r * m;
      double fw = 0.0;
      for (std::size_t t = 0; t < m; ++t) fw += f[t] * __ldg(w + t);
      const double proj = fw / __ldg(ww + r);
      double d2 = 0.0;
      for (std::size_t t = 0; t < m; ++t) {
        const double e = f[t] - proj * __ldg(w + t);
        d2 += e * e;
      }
      if (d2 < best) {
        best = d2;
        best_r = static_cast<Index>(r);
      }
    }
    ref[i] = best_r;
    dist[i] = sqrt(best);
  }
}

__global__ void nan_kernel(const double* x, std::size_t count, int* found) {
  for (std::size_t i = thread_index(); i < count; i += thread_stride()) {
    if (isnan(x[i])) *found = 1;
  }
}

__global__ void outside_kernel(const Index* x, std::size_t count, Index low, Index high,
                               int* found) {
  for (std::size_t i = thread_index(); i < count; i += thread_stride()) {
    if (x[i] < low || x[i] >= high) *found = 1;
  }
}

// Runs `launch(flag)` on a zeroed device flag and says whether a thread raised it.
template <class Launch>
bool flag_raised(Launch&& launch) {
  DeviceBuffer flag(sizeof(int));
  check(cudaMemset(flag.get(), 0, sizeof(int)), "cudaMemset");
  launch(static_cast<int*>(flag.get()));
  int found = 0;
  flag.download(&found, sizeof(int));
  return found != 0;
}

void require_rows(std::size_t n) {
  if (n >= (std::size_t{1} << 31)) throw std::invalid_argument("at most 2^31 - 1 rows");
}

}  // namespace

void pareto_rank(const double* F, std::size_t n, std::size_t m, std::int32_t* rank) {
  require_rows(n);
  if (m > kMaxObjectives) {
    throw std::invalid_argument("the CUDA sort takes at most " + std::to_string(kMaxObjectives) +
                                " objectives");
  }
  if (n == 0) return;
  DeviceBuffer dominators(n * sizeof(Index)), queue(n * sizeof(Index)), tail(sizeof(Index)),
      bounds((n + 2 + 64) * sizeof(Index));  // a last batch may close up to 64 empty fronts
  check(cudaMemset(tail.get(), 0, sizeof(Index)), "cudaMemset");
  check(cudaMemset(bounds.get(), 0, sizeof(Index)), "cudaMemset");
  const int rows = tile_rows(m);
  const RankLaunch a{F,
                     static_cast<Index>(n),
                     static_cast<int>(m),
                     rows,
                     static_cast<std::size_t>(rows) * std::max<std::size_t>(m, 1) * sizeof(double),
                     static_cast<Index*>(dominators.get()),
                     rank,
                     static_cast<Index*>(queue.get()),
                     static_cast<Index*>(tail.get()),
                     static_cast<Index*>(bounds.get())};
  switch (m) {
    case 2: rank_fronts<2>(a); break;
    case 3: rank_fronts<3>(a); break;
    case 4: rank_fronts<4>(a); break;
    case 5: rank_fronts<5>(a); break;
    case 6: rank_fronts<6>(a); break;
    case 8: rank_fronts<8>(a); break;
    default: rank_fronts<0>(a); break;
  }
  synchronize();
}

void crowding_distance(const double* F, std::size_t n, std::size_t m, const std::int32_t* rank,
                       double* out) {
  require_rows(n);
  if (n == 0) return;
  const unsigned blocks = blocks_for(n, kThreads);
  DeviceBuffer start((n + 1) * sizeof(Index)), iota(n * sizeof(Index)), by_value(n * sizeof(Index)),
      order(n * sizeof(Index)), values(n * sizeof(double)), sorted(n * sizeof(double)),
      ranks(n * sizeof(Index)), ranks_sorted(n * sizeof(Index)), temp;
  auto* st = static_cast<Index*>(start.get());
  check(cudaMemset(st, 0, (n + 1) * sizeof(Index)), "cudaMemset");
  front_sizes_kernel<<<blocks, kThreads>>>(rank, n, st);
  check_launch("front_sizes_kernel");
  // start[f] = rows in fronts before f (an in-place inclusive scan of the shifted counts).
  std::size_t bytes = 0;
  const int items = static_cast<int>(n + 1);
  check(cub::DeviceScan::InclusiveSum(nullptr, bytes, st, st, items),
        "cub::DeviceScan::InclusiveSum (temporary storage size)");
  temp = DeviceBuffer(bytes);
  check(cub::DeviceScan::InclusiveSum(temp.get(), bytes, st, st, items),
        "cub::DeviceScan::InclusiveSum");
  crowding_init_kernel<<<blocks, kThreads>>>(rank, n, st, out);
  check_launch("crowding_init_kernel");
  auto* io = static_cast<Index*>(iota.get());
  auto* bv = static_cast<Index*>(by_value.get());
  auto* od = static_cast<Index*>(order.get());
  auto* rk = static_cast<Index*>(ranks.get());
  auto* rks = static_cast<Index*>(ranks_sorted.get());
  auto* v = static_cast<double*>(values.get());
  auto* vs = static_cast<double*>(sorted.get());
  iota_kernel<<<blocks, kThreads>>>(io, n);
  check_launch("iota_kernel");
  for (std::size_t j = 0; j < m; ++j) {
    // Radix sorts are stable and treat -0.0 and +0.0 as equal: by value, ties by row, then
    // by front keeping that order.
    column_kernel<<<blocks, kThreads>>>(F, n, m, j, io, v);
    check_launch("column_kernel");
    sort_pairs<double>(v, vs, io, bv, n, temp);
    gather_rank_kernel<<<blocks, kThreads>>>(rank, n, bv, rk);
    check_launch("gather_rank_kernel");
    sort_pairs<Index>(rk, rks, bv, od, n, temp);
    crowding_add_kernel<<<blocks, kThreads>>>(F, n, m, j, rank, st, od, out);
    check_launch("crowding_add_kernel");
  }
  synchronize();
}

void associate(const double* F, std::size_t n, std::size_t m, const double* W, std::size_t h,
               std::int32_t* ref, double* dist) {
  require_rows(n);
  if (n == 0) return;
  DeviceBuffer ww(h * sizeof(double));
  auto* w2 = static_cast<double*>(ww.get());
  norms_kernel<<<blocks_for(h, kThreads), kThreads>>>(W, h, m, w2);
  check_launch("norms_kernel");
  associate_kernel<<<blocks_for(n, kThreads), kThreads>>>(F, n, m, W, w2, h, ref, dist);
  check_launch("associate_kernel");
  synchronize();
}

bool any_nan(const double* x, std::size_t count) {
  if (count == 0) return false;
  return flag_raised([&](int* flag) {
    nan_kernel<<<blocks_for(count, kThreads), kThreads>>>(x, count, flag);
    check_launch("nan_kernel");
  });
}

bool all_within(const std::int32_t* x, std::size_t count, std::int32_t low, std::int32_t high) {
  if (count == 0) return true;
  return !flag_raised([&](int* flag) {
    outside_kernel<<<blocks_for(count, kThreads), kThreads>>>(x, count, low, high, flag);
    check_launch("outside_kernel");
  });
}

}  // namespace chimera::cuda::moo
