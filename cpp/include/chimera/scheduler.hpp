// Scheduling a task graph onto workers (Layer 4): HEFT list scheduling (Topcuoglu, Hariri and
// Wu 2002) and the ready queue a dispatcher pops tasks from. docs/kernels.md ("Scheduler") is
// the contract.
#pragma once

#include <cstddef>
#include <cstdint>
#include <queue>
#include <string>
#include <utility>
#include <vector>

namespace chimera::scheduler {

// A directed acyclic graph in both directions, compressed: the successors of task i are
// succ[succ_at[i] .. succ_at[i + 1]), with the edge's communication cost in succ_comm; the
// same for predecessors.
struct Graph {
  std::size_t n = 0;
  std::vector<std::int64_t> succ_at, pred_at;
  std::vector<std::int32_t> succ, pred;
  std::vector<double> succ_comm, pred_comm;
  std::vector<std::int32_t> topo;  // a topological order

  // Throws std::invalid_argument naming the problem: an edge's task out of range, a self
  // loop, or a cycle (with a task on it).
  Graph(std::size_t tasks, std::size_t edges, const std::int32_t* src, const std::int32_t* dst,
        const double* comm);
};

struct Plan {
  std::vector<std::int32_t> worker;  // per task
  std::vector<double> start, finish;  // per task
  std::vector<std::int32_t> order;    // tasks in the order they were placed
  std::vector<double> rank;           // upward rank per task
  double makespan = 0.0;
};

// HEFT without insertion: upward ranks rank(i) = w(i) + max over successors j of
// (c(i, j) + rank(j)), with w(i) = cost[i] * mean(1 / speed) and c the edge's communication
// cost (0 with one worker); then, the ready task of highest rank first (ties to the lower id),
// each task goes to the worker where it finishes earliest (ties to the lower worker):
// start = max(worker free, max over predecessors of finish + (other worker ? c : 0)),
// finish = start + cost / speed.
Plan heft(const Graph& g, const double* cost, std::size_t workers, const double* speed);

// Tasks become ready when all their predecessors are done; pop() gives the ready task of
// highest priority (ties to the lower id), or -1 when none is ready. cancel(i) drops a task
// not yet done and, with it, every task that depends on it (they can never become ready).
// The queue grows: add() appends a task after predecessors already in it, which is how a
// dispatcher takes work submitted while earlier work runs. Successor lists are linked lists
// in flat arrays, so an add costs O(predecessors) and nothing is moved.
class ReadyQueue {
 public:
  ReadyQueue() = default;
  ReadyQueue(const Graph& g, const double* priority);

  // Appends a task; a predecessor done already does not hold it back, a cancelled one cancels
  // it at once. Throws std::invalid_argument for a predecessor that is not in the queue.
  std::int32_t add(double priority, const std::int32_t* pred, std::size_t k);
  std::int32_t pop();
  // Marks a popped task done; returns how many tasks became ready.
  std::size_t done(std::int32_t task);
  // Puts a popped task back among the ready ones (a retry).
  void requeue(std::int32_t task);
  // Cancels a task that is not done, and its descendants; returns those it cancelled.
  std::vector<std::int32_t> cancel(std::int32_t task);
  std::size_t size() const { return state_.size(); }
  std::size_t ready() const { return ready_; }
  std::size_t remaining() const { return remaining_; }
  // 0 waiting, 1 ready, 2 popped, 3 done, 4 cancelled
  std::uint8_t state(std::int32_t task) const { return state_[static_cast<std::size_t>(task)]; }

 private:
  void push(std::int32_t task);
  void link(std::int32_t from, std::int32_t to);

  std::vector<double> priority_;
  std::vector<std::int32_t> waiting_;  // predecessors not yet done
  std::vector<std::uint8_t> state_;
  std::vector<std::int32_t> first_;  // per task, its first out-edge (-1: none)
  std::vector<std::int32_t> next_, to_;  // per edge, the task's next out-edge, and its head
  std::priority_queue<std::pair<double, std::int32_t>> heap_;  // (priority, -id)
  std::size_t ready_ = 0, remaining_ = 0;
};

}  // namespace chimera::scheduler
