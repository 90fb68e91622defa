#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "arrays.hpp"
#include "chimera/moo.hpp"

namespace py = pybind11;
namespace moo = chimera::moo;
using chimera::bind::In;
using chimera::bind::output;
using chimera::bind::require;
using chimera::bind::require_len;
using chimera::bind::require_ndim;

namespace {

void require_not_nan(const In<double>& a, const char* name) {
  const double* p = a.data();
  for (py::ssize_t i = 0; i < a.size(); ++i) {
    if (std::isnan(p[i])) throw chimera::bind::Invalid(std::string(name) + " contains NaN");
  }
}

void pareto_rank(In<double> F, const py::object& rank_obj) {
  require_ndim(F, 2, "F");
  auto rank = output<std::int32_t>(rank_obj, "rank");
  require_ndim(rank, 1, "rank");
  require_len(rank, 0, F.shape(0), "rank");
  require(F.shape(0) < (py::ssize_t{1} << 31), "F has too many rows (at most 2**31 - 1)");
  require_not_nan(F, "F");
  const double* f = F.data();
  std::int32_t* r = rank.mutable_data();
  const auto n = static_cast<std::size_t>(F.shape(0));
  const auto m = static_cast<std::size_t>(F.shape(1));
  // Raw buffers only from here on; the arrays stay referenced by this frame.
  py::gil_scoped_release release;
  moo::pareto_rank(f, n, m, r);
}

void crowding_distance(In<double> F, In<std::int32_t> rank, const py::object& out_obj) {
  require_ndim(F, 2, "F");
  require_ndim(rank, 1, "rank");
  require_len(rank, 0, F.shape(0), "rank");
  auto out = output<double>(out_obj, "out");
  require_ndim(out, 1, "out");
  require_len(out, 0, F.shape(0), "out");
  require_not_nan(F, "F");
  const auto n = static_cast<std::size_t>(F.shape(0));
  const std::int32_t* r = rank.data();
  for (std::size_t i = 0; i < n; ++i) {
    require(r[i] >= 0 && static_cast<std::size_t>(r[i]) < n,
            "rank must hold front indices in [0, len(F))");
  }
  const double* f = F.data();
  double* o = out.mutable_data();
  const auto m = static_cast<std::size_t>(F.shape(1));
  // Raw buffers only from here on.
  py::gil_scoped_release release;
  moo::crowding_distance(f, n, m, r, o);
}

void associate(In<double> F, In<double> W, const py::object& ref_obj, const py::object& dist_obj) {
  require_ndim(F, 2, "F");
  require_ndim(W, 2, "W");
  require_len(W, 1, F.shape(1), "W");
  require(W.shape(0) >= 1 && W.shape(0) < (py::ssize_t{1} << 31),
          "W must have between 1 and 2**31 - 1 reference directions");
  auto ref = output<std::int32_t>(ref_obj, "ref");
  auto dist = output<double>(dist_obj, "dist");
  require_ndim(ref, 1, "ref");
  require_ndim(dist, 1, "dist");
  require_len(ref, 0, F.shape(0), "ref");
  require_len(dist, 0, F.shape(0), "dist");
  const double* f = F.data();
  const double* w = W.data();
  std::int32_t* r = ref.mutable_data();
  double* d = dist.mutable_data();
  const auto n = static_cast<std::size_t>(F.shape(0));
  const auto m = static_cast<std::size_t>(F.shape(1));
  const auto h = static_cast<std::size_t>(W.shape(0));
  // Raw buffers only from here on.
  py::gil_scoped_release release;
  moo::associate(f, n, m, w, h, r, d);
}

void niche_select(In<std::int32_t> niche_count, In<std::int32_t> ref, In<double> dist,
                  std::int64_t k, std::uint64_t seed, std::uint32_t generation,
                  const py::object& chosen_obj) {
  require_ndim(niche_count, 1, "niche_count");
  require_ndim(ref, 1, "ref");
  require_ndim(dist, 1, "dist");
  require_len(dist, 0, ref.shape(0), "dist");
  const auto h = static_cast<std::size_t>(niche_count.shape(0));
  const auto c = static_cast<std::size_t>(ref.shape(0));
  require(k >= 0 && static_cast<std::size_t>(k) <= c,
          "k must be between 0 and the number of candidates");
  auto chosen = output<std::int32_t>(chosen_obj, "chosen");
  require_ndim(chosen, 1, "chosen");
  require_len(chosen, 0, static_cast<py::ssize_t>(k), "chosen");
  const std::int32_t* r = ref.data();
  const std::int32_t* nc = niche_count.data();
  for (std::size_t i = 0; i < c; ++i) {
    require(r[i] >= 0 && static_cast<std::size_t>(r[i]) < h,
            "ref must hold reference indices in [0, len(niche_count))");
  }
  for (std::size_t i = 0; i < h; ++i) require(nc[i] >= 0, "niche_count must be non-negative");
  const double* d = dist.data();
  std::int32_t* o = chosen.mutable_data();
  // Raw buffers only from here on.
  py::gil_scoped_release release;
  moo::niche_select(nc, h, r, d, c, static_cast<std::size_t>(k), seed, generation, o);
}

}  // namespace

void register_moo(py::module_& m) {
  m.def("pareto_rank", &pareto_rank, py::arg("F"), py::arg("rank"));
  m.def("crowding_distance", &crowding_distance, py::arg("F"), py::arg("rank"), py::arg("out"));
  m.def("associate", &associate, py::arg("F"), py::arg("W"), py::arg("ref"), py::arg("dist"));
  m.def("niche_select", &niche_select, py::arg("niche_count"), py::arg("ref"), py::arg("dist"),
        py::arg("k"), py::arg("seed"), py::arg("generation"), py::arg("chosen"));
}
