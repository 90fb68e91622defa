#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>

#include "arrays.hpp"
#include "chimera/rng.hpp"

namespace py = pybind11;
using chimera::bind::In;
using chimera::rng::Stream;

namespace {

// Fills n draws of one stream; `draw` says which variate.
template <class T, class Draw>
py::array_t<T> draws(std::uint64_t seed, std::uint32_t generation, std::uint32_t individual,
                     std::uint32_t purpose, py::ssize_t n, Draw draw) {
  chimera::bind::require(n >= 0, "n must be non-negative");
  py::array_t<T> out(n);
  T* o = out.mutable_data();
  Stream st(seed, generation, individual, purpose);
  for (py::ssize_t i = 0; i < n; ++i) o[i] = draw(st);
  return out;
}

}  // namespace

void register_rng(py::module_& m) {
  m.def("philox4x32_10", [](In<std::uint32_t> ctr, In<std::uint32_t> key) {
    chimera::bind::require(ctr.ndim() == 1 && ctr.shape(0) == 4, "ctr must have 4 words");
    chimera::bind::require(key.ndim() == 1 && key.shape(0) == 2, "key must have 2 words");
    const auto c = ctr.data();
    const auto k = key.data();
    const auto r = chimera::rng::philox4x32_10({c[0], c[1], c[2], c[3]}, {k[0], k[1]});
    py::array_t<std::uint32_t> out(4);
    for (int i = 0; i < 4; ++i) out.mutable_data()[i] = r[static_cast<std::size_t>(i)];
    return out;
  });
  m.def("u32", [](std::uint64_t s, std::uint32_t g, std::uint32_t i, std::uint32_t p, py::ssize_t n) {
    return draws<std::uint32_t>(s, g, i, p, n, [](Stream& st) { return st.next_u32(); });
  });
  m.def("uniform", [](std::uint64_t s, std::uint32_t g, std::uint32_t i, std::uint32_t p, py::ssize_t n) {
    return draws<double>(s, g, i, p, n, [](Stream& st) { return st.uniform(); });
  });
  // Row i: the first n uniform() draws of Stream(seed, generation, i, purpose).
  m.def("uniform_rows", [](std::uint64_t s, std::uint32_t g, std::uint32_t p, py::ssize_t rows,
                           py::ssize_t n) {
    chimera::bind::require(rows >= 0 && n >= 0, "rows and n must be non-negative");
    chimera::bind::require(rows <= (py::ssize_t{1} << 32), "rows must be at most 2^32");
    py::array_t<double> out({rows, n});
    double* o = out.mutable_data();
    for (py::ssize_t i = 0; i < rows; ++i) {
      Stream st(s, g, static_cast<std::uint32_t>(i), p);
      for (py::ssize_t j = 0; j < n; ++j) *o++ = st.uniform();
    }
    return out;
  });
  m.def("normal", [](std::uint64_t s, std::uint32_t g, std::uint32_t i, std::uint32_t p, py::ssize_t n) {
    return draws<double>(s, g, i, p, n, [](Stream& st) { return st.normal(); });
  });
  m.def("below", [](std::uint64_t s, std::uint32_t g, std::uint32_t i, std::uint32_t p,
                    std::uint32_t bound, py::ssize_t n) {
    chimera::bind::require(bound >= 1, "bound must be at least 1");
    return draws<std::uint32_t>(s, g, i, p, n, [bound](Stream& st) { return st.below(bound); });
  });
}
