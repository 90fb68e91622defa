// chimera._core.scheduler: HEFT planning of a task graph onto workers, and the ready queue a
// dispatcher pops tasks from.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "arrays.hpp"
#include "chimera/scheduler.hpp"

namespace py = pybind11;
namespace sc = chimera::scheduler;
using chimera::bind::In;
using chimera::bind::Invalid;
using chimera::bind::require;
using chimera::bind::WrongType;
using chimera::bind::to_array;

namespace {

// The message is built only for the first bad entry (building one per entry cost more than
// the planning).
void check_non_negative(const In<double>& a, const char* name, const char* what) {
  for (py::ssize_t i = 0; i < a.size(); ++i) {
    if (!(std::isfinite(a.data()[i]) && a.data()[i] >= 0.0)) {
      throw Invalid(std::string(name) + " must be finite and non-negative (" + what + " " +
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
    throw Invalid(e.what());
  }
}


py::dict heft(const In<double>& cost, const In<std::int32_t>& src, const In<std::int32_t>& dst,
              const py::object& comm, const In<double>& speed) {
  require(cost.ndim() == 1, "cost must be a 1-D array, one entry per task");
  require(speed.ndim() == 1 && speed.size() >= 1, "speed must be a 1-D array, one entry per worker");
  check_non_negative(cost, "cost", "task");
  for (py::ssize_t p = 0; p < speed.size(); ++p) {
    // 1 / speed enters the ranks: a speed so small that it overflows is refused too.
    if (!(std::isfinite(speed.data()[p]) && speed.data()[p] > 0.0 && std::isfinite(1.0 / speed.data()[p]))) {
      throw Invalid("speed must be finite and positive (worker " + std::to_string(p) + ")");
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

void check_task(const sc::ReadyQueue& q, long long task) {
  const auto n = static_cast<long long>(q.size());
  require(task >= 0 && task < n, "task " + std::to_string(task) + " is outside 0.." + std::to_string(n - 1));
}

}  // namespace

void register_scheduler(py::module_& m) {
  m.def("heft", &heft, py::arg("cost"), py::arg("src"), py::arg("dst"), py::arg("comm") = py::none(),
        py::arg("speed"),
        "HEFT list scheduling of a task graph (edges src[k] -> dst[k]) onto workers of the given "
        "speeds: a dict of worker, start, finish, order, rank (per task) and makespan.");
  py::class_<sc::ReadyQueue>(m, "ReadyQueue")
      .def(py::init<>(),
           "An empty queue that tasks are added to.")
      .def(py::init([](std::size_t n, const In<std::int32_t>& src, const In<std::int32_t>& dst,
                       const In<double>& priority) {
             require(priority.ndim() == 1 && static_cast<std::size_t>(priority.size()) == n,
                     "priority must be a 1-D array with one entry per task");
             for (py::ssize_t i = 0; i < priority.size(); ++i) {
               if (!std::isfinite(priority.data()[i])) {
                 throw chimera::bind::Invalid("priority must be finite (task " + std::to_string(i) + ")");
               }
             }
             return sc::ReadyQueue(*graph(n, src, dst, py::none()), priority.data());
           }),
           py::arg("n"), py::arg("src"), py::arg("dst"), py::arg("priority"))
      .def("add", [](sc::ReadyQueue& q, double priority, const py::object& after) {
             std::vector<std::int32_t> pred;
             if (!after.is_none()) {
               for (const auto& item : py::iter(after)) {
                 const bool is_int = py::isinstance<py::int_>(item);
                 if (!is_int && !py::hasattr(item, "__index__")) {
                   throw WrongType("after must hold task ids (integers), got " +
                                        std::string(py::str(py::type::of(item).attr("__name__"))));
                 }
                 const auto p = (is_int ? py::reinterpret_borrow<py::object>(item)
                                        : item.attr("__index__")()).cast<long long>();
                 require(p >= 0 && p < std::numeric_limits<std::int32_t>::max(),
                         "predecessor " + std::to_string(p) + " is not in the queue");
                 pred.push_back(static_cast<std::int32_t>(p));
               }
             }
             require(std::isfinite(priority), "priority must be finite");
             try {
               return q.add(priority, pred.data(), pred.size());
             } catch (const std::exception& e) {
               throw Invalid(e.what());
             }
           }, py::arg("priority"), py::arg("after") = py::none(),
           "Appends a task that waits for the tasks in ``after``; returns its id.")
      .def("pop", [](sc::ReadyQueue& q) { return q.pop(); },
           "The ready task of highest priority (ties to the lower id), or -1 if none is ready.")
      .def("done", [](sc::ReadyQueue& q, long long task) {
             check_task(q, task);
             try {
               return q.done(static_cast<std::int32_t>(task));
             } catch (const std::invalid_argument& e) {
               throw Invalid(e.what());
             }
           }, py::arg("task"), "Marks a popped task done; returns how many became ready.")
      .def("requeue", [](sc::ReadyQueue& q, long long task) {
             check_task(q, task);
             try {
               q.requeue(static_cast<std::int32_t>(task));
             } catch (const std::invalid_argument& e) {
               throw Invalid(e.what());
             }
           }, py::arg("task"), "Puts a popped task back among the ready ones (a retry).")
      .def("cancel", [](sc::ReadyQueue& q, long long task) {
             check_task(q, task);
             return q.cancel(static_cast<std::int32_t>(task));  // a list, through stl.h
           }, py::arg("task"), "Cancels a task and its descendants; returns their ids.")
      .def("state", [](const sc::ReadyQueue& q, long long task) {
             check_task(q, task);
             return q.state(static_cast<std::int32_t>(task));
           }, py::arg("task"))
      .def_property_readonly("ready", [](const sc::ReadyQueue& q) { return q.ready(); })
      .def_property_readonly("remaining", [](const sc::ReadyQueue& q) { return q.remaining(); })
      .def("__len__", [](const sc::ReadyQueue& q) { return q.size(); });
}
