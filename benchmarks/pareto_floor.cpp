// Floor of two-objective non-dominated sorting, measured without Python: the two phases of
// a sort-then-binary-search ranking (the algorithm chimera's rank2 uses), timed separately.
//
//   1. std::sort of (f1, f2, row) records, lexicographic with the row as the last key;
//   2. one pass over the sorted records, each placed by binary search over the fronts'
//      last (smallest f2) members;
// and, for scale, std::sort of the f1 values alone (plain doubles).
//
// Build and run (outside the package; nothing imports this):
//   g++ -O3 -march=native -std=c++17 benchmarks/pareto_floor.cpp -o /tmp/pareto_floor
//   /tmp/pareto_floor 1000 5000 20000 100000
// Uniform random points in [0, 1)^2 (std::mt19937_64, seed 1); the median of 21 repeats.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

namespace {

struct P {
  double a, b;
  std::uint32_t row;
};

template <class F>
double median_ms(F&& f, int repeats = 21) {
  std::vector<double> t;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    const auto t1 = std::chrono::steady_clock::now();
    t.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::nth_element(t.begin(), t.begin() + repeats / 2, t.end());
  return t[repeats / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::printf("%8s %12s %12s %12s %12s %8s\n", "N", "sort f1 ms", "sort recs ms", "search ms",
              "total ms", "fronts");
  for (int i = 1; i < argc; ++i) {
    const std::size_t n = std::strtoul(argv[i], nullptr, 10);
    std::mt19937_64 gen(1);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::vector<P> pts(n);
    for (std::size_t k = 0; k < n; ++k) pts[k] = {u(gen), u(gen), static_cast<std::uint32_t>(k)};
    std::vector<double> col(n);
    for (std::size_t k = 0; k < n; ++k) col[k] = pts[k].a;

    std::vector<double> c2;
    const double sort_col = median_ms([&] {
      c2 = col;
      std::sort(c2.begin(), c2.end());
    });
    std::vector<P> s;
    const double sort_recs = median_ms([&] {
      s = pts;
      std::sort(s.begin(), s.end(), [](const P& x, const P& y) {
        if (x.a != y.a) return x.a < y.a;
        if (x.b != y.b) return x.b < y.b;
        return x.row < y.row;
      });
    });
    std::vector<std::int32_t> rank(n);
    std::vector<P> tail;
    const double search = median_ms([&] {
      tail.clear();
      for (const P& q : s) {
        std::size_t lo = 0, hi = tail.size();
        while (lo < hi) {
          const std::size_t mid = lo + (hi - lo) / 2;
          const P& t = tail[mid];
          if (t.b < q.b || (t.b == q.b && t.a < q.a)) {
            lo = mid + 1;
          } else {
            hi = mid;
          }
        }
        if (lo == tail.size()) {
          tail.push_back(q);
        } else {
          tail[lo] = q;
        }
        rank[q.row] = static_cast<std::int32_t>(lo);
      }
    });
    std::printf("%8zu %12.4f %12.4f %12.4f %12.4f %8zu\n", n, sort_col, sort_recs, search,
                sort_recs + search, tail.size());
  }
  return 0;
}
