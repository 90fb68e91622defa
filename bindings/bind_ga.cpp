#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "arrays.hpp"
#include "breed_config.hpp"
#include "chimera/ga.hpp"

namespace py = pybind11;
namespace ga = chimera::ga;
using chimera::bind::In;
using chimera::bind::output;
using chimera::bind::Invalid;
using chimera::bind::require;
using chimera::bind::WrongType;
using chimera::bind::require_len;
using chimera::bind::require_ndim;

namespace {

// Calls fn with a typed null pointer for the genome dtype of `a` (float64, float32, int32, bool).
template <class Fn>
void dispatch_genome(const py::array& a, const char* name, Fn&& fn) {
  if (a.dtype().byteorder() == '>') {
    throw WrongType(std::string(name) + " must be in native byte order");
  }
  const char kind = a.dtype().kind();
  const auto size = a.dtype().itemsize();
  if (kind == 'f' && size == 8) return fn(static_cast<double*>(nullptr));
  if (kind == 'f' && size == 4) return fn(static_cast<float*>(nullptr));
  if (kind == 'i' && size == 4) return fn(static_cast<std::int32_t*>(nullptr));
  if (kind == 'b') return fn(static_cast<std::uint8_t*>(nullptr));
  throw WrongType(std::string(name) + " must be float64, float32, int32 or bool, got " +
                       std::string(py::str(a.dtype())));
}

template <class T>
py::array_t<T> genome_output(const py::object& obj, const char* name) {
  if constexpr (std::is_same_v<T, std::uint8_t>) {
    // NumPy bool is one byte of 0/1; view it as uint8 without copying.
    auto a = chimera::bind::existing_array(obj, name);
    chimera::bind::require_in_place(a, name);
    return py::reinterpret_steal<py::array_t<T>>(a.attr("view")("uint8").release());
  } else {
    return output<T>(obj, name);
  }
}

void init_uniform(const py::object& out_obj, In<double> low, In<double> high, std::uint64_t seed) {
  auto probe = chimera::bind::existing_array(out_obj, "out");
  require_ndim(probe, 2, "out");
  const auto n = probe.shape(0), d = probe.shape(1);
  require_ndim(low, 1, "low");
  require_ndim(high, 1, "high");
  require_len(low, 0, d, "low");
  require_len(high, 0, d, "high");
  dispatch_genome(probe, "out", [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    auto out = genome_output<T>(out_obj, "out");
    T* o = out.mutable_data();
    const double* lo = low.data();
    const double* hi = high.data();
    // Every Python object is unpacked above; the kernel touches raw buffers only.
    py::gil_scoped_release release;
    ga::init_uniform<T>(o, static_cast<std::size_t>(n), static_cast<std::size_t>(d), lo, hi, seed);
  });
}

void breed(const py::object& X_obj, In<double> f, In<double> low, In<double> high,
           const py::object& out_obj, const py::object& parents_obj, std::uint64_t seed,
           std::uint32_t generation, int selection, std::int64_t selection_size, int crossover,
           std::uint64_t crossover_threshold, double crossover_param, int mutation,
           std::uint64_t mutation_threshold, double mutation_param,
           In<std::uint32_t> mutation_cdf, int bounds) {
  auto X = chimera::bind::existing_array(X_obj, "X");
  auto probe = chimera::bind::existing_array(out_obj, "out");
  require_ndim(X, 2, "X");
  require_ndim(probe, 2, "out");
  require((X.flags() & py::array::c_style) != 0, "X must be C-contiguous");
  const auto n = X.shape(0), d = X.shape(1), m = probe.shape(0);
  require(n >= 2, "X must hold at least 2 individuals");
  require(n < (py::ssize_t{1} << 31) && m < (py::ssize_t{1} << 31), "populations are limited to 2^31 rows");
  require_len(probe, 1, d, "out");
  require(X.dtype().kind() == probe.dtype().kind() && X.dtype().itemsize() == probe.dtype().itemsize(),
          "out must have the dtype of X");
  require_ndim(f, 1, "f");
  require_len(f, 0, n, "f");
  require_ndim(low, 1, "low");
  require_ndim(high, 1, "high");
  require_len(low, 0, d, "low");
  require_len(high, 0, d, "high");
  require_ndim(mutation_cdf, 1, "mutation_cdf");
  auto parents = output<std::int32_t>(parents_obj, "parents");
  require_ndim(parents, 2, "parents");
  require_len(parents, 0, m, "parents");
  require_len(parents, 1, 2, "parents");

  ga::BreedConfig cfg = chimera::bind::breed_config(
      seed, generation, selection, selection_size, crossover, crossover_threshold, crossover_param,
      mutation, mutation_threshold, mutation_param, static_cast<std::size_t>(mutation_cdf.shape(0)),
      bounds, n);
  cfg.mutation_cdf = mutation_cdf.data();

  dispatch_genome(X, "X", [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    if constexpr (std::is_integral_v<T>) {
      if (ga::needs_real_genes(cfg)) {
        throw Invalid("blend, SBX, Gaussian and polynomial operators need float genomes");
      }
    }
    auto out = genome_output<T>(out_obj, "out");
    const T* x = static_cast<const T*>(X.data());
    T* o = out.mutable_data();
    std::int32_t* par = parents.mutable_data();
    const double* fp = f.data();
    const double* lo = low.data();
    const double* hi = high.data();
    // All arguments are unpacked into raw pointers that the caller keeps alive; no Python
    // object is touched until the GIL is back.
    py::gil_scoped_release release;
    ga::breed<T>(x, fp, static_cast<std::size_t>(n), static_cast<std::size_t>(d), lo, hi, o, par,
                 static_cast<std::size_t>(m), cfg);
  });
}

}  // namespace

void register_ga(py::module_& m) {
  m.def("init_uniform", &init_uniform, py::arg("out"), py::arg("low"), py::arg("high"), py::arg("seed"));
  m.def("breed", &breed, py::arg("X"), py::arg("f"), py::arg("low"), py::arg("high"), py::arg("out"),
        py::arg("parents"), py::arg("seed"), py::arg("generation"), py::arg("selection"),
        py::arg("selection_size"), py::arg("crossover"), py::arg("crossover_threshold"),
        py::arg("crossover_param"), py::arg("mutation"), py::arg("mutation_threshold"),
        py::arg("mutation_param"), py::arg("mutation_cdf"), py::arg("bounds"));
  m.def("num_threads", &ga::num_threads);
  m.def("set_num_threads", &ga::set_num_threads, py::arg("n"));
}
