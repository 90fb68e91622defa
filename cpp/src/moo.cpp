// Host implementations of the multi-objective kernels in moo.hpp.
#include "chimera/moo.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>
#include <utility>
#include <vector>

#include "chimera/avx2.hpp"
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

// An unsigned key in the order of the doubles (-0.0 as +0.0; no NaN reaches the kernels).
inline std::uint64_t order_key(double x) {
  std::uint64_t bits = 0;
  const double y = x == 0.0 ? 0.0 : x;  // -0.0 as +0.0 (in any rounding mode): they tie
  std::memcpy(&bits, &y, sizeof bits);
  return (bits >> 63) != 0 ? ~bits : bits | (std::uint64_t{1} << 63);
}

// Rows sorted by (F[:, 0], F[:, 1], row): a stable LSD radix sort of the first objective's
// keys, a byte a pass (passes where every key shares the byte are skipped), then the runs of
// equal first objectives sorted by the second. No comparisons to mispredict: at n = 1,000
// this takes a third of std::sort's time.
std::vector<Row> lex_order2(const double* F, std::size_t n) {
  std::vector<std::uint64_t> key(n), key_tmp(n);
  std::vector<Row> rows(n), tmp(n);
  for (std::size_t i = 0; i < n; ++i) key[i] = order_key(F[2 * i]), rows[i] = Row(i);
  std::size_t count[256];
  for (int shift = 0; shift < 64; shift += 8) {
    std::fill(std::begin(count), std::end(count), std::size_t{0});
    for (std::size_t i = 0; i < n; ++i) ++count[(key[i] >> shift) & 255u];
    if (count[(key[0] >> shift) & 255u] == n) continue;  // every key has this byte
    std::size_t sum = 0;
    for (std::size_t& c : count) {
      const std::size_t c0 = c;
      c = sum;
      sum += c0;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t at = count[(key[i] >> shift) & 255u]++;
      key_tmp[at] = key[i];
      tmp[at] = rows[i];
    }
    key.swap(key_tmp);
    rows.swap(tmp);
  }
  for (std::size_t i = 0; i < n;) {  // ties on the first objective: by the second, then row
    std::size_t j = i + 1;
    while (j < n && key[j] == key[i]) ++j;
    if (j - i > 1) {
      std::sort(rows.begin() + static_cast<std::ptrdiff_t>(i),
                rows.begin() + static_cast<std::ptrdiff_t>(j), [F](Row a, Row b) {
                  const double x = F[2 * std::size_t{a} + 1], y = F[2 * std::size_t{b} + 1];
                  return x < y || (x == y && a < b);
                });
    }
    i = j;
  }
  return rows;
}

