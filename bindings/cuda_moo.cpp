// chimera._cuda.moo: the CUDA twins of chimera._core.moo, with the same functions, argument
// names and order (docs/kernels.md). Arrays may live on either side, as in cuda_ga.cpp. The
// checks chimera._core makes on values (no NaN, ranks and references in range) run on the
// device for device arrays. niche_select is sequential by definition (one random stream, one
// candidate per step over at most a population's candidates): it runs the C++ kernel on the
// host, copying device inputs over, so every backend exposes the same four kernels.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "arrays.hpp"
#include "chimera/moo.hpp"
#include "cuda_arrays.hpp"
#include "moo_cuda.hpp"

namespace py = pybind11;
namespace cu = chimera::cuda;
using chimera::bind::Invalid;
using chimera::bind::require;
using chimera::bind::WrongType;
using chimera::bind::cuda::Array;
using chimera::bind::cuda::input;
using chimera::bind::cuda::output;
using chimera::bind::cuda::require_len;
using chimera::bind::cuda::require_ndim;
using chimera::bind::cuda::Staging;

namespace {

std::size_t extent(const Array& a, std::size_t axis) { return static_cast<std::size_t>(a.shape[axis]); }

void require_rows(const Array& F) {
  require(F.shape[0] < (py::ssize_t{1} << 31), "F has too many rows (at most 2**31 - 1)");
}

void pareto_rank(const py::object& F_obj, const py::object& rank_obj) {
  const Array F = input<double>(F_obj, "F");
  require_ndim(F, 2, "F");
  const Array rank = output<std::int32_t>(rank_obj, "rank");
  require_ndim(rank, 1, "rank");
  require_len(rank, 0, F.shape[0], "rank");
  require_rows(F);
  require(extent(F, 1) <= cu::moo::kMaxObjectives,
          "the CUDA backend sorts at most " + std::to_string(cu::moo::kMaxObjectives) +
              " objectives");
  const std::size_t n = extent(F, 0), m = extent(F, 1);
  py::gil_scoped_release release;
  Staging stage({{&F, "F"}, {&rank, "rank"}});
  const double* f = stage.in<double>(F);
  if (cu::moo::any_nan(f, n * m)) throw Invalid("F contains NaN");
  cu::moo::pareto_rank(f, n, m, stage.out<std::int32_t>(rank));
  stage.finish();
}

void crowding_distance(const py::object& F_obj, const py::object& rank_obj,
                       const py::object& out_obj) {
  const Array F = input<double>(F_obj, "F");
  const Array rank = input<std::int32_t>(rank_obj, "rank");
  const Array out = output<double>(out_obj, "out");
  require_ndim(F, 2, "F");
  require_ndim(rank, 1, "rank");
  require_len(rank, 0, F.shape[0], "rank");
  require_ndim(out, 1, "out");
  require_len(out, 0, F.shape[0], "out");
  require_rows(F);
  const std::size_t n = extent(F, 0), m = extent(F, 1);
  py::gil_scoped_release release;
  Staging stage({{&F, "F"}, {&rank, "rank"}, {&out, "out"}});
  const double* f = stage.in<double>(F);
  const std::int32_t* r = stage.in<std::int32_t>(rank);
  if (cu::moo::any_nan(f, n * m)) throw Invalid("F contains NaN");
  if (!cu::moo::all_within(r, n, 0, static_cast<std::int32_t>(n))) {
    throw Invalid("rank must hold front indices in [0, len(F))");
  }
  cu::moo::crowding_distance(f, n, m, r, stage.out<double>(out));
  stage.finish();
}

void associate(const py::object& F_obj, const py::object& W_obj, const py::object& ref_obj,
               const py::object& dist_obj) {
  const Array F = input<double>(F_obj, "F");
  const Array W = input<double>(W_obj, "W");
  require_ndim(F, 2, "F");
  require_ndim(W, 2, "W");
  require_len(W, 1, F.shape[1], "W");
  require(W.shape[0] >= 1 && W.shape[0] < (py::ssize_t{1} << 31),
          "W must have between 1 and 2**31 - 1 reference directions");
  const Array ref = output<std::int32_t>(ref_obj, "ref");
  const Array dist = output<double>(dist_obj, "dist");
  require_ndim(ref, 1, "ref");
  require_ndim(dist, 1, "dist");
  require_len(ref, 0, F.shape[0], "ref");
  require_len(dist, 0, F.shape[0], "dist");
  require_rows(F);
  const std::size_t n = extent(F, 0), m = extent(F, 1), h = extent(W, 0);
  py::gil_scoped_release release;
  Staging stage({{&F, "F"}, {&W, "W"}, {&ref, "ref"}, {&dist, "dist"}});
  const double* f = stage.in<double>(F);
  const double* w = stage.in<double>(W);
  cu::moo::associate(f, n, m, w, h, stage.out<std::int32_t>(ref), stage.out<double>(dist));
  stage.finish();
}

// A host copy of an input array (device arrays are copied back).
template <class T>
std::vector<T> on_host(const Array& a) {
  std::vector<T> v(a.size());
  if (a.device) {
    cu::copy_to_host(v.data(), a.data, a.nbytes());
  } else if (!v.empty()) {
    std::copy_n(static_cast<const T*>(a.data), v.size(), v.data());
  }
  return v;
}

void niche_select(const py::object& count_obj, const py::object& ref_obj,
                  const py::object& dist_obj, std::int64_t k, std::uint64_t seed,
                  std::uint32_t generation, const py::object& chosen_obj) {
  const Array niche_count = input<std::int32_t>(count_obj, "niche_count");
  const Array ref = input<std::int32_t>(ref_obj, "ref");
  const Array dist = input<double>(dist_obj, "dist");
  require_ndim(niche_count, 1, "niche_count");
  require_ndim(ref, 1, "ref");
  require_ndim(dist, 1, "dist");
  require_len(dist, 0, ref.shape[0], "dist");
  const std::size_t h = extent(niche_count, 0), c = extent(ref, 0);
  require(k >= 0 && static_cast<std::size_t>(k) <= c,
          "k must be between 0 and the number of candidates");
  const Array chosen = output<std::int32_t>(chosen_obj, "chosen");
  require_ndim(chosen, 1, "chosen");
  require_len(chosen, 0, static_cast<py::ssize_t>(k), "chosen");
  py::gil_scoped_release release;
  Staging stage({{&niche_count, "niche_count"}, {&ref, "ref"}, {&dist, "dist"}, {&chosen, "chosen"}});
  const auto nc = on_host<std::int32_t>(niche_count);
  const auto r = on_host<std::int32_t>(ref);
  const auto d = on_host<double>(dist);
  for (auto x : r) {
    require(x >= 0 && static_cast<std::size_t>(x) < h,
            "ref must hold reference indices in [0, len(niche_count))");
  }
  for (auto x : nc) require(x >= 0, "niche_count must be non-negative");
  std::vector<std::int32_t> picked(static_cast<std::size_t>(k));
  chimera::moo::niche_select(nc.data(), h, r.data(), d.data(), c, picked.size(), seed, generation,
                             picked.data());
  if (chosen.device) {
    cu::copy_to_device(chosen.data, picked.data(), chosen.nbytes());
  } else {
    std::copy(picked.begin(), picked.end(), static_cast<std::int32_t*>(chosen.data));
  }
}

}  // namespace

void register_cuda_moo(py::module_& m) {
  auto moo = m.def_submodule("moo", "Non-dominated sorting, crowding and niching on the GPU");
  moo.def("pareto_rank", &pareto_rank, py::arg("F"), py::arg("rank"));
  moo.def("crowding_distance", &crowding_distance, py::arg("F"), py::arg("rank"), py::arg("out"));
  moo.def("associate", &associate, py::arg("F"), py::arg("W"), py::arg("ref"), py::arg("dist"));
  moo.def("niche_select", &niche_select, py::arg("niche_count"), py::arg("ref"), py::arg("dist"),
          py::arg("k"), py::arg("seed"), py::arg("generation"), py::arg("chosen"));
}
