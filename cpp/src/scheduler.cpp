#include "chimera/scheduler.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace chimera::scheduler {

namespace {

// Compressed adjacency from edge lists: at[i] .. at[i + 1] index the neighbours of i.
void compress(std::size_t n, std::size_t e, const std::int32_t* from, const std::int32_t* to,
              const double* comm, std::vector<std::int64_t>& at, std::vector<std::int32_t>& nb,
              std::vector<double>& cost) {
  at.assign(n + 1, 0);
  for (std::size_t k = 0; k < e; ++k) ++at[static_cast<std::size_t>(from[k]) + 1];
  for (std::size_t i = 0; i < n; ++i) at[i + 1] += at[i];
  nb.assign(e, 0);
  cost.assign(e, 0.0);
  std::vector<std::int64_t> fill(at.begin(), at.end() - 1);
  for (std::size_t k = 0; k < e; ++k) {
    const auto slot = static_cast<std::size_t>(fill[static_cast<std::size_t>(from[k])]++);
    nb[slot] = to[k];
    cost[slot] = comm != nullptr ? comm[k] : 0.0;
  }
}

}  // namespace

Graph::Graph(std::size_t tasks, std::size_t edges, const std::int32_t* src, const std::int32_t* dst,
             const double* comm)
    : n(tasks) {
  for (std::size_t k = 0; k < edges; ++k) {
    if (src[k] < 0 || dst[k] < 0 || static_cast<std::size_t>(src[k]) >= n ||
        static_cast<std::size_t>(dst[k]) >= n) {
      throw std::invalid_argument("edge " + std::to_string(k) + " (" + std::to_string(src[k]) +
                                  " -> " + std::to_string(dst[k]) + ") names a task outside 0.." +
                                  std::to_string(static_cast<long long>(n) - 1));
    }
    if (src[k] == dst[k]) {
      throw std::invalid_argument("edge " + std::to_string(k) + " makes task " +
                                  std::to_string(src[k]) + " depend on itself");
    }
  }
  compress(n, edges, src, dst, comm, succ_at, succ, succ_comm);
  compress(n, edges, dst, src, comm, pred_at, pred, pred_comm);
  // Kahn's algorithm; whatever is left over sits on or behind a cycle.
  std::vector<std::int64_t> waiting(n);
  for (std::size_t i = 0; i < n; ++i) waiting[i] = pred_at[i + 1] - pred_at[i];
  topo.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (waiting[i] == 0) topo.push_back(static_cast<std::int32_t>(i));
  }
  for (std::size_t head = 0; head < topo.size(); ++head) {
    const auto t = static_cast<std::size_t>(topo[head]);
    for (auto k = succ_at[t]; k < succ_at[t + 1]; ++k) {
      const auto s = static_cast<std::size_t>(succ[static_cast<std::size_t>(k)]);
      if (--waiting[s] == 0) topo.push_back(static_cast<std::int32_t>(s));
    }
  }
  if (topo.size() != n) {
    // Walk predecessors that are still waiting until one repeats: that task is on a cycle.
    std::size_t t = 0;
    while (waiting[t] == 0) ++t;
    std::vector<std::uint8_t> seen(n, 0);
    while (!seen[t]) {
      seen[t] = 1;
      for (auto k = pred_at[t]; k < pred_at[t + 1]; ++k) {
        const auto p = static_cast<std::size_t>(pred[static_cast<std::size_t>(k)]);
        if (waiting[p] != 0) {
          t = p;
          break;
        }
      }
    }
    throw std::invalid_argument("the task graph has a cycle (task " + std::to_string(t) +
                                " is on it)");
  }
}

namespace {

// Places tasks, one at a time, on the worker where each finishes earliest. A task's data is
// ready on worker p at max(finish + c over predecessors elsewhere, finish over predecessors on
// p). The first term is the largest finish + c unless that predecessor sits on p, then the
// largest on another worker: two values per task, not one per worker.
class Placer {
 public:
  Placer(const Graph& g, const double* cost, std::size_t workers, const double* speed, Plan& plan)
      : g_(g), cost_(cost), speed_(speed), workers_(workers), plan_(plan) {
    uniform_ = std::all_of(speed, speed + workers, [&](double s) { return s == speed[0]; });
    reset();
  }

  void reset() {
    const std::size_t n = g_.n;
    plan_.worker.assign(n, -1);
    plan_.start.assign(n, 0.0);
    plan_.finish.assign(n, 0.0);
    plan_.order.clear();
    plan_.order.reserve(n);
    plan_.makespan = 0.0;
    free_at_.assign(workers_, 0.0);
    on_.assign(workers_, 0.0);
    finish_.assign(workers_, 0.0);
  }

  bool ready(std::int32_t t) const {
    const auto i = static_cast<std::size_t>(t);
    for (auto e = g_.pred_at[i]; e < g_.pred_at[i + 1]; ++e) {
      if (plan_.worker[static_cast<std::size_t>(g_.pred[static_cast<std::size_t>(e)])] < 0) return false;
    }
    return true;
  }

