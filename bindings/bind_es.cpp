#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>

#include "arrays.hpp"
#include "chimera/es.hpp"

namespace py = pybind11;

void register_es(py::module_& m) {
  m.def(
      "standard_normal",
      [](const py::object& out_obj, std::uint64_t seed, std::uint32_t generation,
         std::uint32_t purpose) {
        auto out = chimera::bind::output<double>(out_obj, "out");
        chimera::bind::require_ndim(out, 2, "out");
        chimera::bind::require(out.shape(0) < (py::ssize_t{1} << 32), "out has more than 2^32 rows");
        const auto rows = static_cast<std::size_t>(out.shape(0));
        const auto cols = static_cast<std::size_t>(out.shape(1));
        double* o = out.mutable_data();
        // The buffer is unpacked above; the kernel touches raw memory only.
        py::gil_scoped_release release;
        chimera::es::standard_normal(o, rows, cols, seed, generation, purpose);
      },
      py::arg("out"), py::arg("seed"), py::arg("generation"), py::arg("purpose"));
}
