// chimera._core.scheduler: HEFT planning of a task graph onto workers, and the ready queue a
// dispatcher pops tasks from.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>

#include "arrays.hpp"
#include "chimera/scheduler.hpp"

namespace py = pybind11;
namespace sc = chimera::scheduler;
using chimera::bind::In;
using chimera::bind::require;
using chimera::bind::to_array;

namespace {

// The message is built only for the first bad entry (building one per entry cost more than
// the planning).
void check_non_negative(const In<double>& a, const char* name, const char* what) {
  for (py::ssize_t i = 0; i < a.size(); ++i) {
    if (!(std::isfinite(a.data()[i]) && a.data()[i] >= 0.0)) {
      throw py::value_error(std::string(name) + " must be finite and non-negative (" + what + " " +
                            std::to_string(i) + ")");
    }
  }
}

std::shared_ptr<sc::Graph> graph(std::size_t n, const In<std::int32_t>& src, const In<std::int32_t>& dst,
                                 const py::object& comm) {
  require(src.ndim() == 1 && dst.ndim() == 1 && src.size() == dst.size(),
          "src and dst must be 1-D arrays of the same length (one entry per edge)");
  const double* c = nullptr;
  In<double> comm_array;
  if (!comm.is_none()) {
    comm_array = In<double>::ensure(comm);
    require(comm_array && comm_array.ndim() == 1 && comm_array.size() == src.size(),
            "comm must be a 1-D array with one cost per edge");
    check_non_negative(comm_array, "comm", "edge");
    c = comm_array.data();
  }
  try {
    return std::make_shared<sc::Graph>(n, static_cast<std::size_t>(src.size()), src.data(), dst.data(), c);
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }
}


py::dict heft(const In<double>& cost, const In<std::int32_t>& src, const In<std::int32_t>& dst,
              const py::object& comm, const In<double>& speed) {
  require(cost.ndim() == 1, "cost must be a 1-D array, one entry per task");
  require(speed.ndim() == 1 && speed.size() >= 1, "speed must be a 1-D array, one entry per worker");
  check_non_negative(cost, "cost", "task");
  for (py::ssize_t p = 0; p < speed.size(); ++p) {
    if (!(std::isfinite(speed.data()[p]) && speed.data()[p] > 0.0)) {
      throw py::value_error("speed must be finite and positive (worker " + std::to_string(p) + ")");
    }
  }
  const auto g = graph(static_cast<std::size_t>(cost.size()), src, dst, comm);
  sc::Plan plan;
  {
    py::gil_scoped_release release;
    plan = sc::heft(*g, cost.data(), static_cast<std::size_t>(speed.size()), speed.data());
  }
  py::dict out;
  out["worker"] = to_array(plan.worker);
  out["start"] = to_array(plan.start);
  out["finish"] = to_array(plan.finish);
  out["order"] = to_array(plan.order);
  out["rank"] = to_array(plan.rank);
  out["makespan"] = plan.makespan;
  return out;
}

// The queue keeps its graph alive.
struct Queue {
  std::shared_ptr<sc::Graph> g;
  std::unique_ptr<sc::ReadyQueue> q;
};

void check_task(const Queue& q, long long task) {
  require(task >= 0 && static_cast<std::size_t>(task) < q.g->n,
          "task " + std::to_string(task) + " is outside 0.." + std::to_string(static_cast<long long>(q.g->n) - 1));
}

}  // namespace

void register_scheduler(py::module_& m) {
  m.def("heft", &heft, py::arg("cost"), py::arg("src"), py::arg("dst"), py::arg("comm") = py::none(),
        py::arg("speed"),
        "HEFT list scheduling of a task graph (edges src[k] -> dst[k]) onto workers of the given "
        "speeds: a dict of worker, start, finish, order, rank (per task) and makespan.");
  py::class_<Queue>(m, "ReadyQueue")
      .def(py::init([](std::size_t n, const In<std::int32_t>& src, const In<std::int32_t>& dst,
                       const In<double>& priority) {
             require(priority.ndim() == 1 && static_cast<std::size_t>(priority.size()) == n,
                     "priority must be a 1-D array with one entry per task");
             Queue q{graph(n, src, dst, py::none()), nullptr};
             q.q = std::make_unique<sc::ReadyQueue>(*q.g, priority.data());
             return q;
           }),
           py::arg("n"), py::arg("src"), py::arg("dst"), py::arg("priority"))
      .def("pop", [](Queue& q) { return q.q->pop(); },
           "The ready task of highest priority (ties to the lower id), or -1 if none is ready.")
      .def("done", [](Queue& q, long long task) {
             check_task(q, task);
             try {
               return q.q->done(static_cast<std::int32_t>(task));
             } catch (const std::invalid_argument& e) {
               throw py::value_error(e.what());
             }
           }, py::arg("task"), "Marks a popped task done; returns how many became ready.")
      .def("cancel", [](Queue& q, long long task) {
             check_task(q, task);
             return q.q->cancel(static_cast<std::int32_t>(task));
           }, py::arg("task"), "Cancels a task and its descendants; returns how many.")
      .def("state", [](const Queue& q, long long task) {
             check_task(q, task);
             return q.q->state(static_cast<std::int32_t>(task));
           }, py::arg("task"))
      .def_property_readonly("ready", [](const Queue& q) { return q.q->ready(); })
      .def_property_readonly("remaining", [](const Queue& q) { return q.q->remaining(); });
}