// Two objectives: the last row placed in a front has the front's smallest second objective,
// so it alone decides whether a later row is dominated. O(n log n).
void rank2(const double* F, std::size_t n, std::int32_t* rank) {
  struct P {
    double a, b;
  };
  std::vector<P> tail;
  for (const Row r : lex_order2(F, n)) {
    const P q{F[2 * std::size_t{r}], F[2 * std::size_t{r} + 1]};
    const auto k = first_free_front(tail.size(), [&](std::size_t f) {
      const P& t = tail[f];
      return (t.b < q.b) | ((t.b == q.b) & (t.a < q.a));
    });
    if (static_cast<std::size_t>(k) == tail.size()) {
      tail.push_back(q);
    } else {
      tail[static_cast<std::size_t>(k)] = q;
    }
    rank[r] = k;
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

// More objectives: efficient non-dominated sort with binary search over fronts (Zhang et al.
// 2015), with two ways of looking at fewer members of a front:
//
// - Every member precedes the row being placed in lexicographic order, so its first objective
//   is no larger: whether it dominates the row is decided by the other m - 1 objectives (and
//   by the two rows differing, which only duplicates fail). Members are kept in chunks of
//   kChunk, objective-major, so that one chunk's test is a branch-free loop the compiler
//   vectorises; the scan stops at the first chunk holding a dominator, newest chunks first.
// - A grid over objectives 2, 3, ...: each is cut at quantiles of all n rows into bins, and a
//   large front keeps its members per cell. A member can only dominate a row whose bins are
//   all at least its own, so a row's test visits the cells below or at its own, the nearest
//   first: on uniform data a sixth to a tenth of the front (make_grid).
constexpr std::size_t kChunk = 32;

// The newest chunk before `from` (of a cell's chunks, kChunk members each, objective-major)
// holding a member whose objectives 2..m are all <= p's, and its members' masks in le; 0 when
// there is none, else the chunk's index + 1. Padding slots hold +inf, never <= p. Compiled for
// AVX2 and for baseline x86-64, chosen when the library loads: the comparisons vectorise only
// with AVX2's predicates (7-12 objectives at n = 1,000-5,000: 1.3-2.2x faster).
#if defined(CHIMERA_AVX2) && defined(__linux__)
__attribute__((target_clones("avx2", "default")))
#endif
std::size_t chunk_with_candidates(const double* values, std::size_t from, std::size_t width,
                                  const double* p, std::uint64_t* le) {
  for (std::size_t c = from; c-- > 0;) {
    const double* chunk = values + c * width * kChunk;
    // Masks as wide as the doubles compared, so that the loops vectorise lane for lane.
    for (std::size_t s = 0; s < kChunk; ++s) le[s] = -std::uint64_t(chunk[s] <= p[1]);
    for (std::size_t j = 1; j < width; ++j) {
      const double* col = chunk + j * kChunk;
      const double pj = p[j + 1];
      for (std::size_t s = 0; s < kChunk; ++s) le[s] &= -std::uint64_t(col[s] <= pj);
    }
    std::uint64_t any = 0;
    for (std::size_t s = 0; s < kChunk; ++s) any |= le[s];
    if (any != 0) return c + 1;
  }
  return 0;
}

class Cell {
 public:
  void add(const double* p, std::size_t width, Row row) {
    if (rows_.size() % kChunk == 0) values_.resize(values_.size() + width * kChunk, kInf);
    const std::size_t c = rows_.size() / kChunk, slot = rows_.size() % kChunk;
    double* chunk = values_.data() + c * width * kChunk;
    for (std::size_t j = 0; j < width; ++j) chunk[j * kChunk + slot] = p[j + 1];
    rows_.push_back(row);
  }

  // Whether a member dominates p (row-major rows in S), the newest chunks first.
  bool dominates(const double* p, std::size_t width, const double* S) const {
    const std::size_t m = width + 1;
    std::uint64_t le[kChunk];
    std::size_t c = (rows_.size() + kChunk - 1) / kChunk;
    while ((c = chunk_with_candidates(values_.data(), c, width, p, le)) > 0) {
      --c;
      const std::size_t members = std::min(kChunk, rows_.size() - c * kChunk);
      for (std::size_t s = 0; s < members; ++s) {  // a duplicate of p does not dominate it
        if (le[s] && !std::equal(p, p + m, S + std::size_t{rows_[c * kChunk + s]} * m)) {
          return true;
        }
      }
    }
    return false;
  }

 private:
  std::vector<double> values_;
  std::vector<Row> rows_;
};

// The grid: how many objectives are cut into how many bins, and each sorted row's bins.
struct Grid {
  std::size_t dims = 0, bins = 1, cells = 1;
  std::vector<std::uint32_t> cell;  // of each sorted row
  std::vector<std::uint8_t> bin;    // dims bins of each sorted row
};

constexpr std::size_t kMaxGridDims = 16;

// The (bins, dims) that leave the fewest members to test on uniform data, a member passing a
// cut objective's filter with probability (bins + 1) / (2 bins), with at most n / 128 cells
// (so that cells of the large fronts still fill a few chunks).
Grid make_grid(const double* S, std::size_t n, std::size_t m) {
  Grid g;
  const double cap = static_cast<double>(n) / 128.0;
  double best = 1.0;
  for (std::size_t bins = 2; bins <= 8; ++bins) {
    double cells = 1.0, pass = 1.0;
    for (std::size_t dims = 1; dims <= std::min(m - 1, kMaxGridDims); ++dims) {
      cells *= static_cast<double>(bins);
      if (cells > cap) break;
      pass *= static_cast<double>(bins + 1) / static_cast<double>(2 * bins);
      if (pass < best) best = pass, g.bins = bins, g.dims = dims;
    }
  }
  for (std::size_t d = 0; d < g.dims; ++d) g.cells *= g.bins;
  g.cell.assign(n, 0);
  g.bin.assign(n * g.dims, 0);
  std::vector<double> column(n), sorted(n), edges;
  std::size_t stride = 1;
  for (std::size_t d = 0; d < g.dims; ++d, stride *= g.bins) {
    for (std::size_t i = 0; i < n; ++i) column[i] = S[i * m + d + 1];
    sorted = column;
    std::sort(sorted.begin(), sorted.end());
    edges.clear();  // bin b holds values in [edges[b - 1], edges[b])
    for (std::size_t b = 1; b < g.bins; ++b) edges.push_back(sorted[b * n / g.bins]);
    for (std::size_t i = 0; i < n; ++i) {
      const auto b = static_cast<std::size_t>(
          std::upper_bound(edges.begin(), edges.end(), column[i]) - edges.begin());
      g.bin[i * g.dims + d] = static_cast<std::uint8_t>(b);
      g.cell[i] += static_cast<std::uint32_t>(b * stride);
    }
  }
  return g;
}

// A front: one cell while small, the grid's cells once it holds kGridAfter members (so that a
// problem of many small fronts costs no memory per cell).
class GridFront {
 public:
  static constexpr std::size_t kGridAfter = 128;

  GridFront(const Grid& grid, std::size_t m) : grid_(&grid), width_(m - 1) {}

  std::size_t size() const { return rows_.size(); }

  void add(const double* S, std::size_t i) {
    const std::size_t m = width_ + 1;
    rows_.push_back(static_cast<Row>(i));
    if (!cells_.empty()) {
      cells_[grid_->cell[i]].add(S + i * m, width_, static_cast<Row>(i));
    } else if (rows_.size() < kGridAfter || grid_->cells <= 1) {
      flat_.add(S + i * m, width_, static_cast<Row>(i));
    } else {  // large enough: spread the members over the grid, in their order
      cells_.resize(grid_->cells);
      for (const Row r : rows_) cells_[grid_->cell[r]].add(S + std::size_t{r} * m, width_, r);
      flat_ = Cell();
    }
  }

  // Whether a member dominates sorted row i (p): the cells whose bins are all <= row i's,
  // its own first, then downward (an odometer over the cut objectives).
  bool dominates(const double* p, std::size_t i, const double* S) const {
    if (cells_.empty()) return flat_.dominates(p, width_, S);
    const std::size_t dims = grid_->dims, bins = grid_->bins;
    const std::uint8_t* top = grid_->bin.data() + i * dims;
    std::uint8_t at[kMaxGridDims];
    std::copy_n(top, dims, at);
    while (true) {
      std::size_t cell = 0, stride = 1;
      for (std::size_t d = 0; d < dims; ++d, stride *= bins) cell += at[d] * stride;
      if (cells_[cell].dominates(p, width_, S)) return true;
      std::size_t d = 0;  // the next cell down: decrement with borrow
      while (d < dims && at[d] == 0) at[d] = top[d], ++d;
      if (d == dims) return false;
      --at[d];
    }
  }

 private:
  const Grid* grid_;
  std::size_t width_;
  std::vector<Row> rows_;
  Cell flat_;
  std::vector<Cell> cells_;
};

void rank_ens(const double* F, std::size_t n, std::size_t m, std::int32_t* rank) {
  const auto order = lex_order(F, n, m);
  std::vector<double> S(n * m);  // rows in sorted order, contiguous
  for (std::size_t i = 0; i < n; ++i) {
    std::copy_n(F + std::size_t{order[i]} * m, m, S.data() + i * m);
  }
  // The grid costs a sort per cut objective: made when the first front grows large enough to
  // use it (a problem of many small fronts never pays for it).
  Grid grid;
  std::vector<GridFront> fronts;
  for (std::size_t i = 0; i < n; ++i) {
    const double* p = S.data() + i * m;
    const auto k = first_free_front(fronts.size(), [&](std::size_t f) {
      return fronts[f].dominates(p, i, S.data());
    });
    if (static_cast<std::size_t>(k) == fronts.size()) fronts.emplace_back(grid, m);
    auto& front = fronts[static_cast<std::size_t>(k)];
    if (front.size() + 1 == GridFront::kGridAfter && grid.cell.empty()) {
      grid = make_grid(S.data(), n, m);
    }
    front.add(S.data(), i);
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
