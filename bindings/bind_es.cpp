#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>

#include "arrays.hpp"
#include "chimera/es.hpp"

namespace py = pybind11;
using chimera::bind::In;

void register_es(py::module_& m) {
  m.def(
      "standard_normal",
      [](const py::object& out_obj, std::uint64_t seed, std::uint32_t generation,
         std::uint32_t purpose, bool avx2) {
        auto out = chimera::bind::output<double>(out_obj, "out");
        chimera::bind::require_ndim(out, 2, "out");
        chimera::bind::require(out.shape(0) < (py::ssize_t{1} << 32), "out has more than 2^32 rows");
        const auto rows = static_cast<std::size_t>(out.shape(0));
        const auto cols = static_cast<std::size_t>(out.shape(1));
        double* o = out.mutable_data();
        // The buffer is unpacked above; the kernel touches raw memory only.
        py::gil_scoped_release release;
        chimera::es::standard_normal(o, rows, cols, seed, generation, purpose, avx2);
      },
      py::arg("out"), py::arg("seed"), py::arg("generation"), py::arg("purpose"),
      py::arg("avx2") = true);

  m.def(
      "box_transform",
      [](const py::object& out_obj, const In<double>& Y, const In<double>& mean, double sigma,
         const In<double>& low, const In<double>& high, const In<double>& al,
         const In<double>& au) {
        auto out = chimera::bind::output<double>(out_obj, "out");
        chimera::bind::require_ndim(out, 2, "out");
        chimera::bind::require_ndim(Y, 2, "Y");
        chimera::bind::require(Y.shape(0) == out.shape(0) && Y.shape(1) == out.shape(1),
                               "Y must have the shape of out");
        const py::ssize_t cols = out.shape(1);
        for (const auto* v : {&mean, &low, &high, &al, &au}) {
          chimera::bind::require(v->ndim() == 1 && v->shape(0) == cols,
                                 "mean, low, high, al and au must have one value per column of out");
        }
        const auto rows = static_cast<std::size_t>(out.shape(0));
        double* o = out.mutable_data();
        const std::size_t size = rows * static_cast<std::size_t>(cols);
        // The far genes' second pass reads Y again after out was written.
        chimera::bind::require(o + size <= Y.data() || Y.data() + size <= o,
                               "out must not share memory with Y: pass a fresh array");
        py::gil_scoped_release release;
        chimera::es::box_transform(o, Y.data(), rows, static_cast<std::size_t>(cols), mean.data(),
                                   sigma, low.data(), high.data(), al.data(), au.data());
      },
      py::arg("out"), py::arg("Y"), py::arg("mean"), py::arg("sigma"), py::arg("low"),
      py::arg("high"), py::arg("al"), py::arg("au"));
}
