// Host implementations of the multi-objective kernels in moo.hpp.
#include "chimera/moo.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <utility>
#include <vector>

#include "chimera/rng.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace chimera::moo {

namespace {

using Row = std::uint32_t;
constexpr double kInf = std::numeric_limits<double>::infinity();
// Below this many values of work a parallel region costs more than it saves; on a loaded
// machine a region also waits for a descheduled thread (milliseconds, measured at pop 92).
constexpr std::size_t kParallelGrain = 1 << 15;
constexpr std::size_t kAssociateGrain = 1 << 21;  // multiply-adds of associate()

// Every sort below visits rows in lexicographic order of their objectives (ties by row), so a
// row can only be dominated by rows before it, and the fronts fill greedily: a row joins the
// first front with no member dominating it. Being dominated by front k implies being dominated
// by every front before k (dominance is transitive), which makes the search binary.
template <class Dominated>
std::int32_t first_free_front(std::size_t fronts, Dominated&& dominated) {
  std::size_t lo = 0, hi = fronts;
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (dominated(mid)) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return static_cast<std::int32_t>(lo);
}

// Two objectives: the last row placed in a front has the front's smallest second objective,
// so it alone decides whether a later row is dominated. O(n log n).
void rank2(const double* F, std::size_t n, std::int32_t* rank) {
  struct P {
    double a, b;
    Row row;
  };
  std::vector<P> p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = {F[2 * i], F[2 * i + 1], static_cast<Row>(i)};
  std::sort(p.begin(), p.end(), [](const P& x, const P& y) {
    if (x.a != y.a) return x.a < y.a;
    if (x.b != y.b) return x.b < y.b;
    return x.row < y.row;
  });
  std::vector<P> tail;
  for (const P& q : p) {
    const auto k = first_free_front(tail.size(), [&](std::size_t f) {
      const P& t = tail[f];
      return t.b < q.b || (t.b == q.b && t.a < q.a);
    });
    if (static_cast<std::size_t>(k) == tail.size()) {
      tail.push_back(q);
    } else {
      tail[static_cast<std::size_t>(k)] = q;
    }
    rank[q.row] = k;
  }
}

std::vector<Row> lex_order(const double* F, std::size_t n, std::size_t m) {
  std::vector<Row> order(n);
  std::iota(order.begin(), order.end(), Row{0});
  std::sort(order.begin(), order.end(), [F, m](Row a, Row b) {
    const double* x = F + std::size_t{a} * m;
    const double* y = F + std::size_t{b} * m;
    for (std::size_t j = 0; j < m; ++j) {
      if (x[j] < y[j]) return true;
      if (y[j] < x[j]) return false;
    }
    return a < b;
  });
  return order;
}

// Three objectives: every earlier row has a first objective no larger, so a front dominates a
// row exactly when its staircase of minimal (f1, f2) pairs has a point weakly below the row's,
// unless that point is the row's duplicate. One ordered map per front. O(n log^2 n).
void rank3(const double* F, std::size_t n, std::int32_t* rank) {
  struct Step {
    double f2, f0;
  };
  using Staircase = std::map<double, Step>;  // f1 ascending, f2 strictly descending
  std::vector<Staircase> fronts;
  for (const Row r : lex_order(F, n, 3)) {
    const double* p = F + std::size_t{r} * 3;
    const auto k = first_free_front(fronts.size(), [&](std::size_t f) {
      const Staircase& s = fronts[f];
      auto it = s.upper_bound(p[1]);
      if (it == s.begin()) return false;
      --it;  // the point with the largest f1 <= p1, which has the smallest f2 among them
      if (it->second.f2 > p[2]) return false;
      return !(it->first == p[1] && it->second.f2 == p[2] && it->second.f0 == p[0]);
    });
    if (static_cast<std::size_t>(k) == fronts.size()) fronts.emplace_back();
    Staircase& s = fronts[static_cast<std::size_t>(k)];
    // The row replaces the steps it weakly dominates in (f1, f2); they are contiguous.
    auto it = s.lower_bound(p[1]);
    while (it != s.end() && it->second.f2 >= p[2]) it = s.erase(it);
    s.emplace_hint(it, p[1], Step{p[2], p[0]});
    rank[r] = k;
  }
}

bool dominates(const double* a, const double* b, std::size_t m) {
  bool strict = false;
  for (std::size_t j = 0; j < m; ++j) {
    if (a[j] > b[j]) return false;
    strict = strict || a[j] < b[j];
  }
  return strict;
}

// More objectives: efficient non-dominated sort with binary search over fronts (Zhang et al.
// 2015), checking the most recently added members first since they are the nearest.
void rank_ens(const double* F, std::size_t n, std::size_t m, std::int32_t* rank) {
  const auto order = lex_order(F, n, m);
  std::vector<double> S(n * m);  // rows in sorted order, contiguous for the scans
  for (std::size_t i = 0; i < n; ++i) {
    std::copy_n(F + std::size_t{order[i]} * m, m, S.data() + i * m);
  }
  std::vector<std::vector<Row>> fronts;
  for (std::size_t i = 0; i < n; ++i) {
    const double* p = S.data() + i * m;
    const auto k = first_free_front(fronts.size(), [&](std::size_t f) {
      const auto& members = fronts[f];
      for (auto it = members.rbegin(); it != members.rend(); ++it) {
        if (dominates(S.data() + std::size_t{*it} * m, p, m)) return true;
      }
      return false;
    });
    if (static_cast<std::size_t>(k) == fronts.size()) fronts.emplace_back();
    fronts[static_cast<std::size_t>(k)].push_back(static_cast<Row>(i));
    rank[order[i]] = k;
  }
}

// Indices 0..n-1 grouped by key in [0, groups), ascending within a group (a counting sort):
// group g is rows[start[g], start[g + 1]).
struct Groups {
  std::vector<std::size_t> start;
  std::vector<Row> rows;
};

Groups group_by(const std::int32_t* key, std::size_t n, std::size_t groups) {
  Groups g{std::vector<std::size_t>(groups + 1, 0), std::vector<Row>(n)};
  for (std::size_t i = 0; i < n; ++i) ++g.start[static_cast<std::size_t>(key[i]) + 1];
  std::partial_sum(g.start.begin(), g.start.end(), g.start.begin());
  std::vector<std::size_t> fill(g.start.begin(), g.start.end() - 1);
  for (std::size_t i = 0; i < n; ++i) g.rows[fill[static_cast<std::size_t>(key[i])]++] = Row(i);
  return g;
}

}  // namespace