  void place(std::int32_t t) {
    const auto i = static_cast<std::size_t>(t);
    double v1 = 0.0, v2 = 0.0;  // largest finish + c, and largest on another worker than w1
    std::size_t w1 = workers_;
    for (auto e = g_.pred_at[i]; e < g_.pred_at[i + 1]; ++e) {
      const auto j = static_cast<std::size_t>(g_.pred[static_cast<std::size_t>(e)]);
      const double f = plan_.finish[j], moved = f + g_.pred_comm[static_cast<std::size_t>(e)];
      const auto at = static_cast<std::size_t>(plan_.worker[j]);
      if (on_[at] == 0.0) touched_.push_back(at);
      on_[at] = std::max(on_[at], f);
      if (at == w1) {
        v1 = std::max(v1, moved);
      } else if (moved > v1) {
        v2 = v1;
        v1 = moved;
        w1 = at;
      } else {
        v2 = std::max(v2, moved);
      }
    }
    // The finish on every worker, then the first worker with the least: two branch-free
    // passes the compiler vectorises, where one pass tracking the best could not be.
    // Equal speeds: one division per task rather than one per worker (the same doubles).
    const double same = cost_[i] / speed_[0];
    double* fin = finish_.data();
    const double* free_at = free_at_.data();
    const double* on = on_.data();
    const std::size_t w = workers_;
    if (uniform_) {
      for (std::size_t p = 0; p < w; ++p) fin[p] = std::max(free_at[p], std::max(v1, on[p])) + same;
    } else {
      for (std::size_t p = 0; p < w; ++p) {
        fin[p] = std::max(free_at[p], std::max(v1, on[p])) + cost_[i] / speed_[p];
      }
    }
    if (w1 < w) {  // the largest predecessor's own worker sees the second largest
      fin[w1] = std::max(free_at[w1], std::max(v2, on[w1])) + (uniform_ ? same : cost_[i] / speed_[w1]);
    }
    double best_finish = fin[0];
    for (std::size_t p = 1; p < w; ++p) best_finish = fin[p] < best_finish ? fin[p] : best_finish;
    std::size_t best = 0;
    while (best + 1 < w && fin[best] != best_finish) ++best;
    const double best_start = std::max(free_at[best], std::max(best == w1 ? v2 : v1, on[best]));
    plan_.worker[i] = static_cast<std::int32_t>(best);
    plan_.start[i] = best_start;
    plan_.finish[i] = best_finish;
    free_at_[best] = best_finish;
    plan_.makespan = std::max(plan_.makespan, best_finish);
    plan_.order.push_back(t);
    for (const auto w : touched_) on_[w] = 0.0;
    touched_.clear();
  }

 private:
  const Graph& g_;
  const double* cost_;
  const double* speed_;
  std::size_t workers_;
  Plan& plan_;
  bool uniform_ = false;
  std::vector<double> free_at_, on_, finish_;
  std::vector<std::size_t> touched_;
};

}  // namespace

Plan heft(const Graph& g, const double* cost, std::size_t workers, const double* speed) {
  const std::size_t n = g.n;
  Plan plan;
  plan.rank.assign(n, 0.0);
  double inv_speed = 0.0;
  for (std::size_t p = 0; p < workers; ++p) inv_speed += 1.0 / speed[p];
  inv_speed /= static_cast<double>(workers);
  const double comm_on = workers > 1 ? 1.0 : 0.0;
  for (std::size_t k = n; k-- > 0;) {
    const auto i = static_cast<std::size_t>(g.topo[k]);
    double tail = 0.0;
    for (auto e = g.succ_at[i]; e < g.succ_at[i + 1]; ++e) {
      const auto s = static_cast<std::size_t>(g.succ[static_cast<std::size_t>(e)]);
      tail = std::max(tail, comm_on * g.succ_comm[static_cast<std::size_t>(e)] + plan.rank[s]);
    }
    plan.rank[i] = cost[i] * inv_speed + tail;
  }
  Placer placer(g, cost, workers, speed, plan);
  // With every rank above its successors' (positive costs make it so, unless rounding absorbs
  // a cost), the tasks sorted by rank (ties to the lower id) are the very order the ready
  // queue would give, and each is ready in its turn; a sort costs less than the heap. Should
  // a task not be ready in its turn, the plan starts over with the queue.
  std::vector<std::int32_t> sorted(n);
  for (std::size_t i = 0; i < n; ++i) sorted[i] = static_cast<std::int32_t>(i);
  std::sort(sorted.begin(), sorted.end(), [&](std::int32_t a, std::int32_t b) {
    const double ra = plan.rank[static_cast<std::size_t>(a)], rb = plan.rank[static_cast<std::size_t>(b)];
    return ra > rb || (ra == rb && a < b);
  });
  bool in_order = true;
  for (const auto t : sorted) {
    if (!(in_order = placer.ready(t))) break;
    placer.place(t);
  }
  if (!in_order) {
    placer.reset();
    ReadyQueue queue(g, plan.rank.data());
    for (std::int32_t t = queue.pop(); t >= 0; t = queue.pop()) {
      placer.place(t);
      queue.done(t);
    }
  }
  return plan;
}

