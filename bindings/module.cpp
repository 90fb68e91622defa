// chimera._core: one submodule per kernel area; each bind_<area>.cpp registers its own.
#include <pybind11/pybind11.h>

#include "arrays.hpp"

namespace py = pybind11;

void register_rng(py::module_& m);
void register_ga(py::module_& m);
void register_moo(py::module_& m);
void register_bandit(py::module_& m);
void register_scheduler(py::module_& m);
void register_es(py::module_& m);

PYBIND11_MODULE(_core, m) {
  m.doc() = "Chimera's native kernels (C++17, OpenMP). Use the chimera package, not this module.";
  chimera::bind::register_errors();
  auto rng = m.def_submodule("rng", "Philox4x32-10 counter-based streams");
  register_rng(rng);
  auto ga = m.def_submodule("ga", "Whole-population genetic operators");
  register_ga(ga);
  auto moo = m.def_submodule("moo", "Non-dominated sorting, crowding distance, NSGA-III niching");
  register_moo(moo);
  auto bandit = m.def_submodule("bandit", "Multi-armed bandits: online select / update");
  register_bandit(bandit);
  auto scheduler = m.def_submodule("scheduler", "HEFT planning of task graphs, ready queues");
  register_scheduler(scheduler);
  auto es = m.def_submodule("es", "Evolution strategies: the samples of a generation");
  register_es(es);
}