void pareto_rank(const double* F, std::size_t n, std::size_t m, std::int32_t* rank) {
  if (n == 0) return;
  if (m == 1) {
    // One objective: fronts are the distinct values in increasing order.
    const auto order = lex_order(F, n, 1);
    std::int32_t k = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0 && F[order[i - 1]] < F[order[i]]) ++k;
      rank[order[i]] = k;
    }
  } else if (m == 2) {
    rank2(F, n, rank);
  } else if (m == 3) {
    rank3(F, n, rank);
  } else {
    rank_ens(F, n, m, rank);
  }
}

void crowding_distance(const double* F, std::size_t n, std::size_t m, const std::int32_t* rank,
                       double* out) {
  if (n == 0) return;
  const std::size_t fronts = static_cast<std::size_t>(*std::max_element(rank, rank + n)) + 1;
  const Groups by_front = group_by(rank, n, fronts);
  const auto& start = by_front.start;
  const auto& rows = by_front.rows;
  std::fill(out, out + n, 0.0);
  const auto fronts_i = static_cast<std::ptrdiff_t>(fronts);
#pragma omp parallel for schedule(dynamic) if (n * m >= kParallelGrain)
  for (std::ptrdiff_t fi = 0; fi < fronts_i; ++fi) {
    const auto f = static_cast<std::size_t>(fi);
    const std::size_t s = start[f + 1] - start[f];
    const Row* members = rows.data() + start[f];
    if (s <= 2) {
      for (std::size_t i = 0; i < s; ++i) out[members[i]] = kInf;
      continue;
    }
    std::vector<Row> order(members, members + s);
    for (std::size_t j = 0; j < m; ++j) {
      auto value = [&](Row r) { return F[std::size_t{r} * m + j]; };
      std::copy_n(members, s, order.begin());
      std::stable_sort(order.begin(), order.end(),
                       [&](Row a, Row b) { return value(a) < value(b); });
      out[order[0]] = kInf;
      out[order[s - 1]] = kInf;
      const double range = value(order[s - 1]) - value(order[0]);
      // A flat objective separates nothing; an infinite range would turn the gaps into NaN.
      if (!(range > 0.0) || !std::isfinite(range)) continue;
      for (std::size_t i = 1; i + 1 < s; ++i) {
        out[order[i]] += (value(order[i + 1]) - value(order[i - 1])) / range;
      }
    }
  }
}

