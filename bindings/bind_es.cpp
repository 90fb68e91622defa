#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <initializer_list>

#include "arrays.hpp"
#include "chimera/es.hpp"
#include "chimera/products.hpp"

namespace py = pybind11;
using chimera::bind::In;

namespace {
// A 2-D float64 array the kernels write (C-contiguous, writeable: output's checks).
py::array_t<double> matrix_output(const py::object& obj, const char* name) {
  auto out = chimera::bind::output<double>(obj, name);
  chimera::bind::require_ndim(out, 2, name);
  return out;
}

// The kernels write out while they read the inputs: refused when the two share memory.
void require_disjoint(const py::array& out, std::initializer_list<const In<double>*> inputs,
                      const char* message) {
  const auto* o = static_cast<const double*>(out.data());
  for (const auto* in : inputs) {
    const double* i = in->data();
    chimera::bind::require(o + out.size() <= i || i + in->size() <= o, message);
  }
}
}  // namespace

void register_es(py::module_& m) {
  m.def(
      "standard_normal",
      [](const py::object& out_obj, std::uint64_t seed, std::uint32_t generation,
         std::uint32_t purpose, int simd) {
        auto out = matrix_output(out_obj, "out");
        chimera::bind::require(out.shape(0) < (py::ssize_t{1} << 32), "out has more than 2^32 rows");
        const auto rows = static_cast<std::size_t>(out.shape(0));
        const auto cols = static_cast<std::size_t>(out.shape(1));
        double* o = out.mutable_data();
        // The buffer is unpacked above; the kernel touches raw memory only.
        py::gil_scoped_release release;
        chimera::es::standard_normal(o, rows, cols, seed, generation, purpose, simd);
      },
      py::arg("out"), py::arg("seed"), py::arg("generation"), py::arg("purpose"),
      py::arg("simd") = 2);

  m.def(
      "box_transform",
      [](const py::object& out_obj, const In<double>& Y, const In<double>& mean, double sigma,
         const In<double>& low, const In<double>& high, const In<double>& al,
         const In<double>& au) {
        auto out = matrix_output(out_obj, "out");
        chimera::bind::require_ndim(Y, 2, "Y");
        chimera::bind::require(Y.shape(0) == out.shape(0) && Y.shape(1) == out.shape(1),
                               "Y must have the shape of out");
        const py::ssize_t cols = out.shape(1);
        for (const auto* v : {&mean, &low, &high, &al, &au}) {
          chimera::bind::require(v->ndim() == 1 && v->shape(0) == cols,
                                 "mean, low, high, al and au must have one value per column of out");
        }
        const auto rows = static_cast<std::size_t>(out.shape(0));
        // The far genes' second pass reads Y again after out was written.
        require_disjoint(out, {&Y}, "out must not share memory with Y: pass a fresh array");
        double* o = out.mutable_data();
        py::gil_scoped_release release;
        chimera::es::box_transform(o, Y.data(), rows, static_cast<std::size_t>(cols), mean.data(),
                                   sigma, low.data(), high.data(), al.data(), au.data());
      },
      py::arg("out"), py::arg("Y"), py::arg("mean"), py::arg("sigma"), py::arg("low"),
      py::arg("high"), py::arg("al"), py::arg("au"));

  m.def(
      "dot_rows",
      [](const py::object& out_obj, const In<double>& A, const In<double>& B, int simd) {
        auto out = matrix_output(out_obj, "out");
        chimera::bind::require_ndim(A, 2, "A");
        chimera::bind::require_ndim(B, 2, "B");
        chimera::bind::require(A.shape(1) == B.shape(1), "A and B must have as many columns");
        chimera::bind::require(out.shape(0) == A.shape(0) && out.shape(1) == B.shape(0),
                               "out must have shape (rows of A, rows of B)");
        const auto ra = static_cast<std::size_t>(A.shape(0));
        const auto rb = static_cast<std::size_t>(B.shape(0));
        const auto n = static_cast<std::size_t>(A.shape(1));
        require_disjoint(out, {&A, &B}, "out must not share memory with A or B: pass a fresh array");
        double* o = out.mutable_data();
        py::gil_scoped_release release;
        chimera::es::dot_rows(o, A.data(), B.data(), ra, rb, n, simd);
      },
      py::arg("out"), py::arg("A"), py::arg("B"), py::arg("simd") = 2);

  m.def(
      "add_combination",
      [](const py::object& Y_obj, double a, const In<double>& Z, const In<double>& C,
         const In<double>& M, int simd) {
        auto Y = matrix_output(Y_obj, "Y");
        chimera::bind::require_ndim(Z, 2, "Z");
        chimera::bind::require_ndim(C, 2, "C");
        chimera::bind::require_ndim(M, 2, "M");
        chimera::bind::require(Z.shape(0) == Y.shape(0) && Z.shape(1) == Y.shape(1),
                               "Z must have the shape of Y");
        chimera::bind::require(C.shape(0) == Y.shape(0), "C must have a row per row of Y");
        chimera::bind::require(M.shape(0) == C.shape(1) && M.shape(1) == Y.shape(1),
                               "M must have shape (columns of C, columns of Y)");
        const auto rows = static_cast<std::size_t>(Y.shape(0));
        const auto k = static_cast<std::size_t>(C.shape(1));
        const auto n = static_cast<std::size_t>(Y.shape(1));
        require_disjoint(Y, {&Z, &C, &M},
                         "Y must not share memory with Z, C or M: pass a fresh array");
        double* y = Y.mutable_data();
        py::gil_scoped_release release;
        chimera::es::add_combination(y, a, Z.data(), C.data(), M.data(), rows, k, n, simd);
      },
      py::arg("Y"), py::arg("a"), py::arg("Z"), py::arg("C"), py::arg("M"), py::arg("simd") = 2);
}
