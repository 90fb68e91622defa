// chimera._cuda.ga: the CUDA twins of chimera._core.ga, with the same functions, argument names
// and order (docs/kernels.md). When every array is on the host the arrays are copied to the GPU,
// bred there and copied back; otherwise the kernels work in place on the device arrays, and the
// few host arrays among them (bounds, the mutation table, ...) are copied over.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "arrays.hpp"
#include "breed_config.hpp"
#include "chimera/operators.hpp"
#include "cuda_arrays.hpp"
#include "ga_cuda.hpp"

namespace py = pybind11;
namespace ga = chimera::ga;
namespace cu = chimera::cuda;
using namespace chimera::bind::cuda;  // NOLINT: the array helpers of this module
using chimera::bind::Invalid;
using chimera::bind::WrongType;
using chimera::bind::require;

namespace {

void init_uniform(const py::object& out_obj, const py::object& low_obj,
                  const py::object& high_obj, std::uint64_t seed) {
  const Array out = genome(out_obj, "out", true);
  require_ndim(out, 2, "out");
  const auto n = out.shape[0], d = out.shape[1];
  const Array low = input<double>(low_obj, "low");
  const Array high = input<double>(high_obj, "high");
  require_ndim(low, 1, "low");
  require_ndim(high, 1, "high");
  require_len(low, 0, d, "low");
  require_len(high, 0, d, "high");
  dispatch_genome(out.dtype, "out", [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const auto nn = static_cast<std::size_t>(n), dd = static_cast<std::size_t>(d);
    // Every Python object is unpacked above; the kernels touch raw buffers only.
    py::gil_scoped_release release;
    if (!any_device({&out, &low, &high})) {
      cu::init_uniform_host<T>(static_cast<T*>(out.data), nn, dd,
                               static_cast<const double*>(low.data),
                               static_cast<const double*>(high.data), seed);
      return;
    }
    Staging stage({{&out, "out"}, {&low, "low"}, {&high, "high"}});
    const double* lo = stage.in<double>(low);
    const double* hi = stage.in<double>(high);
    T* o = stage.out<T>(out);
    cu::init_uniform_device<T>(o, nn, dd, lo, hi, seed);
    stage.finish();
  });
}

void breed(const py::object& X_obj, const py::object& f_obj, const py::object& low_obj,
           const py::object& high_obj, const py::object& out_obj, const py::object& parents_obj,
           std::uint64_t seed, std::uint32_t generation, int selection,
           std::int64_t selection_size, int crossover, std::uint64_t crossover_threshold,
           double crossover_param, int mutation, std::uint64_t mutation_threshold,
           double mutation_param, const py::object& mutation_cdf_obj, int bounds) {
  const Array X = genome(X_obj, "X", false);
  const Array out = genome(out_obj, "out", true);
  require_ndim(X, 2, "X");
  require_ndim(out, 2, "out");
  const auto n = X.shape[0], d = X.shape[1], m = out.shape[0];
  require(n >= 2, "X must hold at least 2 individuals");
  require(n < (py::ssize_t{1} << 31) && m < (py::ssize_t{1} << 31), "populations are limited to 2^31 rows");
  require_len(out, 1, d, "out");
  require(same_dtype(X.dtype, out.dtype), "out must have the dtype of X");
  const Array f = input<double>(f_obj, "f");
  const Array low = input<double>(low_obj, "low");
  const Array high = input<double>(high_obj, "high");
  require_ndim(f, 1, "f");
  require_len(f, 0, n, "f");
  require_ndim(low, 1, "low");
  require_ndim(high, 1, "high");
  require_len(low, 0, d, "low");
  require_len(high, 0, d, "high");
  const Array cdf = input<std::uint32_t>(mutation_cdf_obj, "mutation_cdf");
  require_ndim(cdf, 1, "mutation_cdf");
  const Array parents = output<std::int32_t>(parents_obj, "parents");
  require_ndim(parents, 2, "parents");
  require_len(parents, 0, m, "parents");
  require_len(parents, 1, 2, "parents");

  ga::BreedConfig cfg = chimera::bind::breed_config(
      seed, generation, selection, selection_size, crossover, crossover_threshold, crossover_param,
      mutation, mutation_threshold, mutation_param, static_cast<std::size_t>(cdf.shape[0]), bounds, n);

  dispatch_genome(X.dtype, "X", [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    if constexpr (std::is_integral_v<T>) {
      if (ga::needs_real_genes(cfg)) {
        throw Invalid("blend, SBX, Gaussian and polynomial operators need float genomes");
      }
    }
    const auto nn = static_cast<std::size_t>(n), dd = static_cast<std::size_t>(d),
               mm = static_cast<std::size_t>(m);
    // All arguments are unpacked into raw pointers that the caller keeps alive; no Python
    // object is touched until the GIL is back.
    py::gil_scoped_release release;
    if (!any_device({&X, &f, &low, &high, &out, &parents, &cdf})) {
      cfg.mutation_cdf = static_cast<const std::uint32_t*>(cdf.data);
      cu::breed_host<T>(static_cast<const T*>(X.data), static_cast<const double*>(f.data), nn, dd,
                        static_cast<const double*>(low.data), static_cast<const double*>(high.data),
                        static_cast<T*>(out.data), static_cast<std::int32_t*>(parents.data), mm,
                        cfg);
      return;
    }
    Staging stage({{&X, "X"}, {&f, "f"}, {&low, "low"}, {&high, "high"}, {&out, "out"},
                   {&parents, "parents"}, {&cdf, "mutation_cdf"}});
    const T* x = stage.in<T>(X);
    const double* fp = stage.in<double>(f);
    const double* lo = stage.in<double>(low);
    const double* hi = stage.in<double>(high);
    cfg.mutation_cdf = stage.in<std::uint32_t>(cdf);
    T* o = stage.out<T>(out);
    std::int32_t* par = stage.out<std::int32_t>(parents);
    cu::breed_device<T>(x, fp, nn, dd, lo, hi, o, par, mm, cfg);
    stage.finish();
  });
}

}  // namespace

void register_cuda_ga(py::module_& m) {
  auto g = m.def_submodule("ga", "Whole-population genetic operators on the GPU");
  g.def("init_uniform", &init_uniform, py::arg("out"), py::arg("low"), py::arg("high"),
        py::arg("seed"));
  g.def("breed", &breed, py::arg("X"), py::arg("f"), py::arg("low"), py::arg("high"),
        py::arg("out"), py::arg("parents"), py::arg("seed"), py::arg("generation"),
        py::arg("selection"), py::arg("selection_size"), py::arg("crossover"),
        py::arg("crossover_threshold"), py::arg("crossover_param"), py::arg("mutation"),
        py::arg("mutation_threshold"), py::arg("mutation_param"), py::arg("mutation_cdf"),
        py::arg("bounds"));
}
