// Host (OpenMP) drivers of the operators in operators.hpp.
#include "chimera/ga.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <type_traits>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace chimera::ga {

namespace {

// Below this many genes of work a parallel region costs more than it saves, and on a loaded
// machine a barrier waiting for a descheduled thread costs a whole time slice.
constexpr std::size_t kParallelGrain = 1 << 15;

template <class T>
constexpr bool kIntegral = std::is_integral_v<T>;
template <class T>
constexpr bool kBoolean = std::is_same_v<T, std::uint8_t>;

}  // namespace

// Stochastic universal sampling (Baker 1987) on weights max(f) - f, then a Fisher-Yates
// shuffle so that mates are not neighbours in fitness order. Sequential: one stream for all.
void sus_slots(const double* f, std::size_t n, std::int32_t* slots, std::size_t count,
               const BreedConfig& cfg) {
  // Individuals with infinite fitness (nan_policy="worst") weigh nothing.
  double fmax = -std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isfinite(f[i])) fmax = std::max(fmax, f[i]);
  }
  std::vector<double> w(n);
  double total = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    w[i] = std::isfinite(f[i]) ? fmax - f[i] : 0.0;
    total += w[i];
  }
  if (!(total > 0.0) || !std::isfinite(total)) {
    std::fill(w.begin(), w.end(), 1.0);
    total = static_cast<double>(n);
  }
  rng::Stream st(cfg.seed, cfg.generation, 0, rng::kShuffle);
  const double step = total / static_cast<double>(count);
  double pointer = st.uniform() * step;
  double cum = 0.0;
  std::size_t i = 0;
  for (std::size_t s = 0; s < count; ++s) {
    const double target = pointer + static_cast<double>(s) * step;
    while (i + 1 < n && cum + w[i] <= target) {
      cum += w[i];
      ++i;
    }
    slots[s] = static_cast<std::int32_t>(i);
  }
  for (std::size_t s = count; s > 1; --s) {
    const std::uint32_t r = st.below(static_cast<std::uint32_t>(s));
    std::swap(slots[s - 1], slots[r]);
  }
}

int num_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

void set_num_threads(int n) {
#ifdef _OPENMP
  if (n > 0) omp_set_num_threads(n);
#else
  (void)n;
#endif
}

template <class T>
void init_uniform(T* out, std::size_t n, std::size_t d, const double* low, const double* high,
                  std::uint64_t seed) {
  const auto nn = static_cast<std::int64_t>(n);
#pragma omp parallel for schedule(static) if (n * d >= kParallelGrain)
  for (std::int64_t i = 0; i < nn; ++i) {
    rng::Stream st(seed, 0, static_cast<std::uint32_t>(i), rng::kInit);
    T* row = out + static_cast<std::size_t>(i) * d;
    for (std::size_t j = 0; j < d; ++j) {
      row[j] = init_gene<T>(st, low[j], high[j], kIntegral<T>, kBoolean<T>);
    }
  }
}

template <class T>
void breed(const T* X, const double* f, std::size_t n, std::size_t d, const double* low,
           const double* high, T* out, std::int32_t* parents, std::size_t m,
           const BreedConfig& cfg) {
  if (n == 0 || m == 0) return;
  if (kIntegral<T> && needs_real_genes(cfg)) {
    throw std::invalid_argument("blend, SBX, Gaussian and polynomial operators need real genes");
  }
  const std::size_t pairs = (m + 1) / 2, count = 2 * pairs;
  std::vector<std::int32_t> slots(count);
  std::vector<std::int32_t> order;
  const bool sus = cfg.selection == kStochasticUniversal;
  if (sus) {
    sus_slots(f, n, slots.data(), count, cfg);
  } else if (cfg.selection == kTruncation) {
    // Rank by fitness, ties by row: the same order on every backend.
    order.resize(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [f](std::int32_t a, std::int32_t b) { return f[a] < f[b]; });
  }
  // One parallel region per generation: a pair selects its own two parents, so no barrier is
  // needed between selection and breeding, and sleeping workers are woken once, not twice.
  const auto nn = static_cast<std::uint32_t>(n);
  const auto pp = static_cast<std::int64_t>(pairs);
#pragma omp parallel for schedule(static) if (count * d >= kParallelGrain)
  for (std::int64_t p = 0; p < pp; ++p) {
    const auto s = static_cast<std::size_t>(2 * p);
    if (!sus) {
      slots[s] = static_cast<std::int32_t>(
          select_slot(f, nn, static_cast<std::uint32_t>(s), cfg, order.data()));
      slots[s + 1] = static_cast<std::int32_t>(
          select_slot(f, nn, static_cast<std::uint32_t>(s + 1), cfg, order.data()));
    }
    breed_pair(X, d, low, high, slots.data(), out, parents, m, static_cast<std::uint32_t>(p), cfg);
  }
}

#define CHIMERA_INSTANTIATE(T)                                                                  \
  template void init_uniform<T>(T*, std::size_t, std::size_t, const double*, const double*,     \
                                std::uint64_t);                                                 \
  template void breed<T>(const T*, const double*, std::size_t, std::size_t, const double*,      \
                         const double*, T*, std::int32_t*, std::size_t, const BreedConfig&);
CHIMERA_INSTANTIATE(double)
CHIMERA_INSTANTIATE(float)
CHIMERA_INSTANTIATE(std::int32_t)
CHIMERA_INSTANTIATE(std::uint8_t)
#undef CHIMERA_INSTANTIATE

}  // namespace chimera::ga