void associate(const double* F, std::size_t n, std::size_t m, const double* W, std::size_t h,
               std::int32_t* ref, double* dist) {
  std::vector<double> ww(h);
  for (std::size_t r = 0; r < h; ++r) {
    double s = 0.0;
    for (std::size_t t = 0; t < m; ++t) s += W[r * m + t] * W[r * m + t];
    ww[r] = s;
  }
  const auto n_i = static_cast<std::ptrdiff_t>(n);
#pragma omp parallel for schedule(static) if (n * h * m >= kAssociateGrain)
  for (std::ptrdiff_t ii = 0; ii < n_i; ++ii) {
    const auto i = static_cast<std::size_t>(ii);
    const double* f = F + i * m;
    double best = kInf;
    std::int32_t best_r = 0;
    for (std::size_t r = 0; r < h; ++r) {
      const double* w = W + r * m;
      double fw = 0.0;
      for (std::size_t t = 0; t < m; ++t) fw += f[t] * w[t];
      const double proj = fw / ww[r];
      double d2 = 0.0;
      for (std::size_t t = 0; t < m; ++t) {
        const double e = f[t] - proj * w[t];
        d2 += e * e;
      }
      if (d2 < best) {
        best = d2;
        best_r = static_cast<std::int32_t>(r);
      }
    }
    ref[i] = best_r;
    dist[i] = std::sqrt(best);
  }
}

void niche_select(const std::int32_t* niche_count, std::size_t h, const std::int32_t* ref,
                  const double* dist, std::size_t c, std::size_t k, std::uint64_t seed,
                  std::uint32_t generation, std::int32_t* chosen) {
  std::vector<std::int64_t> count(niche_count, niche_count + h);
  // Candidates bucketed by reference, ascending within a bucket; left[r] of them remain.
  Groups by_ref = group_by(ref, c, h);
  const auto& start = by_ref.start;
  std::vector<std::size_t> left(h);
  for (std::size_t r = 0; r < h; ++r) left[r] = start[r + 1] - start[r];
  std::vector<std::int32_t> active;  // references with candidates left, ascending
  for (std::size_t r = 0; r < h; ++r) {
    if (left[r] > 0) active.push_back(static_cast<std::int32_t>(r));
  }
  rng::Stream st(seed, generation, 0, rng::kNiche);
  std::vector<std::size_t> least;  // positions in active of the least crowded references
  for (std::size_t s = 0; s < k; ++s) {
    least.clear();
    std::int64_t low = std::numeric_limits<std::int64_t>::max();
    for (std::size_t a = 0; a < active.size(); ++a) {
      const std::int64_t v = count[static_cast<std::size_t>(active[a])];
      if (v < low) {
        low = v;
        least.clear();
      }
      if (v == low) least.push_back(a);
    }
    const std::size_t a = least[st.below(static_cast<std::uint32_t>(least.size()))];
    const auto r = static_cast<std::size_t>(active[a]);
    Row* members = by_ref.rows.data() + start[r];
    std::size_t pos = 0;
    if (count[r] == 0) {
      // An empty niche takes its nearest candidate (ties to the lower index).
      for (std::size_t i = 1; i < left[r]; ++i) {
        if (dist[members[i]] < dist[members[pos]]) pos = i;
      }
    } else {
      pos = st.below(static_cast<std::uint32_t>(left[r]));
    }
    chosen[s] = static_cast<std::int32_t>(members[pos]);
    std::copy(members + pos + 1, members + left[r], members + pos);
    --left[r];
    ++count[r];
    if (left[r] == 0) active.erase(active.begin() + static_cast<std::ptrdiff_t>(a));
  }
}

}  // namespace chimera::moo