ReadyQueue::ReadyQueue(const Graph& g, const double* priority)
    : priority_(priority, priority + g.n), waiting_(g.n), state_(g.n, 0), first_(g.n, -1),
      remaining_(g.n) {
  next_.reserve(g.succ.size());
  to_.reserve(g.succ.size());
  for (std::size_t i = 0; i < g.n; ++i) {
    for (auto e = g.succ_at[i]; e < g.succ_at[i + 1]; ++e) {
      link(static_cast<std::int32_t>(i), g.succ[static_cast<std::size_t>(e)]);
    }
    waiting_[i] = static_cast<std::int32_t>(g.pred_at[i + 1] - g.pred_at[i]);
  }
  for (std::size_t i = 0; i < g.n; ++i) {
    if (waiting_[i] == 0) push(static_cast<std::int32_t>(i));
  }
}

void ReadyQueue::link(std::int32_t from, std::int32_t to) {
  if (to_.size() >= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
    throw std::length_error("the ready queue is full (2^31 - 1 edges)");
  }
  next_.push_back(first_[static_cast<std::size_t>(from)]);
  to_.push_back(to);
  first_[static_cast<std::size_t>(from)] = static_cast<std::int32_t>(to_.size() - 1);
}

std::int32_t ReadyQueue::add(double priority, const std::int32_t* pred, std::size_t k) {
  const std::size_t n = state_.size();
  if (n >= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
    throw std::length_error("the ready queue is full (2^31 - 1 tasks)");
  }
  bool cancelled = false;
  for (std::size_t j = 0; j < k; ++j) {
    if (pred[j] < 0 || static_cast<std::size_t>(pred[j]) >= n) {
      throw std::invalid_argument("predecessor " + std::to_string(pred[j]) + " is not in the queue (0.." +
                                  std::to_string(static_cast<long long>(n) - 1) + ")");
    }
    cancelled = cancelled || state_[static_cast<std::size_t>(pred[j])] == 4;
  }
  const auto task = static_cast<std::int32_t>(n);
  priority_.push_back(priority);
  state_.push_back(cancelled ? 4 : 0);
  first_.push_back(-1);
  waiting_.push_back(0);
  if (cancelled) return task;
  ++remaining_;
  for (std::size_t j = 0; j < k; ++j) {
    if (state_[static_cast<std::size_t>(pred[j])] == 3) continue;  // its output is there
    link(pred[j], task);
    ++waiting_[n];
  }
  if (waiting_[n] == 0) push(task);
  return task;
}

void ReadyQueue::push(std::int32_t task) {
  state_[static_cast<std::size_t>(task)] = 1;
  ++ready_;
  heap_.emplace(priority_[static_cast<std::size_t>(task)], -task);
}

std::int32_t ReadyQueue::pop() {
  while (!heap_.empty()) {
    const std::int32_t t = -heap_.top().second;
    heap_.pop();
    if (state_[static_cast<std::size_t>(t)] == 1) {  // not cancelled while it waited
      state_[static_cast<std::size_t>(t)] = 2;
      --ready_;
      return t;
    }
  }
  return -1;
}

std::size_t ReadyQueue::done(std::int32_t task) {
  const auto t = static_cast<std::size_t>(task);
  if (state_[t] != 2) throw std::invalid_argument("task " + std::to_string(task) + " was not popped");
  state_[t] = 3;
  --remaining_;
  std::size_t released = 0;
  for (auto e = first_[t]; e >= 0; e = next_[static_cast<std::size_t>(e)]) {
    const auto s = to_[static_cast<std::size_t>(e)];
    if (--waiting_[static_cast<std::size_t>(s)] == 0 && state_[static_cast<std::size_t>(s)] == 0) {
      push(s);
      ++released;
    }
  }
  return released;
}

void ReadyQueue::requeue(std::int32_t task) {
  if (state_[static_cast<std::size_t>(task)] != 2) {
    throw std::invalid_argument("task " + std::to_string(task) + " was not popped");
  }
  push(task);
}

std::vector<std::int32_t> ReadyQueue::cancel(std::int32_t task) {
  std::vector<std::int32_t> cancelled, stack{task};
  while (!stack.empty()) {
    const auto t = stack.back();
    const auto i = static_cast<std::size_t>(t);
    stack.pop_back();
    if (state_[i] >= 3) continue;  // done or cancelled already
    if (state_[i] == 1) --ready_;  // its heap entry is skipped when it surfaces
    state_[i] = 4;
    --remaining_;
    cancelled.push_back(t);
    for (auto e = first_[i]; e >= 0; e = next_[static_cast<std::size_t>(e)]) {
      stack.push_back(to_[static_cast<std::size_t>(e)]);
    }
  }
  return cancelled;
}

}  // namespace chimera::scheduler
