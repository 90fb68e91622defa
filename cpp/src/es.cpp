#include "chimera/es.hpp"

namespace chimera::es {

namespace {
// Below this many draws a parallel region costs more than it saves.
constexpr std::size_t kParallelGrain = 1 << 14;
}  // namespace

void standard_normal(double* out, std::size_t rows, std::size_t cols, std::uint64_t seed,
                     std::uint32_t generation, std::uint32_t purpose) {
  const auto n = static_cast<std::int64_t>(rows);
#pragma omp parallel for schedule(static) if (rows * cols >= kParallelGrain)
  for (std::int64_t i = 0; i < n; ++i) {
    rng::Stream st(seed, generation, static_cast<std::uint32_t>(i), purpose);
    double* row = out + static_cast<std::size_t>(i) * cols;
    for (std::size_t j = 0; j < cols; ++j) row[j] = st.normal();
  }
}

}  // namespace chimera::es
