// chimera._core.bandit: the Bandit class. select() and update() are the online hot path: a
// scalar call does its checks on the raw Python objects and never builds an array, so that a
// select + update pair costs a few hundred nanoseconds from Python.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "arrays.hpp"
#include "chimera/bandit.hpp"

namespace py = pybind11;
namespace bd = chimera::bandit;
namespace rng = chimera::rng;
namespace variates = chimera::variates;
using chimera::bind::Invalid;
using chimera::bind::require;
using chimera::bind::WrongType;
using chimera::bind::to_array;

namespace {

constexpr std::size_t kReleaseGil = 4096;  // batched selections at least this large drop the GIL

void no_context(py::handle context) {
  if (!context.is_none()) {
    throw Invalid("this policy takes no context; LinUCB and LinearThompson do");
  }
}

bool unit_rewards(const bd::Bandit& b) {
  return b.params().policy == bd::kThompsonBeta || b.params().policy == bd::kEXP3;
}

void check_arm(const bd::Bandit& b, long long arm) {
  if (arm < 0 || static_cast<std::size_t>(arm) >= b.arms() ||
      !b.is_active(static_cast<std::int32_t>(arm))) {
    throw Invalid("arm " + std::to_string(arm) + " is not an active arm (arms are 0.." +
                          std::to_string(static_cast<long long>(b.arms()) - 1) +
                          ", removed ones excluded)");
  }
}

void check_reward(const bd::Bandit& b, double r) {
  if (!std::isfinite(r)) throw Invalid("reward must be finite, got " + std::to_string(r));
  if (unit_rewards(b) && !(r >= 0.0 && r <= 1.0)) {
    throw Invalid("this policy takes rewards in [0, 1], got " + std::to_string(r));
  }
}

// Quantile rows of Beta(a_i, b_i): F^{-1}(k / 256) for k = 1..255 by scipy.special.betaincinv
// (Boost's inverse incomplete beta, not ours to rewrite), 0 and 1 at the ends; kBetaRow each.
std::vector<double> quantile_rows(const std::vector<std::pair<double, double>>& shapes) {
  const auto s = static_cast<py::ssize_t>(shapes.size());
  py::array_t<double> a({s, py::ssize_t{1}}), b({s, py::ssize_t{1}});
  py::array_t<double> p(variates::kBetaBuckets - 1);
  for (py::ssize_t i = 0; i < s; ++i) {
    std::tie(a.mutable_data()[i], b.mutable_data()[i]) = shapes[static_cast<std::size_t>(i)];
  }
  for (int k = 1; k < variates::kBetaBuckets; ++k) p.mutable_data()[k - 1] = k / 256.0;
  const auto q = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(
      py::module_::import("scipy.special").attr("betaincinv")(a, b, p));
  require(q && q.ndim() == 2 && q.shape(0) == s && q.shape(1) == variates::kBetaBuckets - 1,
          "scipy.special.betaincinv gave no quantile table");
  std::vector<double> rows(shapes.size() * variates::kBetaRow, 0.0);
  for (py::ssize_t i = 0; i < s; ++i) {
    double* row = rows.data() + i * static_cast<py::ssize_t>(variates::kBetaRow);
    std::copy(q.data() + i * q.shape(1), q.data() + (i + 1) * q.shape(1), row + 1);
    row[variates::kBetaBuckets] = 1.0;
  }
  return rows;
}

// Fresh rows for the arms whose posterior changed since their last row.
void refresh_rows(bd::Bandit& b) {
  const auto stale = b.stale_rows();
  if (stale.empty()) return;
  std::vector<std::pair<double, double>> shapes;
  for (const auto arm : stale) shapes.push_back(b.posterior(arm));
  const auto rows = quantile_rows(shapes);
  for (std::size_t i = 0; i < stale.size(); ++i) b.set_row(stale[i], rows.data() + i * variates::kBetaRow);
}

// A count given as any Python or NumPy integer (not a bool), or nullopt for anything else; a
// count past long long is reported as -1.
std::optional<long long> count_of(py::handle n) {
  if (PyBool_Check(n.ptr()) || !PyIndex_Check(n.ptr())) return std::nullopt;
  py::object index = py::reinterpret_steal<py::object>(PyNumber_Index(n.ptr()));
  if (!index) {  // an array, say: not one count
    PyErr_Clear();
    return std::nullopt;
  }
  int overflow = 0;
  const long long count = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
  return overflow == 0 ? count : -1;
}

py::object select_arms(bd::Bandit& b, py::handle n, py::handle context) {
  no_context(context);
  require(b.active_arms() > 0, "no active arm to select from: add_arm() first");
  if (n.is_none()) return py::int_(b.select());
  const std::optional<long long> given = count_of(n);
  if (!given) throw WrongType("n must be None or a non-negative integer");
  const long long count = *given;
  require(count >= 0, "n must be None or a non-negative integer that fits 64 bits");
  chimera::bind::require_fits(4.0 * static_cast<double>(count), "n=" + std::to_string(count) + " decisions");
  if (b.table_batch(static_cast<std::size_t>(count))) refresh_rows(b);
  py::array_t<std::int32_t> out(static_cast<py::ssize_t>(count));
  std::int32_t* o = out.mutable_data();
  if (static_cast<std::size_t>(count) >= kReleaseGil) {
    py::gil_scoped_release release;
    b.select_many(o, static_cast<std::size_t>(count));
  } else {
    b.select_many(o, static_cast<std::size_t>(count));
  }
  return std::move(out);
}

using ArmIds = py::array_t<long long, py::array::c_style | py::array::forcecast>;

// Arm ids as int64, from integers only: a cast would take 0.7 for arm 0.
ArmIds arm_ids(py::handle arms) {
  const char* wrong = "arms must be integers and rewards numbers (scalars or 1-D arrays)";
  if (PyBool_Check(arms.ptr())) throw Invalid("arms must be integer arm ids, not booleans");
  auto view = py::array::ensure(arms);
  if (!view) {
    PyErr_Clear();
    throw WrongType(wrong);
  }
  const char kind = view.dtype().kind();
  if (kind == 'b') throw Invalid("arms must be integer arm ids, not booleans");
  if (kind != 'i' && kind != 'u' && view.size() > 0) {
    throw WrongType("arms must be integer arm ids, got " +
                         std::string(py::str(view.dtype())) + " values such as " +
                         std::string(py::repr(arms)).substr(0, 40));
  }
  return ArmIds::ensure(view);
}

void update_arms(bd::Bandit& b, py::handle arms, py::handle rewards, py::handle context) {
  no_context(context);
  PyObject* a = arms.ptr();
  PyObject* r = rewards.ptr();
  if (PyLong_Check(a) && !PyBool_Check(a) && (PyFloat_Check(r) || PyLong_Check(r))) {
    int overflow = 0;
    const long long arm = PyLong_AsLongLongAndOverflow(a, &overflow);
    require(overflow == 0, "arm " + std::string(py::str(arms)).substr(0, 24) + "... is not an active arm");
    const double reward = PyFloat_AsDouble(r);
    if (PyErr_Occurred()) {  // an int past float's range
      PyErr_Clear();
      throw Invalid("reward must be finite, got an integer too large for a float");
    }
    check_arm(b, arm);
    check_reward(b, reward);
    b.update(static_cast<std::int32_t>(arm), reward);
    return;
  }
  // Arrays (or NumPy scalars): every pair is checked before any is applied.
  auto A = arm_ids(arms);
  auto R = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(rewards);
  if (!R) {
    PyErr_Clear();
    throw WrongType("arms must be integers and rewards numbers (scalars or 1-D arrays)");
  }
  require(A.ndim() <= 1 && R.ndim() <= 1, "arms and rewards must be scalars or 1-D arrays");
  require(A.size() == R.size(), "rewards must have one value per arm: got " +
                                    std::to_string(A.size()) + " arms and " +
                                    std::to_string(R.size()) + " rewards");
  const long long* ap = A.data();
  const double* rp = R.data();
  for (py::ssize_t i = 0; i < A.size(); ++i) {
    check_arm(b, ap[i]);
    check_reward(b, rp[i]);
  }
  for (py::ssize_t i = 0; i < A.size(); ++i) b.update(static_cast<std::int32_t>(ap[i]), rp[i]);
}


template <class T>
std::vector<T> from_array(const py::dict& state, const char* key, std::size_t len) {
  require(state.contains(key), std::string("bandit state lacks '") + key + "'");
  auto a = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(state[key]);
  require(a && a.ndim() == 1, std::string("bandit state '") + key + "' must be a 1-D array");
  if (len != static_cast<std::size_t>(-1)) {
    require(static_cast<std::size_t>(a.size()) == len,
            std::string("bandit state '") + key + "' has " + std::to_string(a.size()) +
                " entries, expected " + std::to_string(len));
  }
  return std::vector<T>(a.data(), a.data() + a.size());
}

py::dict get_state(const bd::Bandit& b) {
  const auto s = b.state();
  py::dict d;
  d["pulls"] = to_array(s.pulls);
  d["sums"] = to_array(s.sums);
  d["squares"] = to_array(s.squares);
  d["log_weights"] = to_array(s.log_weights);
  d["active"] = to_array(s.active);
  d["window_arms"] = to_array(s.window_arms);
  d["window_rewards"] = to_array(s.window_rewards);
  d["decisions"] = s.decisions;
  d["updates"] = s.updates;
  return d;
}

void set_state(bd::Bandit& b, const py::dict& d) {
  bd::Bandit::State s;
  const auto any = static_cast<std::size_t>(-1);
  s.pulls = from_array<double>(d, "pulls", any);
  const std::size_t arms = s.pulls.size();
  s.sums = from_array<double>(d, "sums", arms);
  s.squares = from_array<double>(d, "squares", arms);
  s.log_weights = from_array<double>(d, "log_weights", arms);
  s.active = from_array<std::uint8_t>(d, "active", arms);
  s.window_arms = from_array<std::int32_t>(d, "window_arms", any);
  s.window_rewards = from_array<double>(d, "window_rewards", s.window_arms.size());
  for (auto a : s.window_arms) {
    require(a >= 0 && static_cast<std::size_t>(a) < arms, "bandit state window names an unknown arm");
  }
  require(s.window_arms.size() <= b.params().window, "bandit state window is longer than the window");
  require(d.contains("decisions") && d.contains("updates"), "bandit state lacks its counters");
  s.decisions = d["decisions"].cast<std::uint64_t>();
  s.updates = d["updates"].cast<std::uint64_t>();
  b.set_state(s);
}

// Which arm ids can be selected, as a bool array.
template <class B>
py::array_t<bool> active_mask(const B& b) {
  py::array_t<bool> out(static_cast<py::ssize_t>(b.arms()));
  for (std::size_t a = 0; a < b.arms(); ++a) {
    out.mutable_data()[a] = b.is_active(static_cast<std::int32_t>(a));
  }
  return out;
}

// --- contextual ---------------------------------------------------------------------------

using Contexts = py::array_t<double, py::array::c_style | py::array::forcecast>;

// The contexts as a (rows, dim) array; a 1-D context is one row. Finite values only.
Contexts contexts(const bd::LinearBandit& b, py::handle context, bool one) {
  if (context.is_none()) {
    throw Invalid("this policy needs a context: an array of " +
                          std::to_string(b.dim()) + " features");
  }
  auto c = Contexts::ensure(context);
  if (!c) {
    PyErr_Clear();
    throw WrongType("context must be an array of numbers");
  }
  const auto d = static_cast<py::ssize_t>(b.dim());
  const bool ok = one ? (c.ndim() == 1 && c.shape(0) == d)
                      : (c.ndim() == 2 && c.shape(1) == d) || (c.ndim() == 1 && c.shape(0) == d);
  if (!ok) {
    std::string got = "shape (";
    for (py::ssize_t i = 0; i < c.ndim(); ++i) got += (i ? ", " : "") + std::to_string(c.shape(i));
    throw Invalid("context must have " + std::to_string(d) + " features per row" +
                          (one ? "" : " ((n, " + std::to_string(d) + ") for n decisions)") +
                          ", got " + got + ")");
  }
  const double* p = c.data();
  for (py::ssize_t i = 0; i < c.size(); ++i) {
    if (!std::isfinite(p[i])) throw Invalid("context contains a non-finite value");
  }
  return c;
}

py::object linear_select(bd::LinearBandit& b, py::handle n, py::handle context) {
  require(b.active_arms() > 0, "no active arm to select from: add_arm() first");
  if (n.is_none()) {
    Contexts c = contexts(b, context, true);
    std::int32_t arm = 0;
    b.select_many(c.data(), 1, &arm);
    return py::int_(arm);
  }
  Contexts c = contexts(b, context, false);
  const py::ssize_t rows = c.ndim() == 1 ? 1 : c.shape(0);
  const std::optional<long long> given = count_of(n);
  if (!given || *given != rows) {
    throw Invalid("n must equal the number of context rows (" + std::to_string(rows) +
                          ")");
  }
  py::array_t<std::int32_t> out(rows);
  std::int32_t* o = out.mutable_data();
  const double* cp = c.data();
  py::gil_scoped_release release;
  b.select_many(cp, static_cast<std::size_t>(rows), o);
  return std::move(out);
}

void linear_update(bd::LinearBandit& b, py::handle arms, py::handle rewards, py::handle context) {
  Contexts c = contexts(b, context, false);
  const py::ssize_t rows = c.ndim() == 1 ? 1 : c.shape(0);
  auto A = arm_ids(arms);
  auto R = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(rewards);
  if (!R) {
    PyErr_Clear();
    throw WrongType("arms must be integers and rewards numbers (scalars or 1-D arrays)");
  }
  require(A.size() == R.size() && A.size() == rows,
          "arms, rewards and context rows must match: got " + std::to_string(A.size()) +
              " arms, " + std::to_string(R.size()) + " rewards and " + std::to_string(rows) +
              " context rows");
  for (py::ssize_t i = 0; i < A.size(); ++i) {
    const long long arm = A.data()[i];
    if (arm < 0 || static_cast<std::size_t>(arm) >= b.arms() ||
        !b.is_active(static_cast<std::int32_t>(arm))) {
      throw Invalid("arm " + std::to_string(arm) + " is not an active arm");
    }
    if (!std::isfinite(R.data()[i])) throw Invalid("reward must be finite");
  }
  for (py::ssize_t i = 0; i < A.size(); ++i) {
    b.update(static_cast<std::int32_t>(A.data()[i]), R.data()[i], c.data() + i * c.shape(c.ndim() - 1));
  }
}

// The samplers on their own, for tests, on decision k's stream as the bandits draw it.
py::array_t<double> beta_variates(const py::array_t<double, py::array::c_style | py::array::forcecast>& a,
                                  const py::array_t<double, py::array::c_style | py::array::forcecast>& b,
                                  std::uint64_t seed, std::uint64_t decision, bool avx2) {
  require(a.ndim() == 1 && b.ndim() == 1 && a.size() == b.size(),
          "a and b must be 1-D arrays of the same length");
  const auto m = static_cast<std::size_t>(a.size());
  variates::BetaSampler sampler;
  sampler.use_avx2(avx2);
  sampler.resize(m);
  for (std::size_t j = 0; j < m; ++j) {
    require(a.data()[j] > 0.0 && b.data()[j] > 0.0 && std::isfinite(a.data()[j]) &&
                std::isfinite(b.data()[j]),
            "Beta shapes must be finite and positive");
    sampler.set(j, a.data()[j], b.data()[j]);
  }
  const std::vector<std::uint8_t> active(m, 1);
  py::array_t<double> out(static_cast<py::ssize_t>(m));
  auto st = bd::decision_stream<rng::BulkStream>(seed, decision);
  sampler.sample(st, active.data(), out.mutable_data());
  return out;
}

py::array_t<double> beta_in_bucket(double a, double b, int k, std::size_t n, std::uint64_t seed) {
  require(a >= 1.0 && b >= 1.0 && a + b <= bd::Bandit::kTableShapes,
          "the in-bucket sampler takes shapes a, b >= 1 with a + b <= 1e6, as batches do");
  require(0 <= k && k < variates::kBetaBuckets, "the bucket k must be in 0..255");
  const auto row = quantile_rows({{a, b}});
  require(variates::usable_row(row.data()), "this Beta's quantile row is not usable");
  py::array_t<double> out(static_cast<py::ssize_t>(n));
  rng::Stream st(seed, 0, 0, rng::kBanditResolve);
  for (std::size_t i = 0; i < n; ++i) {
    out.mutable_data()[i] = variates::beta_in_bucket(a, b, row[k], row[k + 1], st);
  }
  return out;
}

py::array_t<double> normal_variates(std::size_t n, std::uint64_t seed, std::uint64_t decision) {
  py::array_t<double> out(static_cast<py::ssize_t>(n));
  auto st = bd::decision_stream<rng::BulkStream>(seed, decision);
  for (std::size_t i = 0; i < n; ++i) out.mutable_data()[i] = variates::normal(st);
  return out;
}

}  // namespace

void register_bandit(py::module_& m) {
  m.def("beta_variates", &beta_variates, py::arg("a"), py::arg("b"), py::arg("seed"),
        py::arg("decision"), py::arg("avx2") = true,
        "One Beta(a_j, b_j) variate per pair from decision `decision`'s stream, as Bernoulli "
        "Thompson sampling draws its scores (by the AVX2 loops where the CPU has them, unless "
        "avx2 is False; the results are the same).");
#if defined(CHIMERA_AVX2)
  m.attr("AVX2") = chimera::avx2::supported();
#else
  m.attr("AVX2") = false;
#endif
  m.def("beta_in_bucket", &beta_in_bucket, py::arg("a"), py::arg("b"), py::arg("k"),
        py::arg("n"), py::arg("seed"),
        "n draws of Beta(a, b) conditioned on bucket k of its quantile row, as a Thompson batch "
        "by inversion resolves a contest, from Stream(seed, 0, 0, BANDIT_RESOLVE).");
  m.def("quantile_row", [](double a, double b) { return to_array(quantile_rows({{a, b}})); },
        py::arg("a"), py::arg("b"),
        "The quantile row a Thompson batch by inversion uses for Beta(a, b).");
  m.attr("TABLE_BATCH") = bd::Bandit::kTableBatch;
  m.attr("TABLE_CHUNK") = bd::Bandit::kTableChunk;
  m.attr("TABLE_ARMS") = bd::Bandit::kTableArms;
  m.attr("TABLE_SHAPES") = bd::Bandit::kTableShapes;
  m.def("normal_variates", &normal_variates, py::arg("n"), py::arg("seed"), py::arg("decision"),
        "n ziggurat normals from decision `decision`'s stream.");
  m.attr("EPSILON_GREEDY") = static_cast<int>(bd::kEpsilonGreedy);
  m.attr("UCB1") = static_cast<int>(bd::kUCB1);
  m.attr("THOMPSON_BETA") = static_cast<int>(bd::kThompsonBeta);
  m.attr("THOMPSON_GAUSSIAN") = static_cast<int>(bd::kThompsonGaussian);
  m.attr("SOFTMAX") = static_cast<int>(bd::kSoftmax);
  m.attr("EXP3") = static_cast<int>(bd::kEXP3);
  py::class_<bd::Bandit>(m, "Bandit")
      .def(py::init([](int policy, std::size_t arms, double epsilon, double decay, double c,
                       double alpha, double beta, double sigma, double temperature, double gamma,
                       double discount, std::size_t window, std::uint64_t seed) {
             require(policy >= bd::kEpsilonGreedy && policy <= bd::kEXP3, "unknown policy code");
             bd::Params p;
             p.policy = policy;
             p.epsilon = epsilon;
             p.decay = decay;
             p.c = c;
             p.alpha = alpha;
             p.beta = beta;
             p.sigma = sigma;
             p.temperature = temperature;
             p.gamma = gamma;
             p.discount = discount;
             p.window = window;
             p.seed = seed;
             return bd::Bandit(p, arms);
           }),
           py::kw_only(), py::arg("policy"), py::arg("arms"), py::arg("epsilon") = 0.1,
           py::arg("decay") = 0.0, py::arg("c") = 2.0, py::arg("alpha") = 1.0,
           py::arg("beta") = 1.0, py::arg("sigma") = 1.0, py::arg("temperature") = 0.1,
           py::arg("gamma") = 0.1, py::arg("discount") = 1.0, py::arg("window") = 0,
           py::arg("seed") = 0)
      .def("select", &select_arms, py::arg("n") = py::none(), py::arg("context") = py::none())
      .def("update", &update_arms, py::arg("arms"), py::arg("rewards"),
           py::arg("context") = py::none())
      .def("add_arm", &bd::Bandit::add_arm)
      .def("remove_arm",
           [](bd::Bandit& b, long long arm) {
             check_arm(b, arm);
             b.remove_arm(static_cast<std::int32_t>(arm));
           },
           py::arg("arm"))
      .def_property_readonly("arms", &bd::Bandit::arms)
      .def_property_readonly("active", &active_mask<bd::Bandit>)
      .def("state", &get_state)
      .def("set_state", &set_state, py::arg("state"));

  m.attr("LINUCB") = static_cast<int>(bd::kLinUCB);
  m.attr("LINEAR_THOMPSON") = static_cast<int>(bd::kLinearThompson);
  py::class_<bd::LinearBandit>(m, "LinearBandit")
      .def(py::init([](int policy, std::size_t arms, std::size_t dim, double alpha, double l2,
                       std::size_t window, std::uint64_t seed) {
             require(policy == bd::kLinUCB || policy == bd::kLinearThompson, "unknown policy code");
             require(dim >= 1, "dim must be at least 1");
             return bd::LinearBandit(policy, arms, dim, alpha, l2, window, seed);
           }),
           py::kw_only(), py::arg("policy"), py::arg("arms"), py::arg("dim"),
           py::arg("alpha") = 1.0, py::arg("l2") = 1.0, py::arg("window") = 0,
           py::arg("seed") = 0)
      .def("select", &linear_select, py::arg("n") = py::none(), py::arg("context") = py::none())
      .def("update", &linear_update, py::arg("arms"), py::arg("rewards"),
           py::arg("context") = py::none())
      .def("add_arm", &bd::LinearBandit::add_arm)
      .def("remove_arm",
           [](bd::LinearBandit& b, long long arm) {
             require(arm >= 0 && static_cast<std::size_t>(arm) < b.arms() &&
                         b.is_active(static_cast<std::int32_t>(arm)),
                     "arm " + std::to_string(arm) + " is not an active arm");
             b.remove_arm(static_cast<std::int32_t>(arm));
           },
           py::arg("arm"))
      .def_property_readonly("arms", &bd::LinearBandit::arms)
      .def_property_readonly("active", &active_mask<bd::LinearBandit>)
      .def("state",
           [](const bd::LinearBandit& b) {
             const auto s = b.state();
             py::dict d;
             d["a_inv"] = to_array(s.a_inv);
             d["b"] = to_array(s.b);
             d["active"] = to_array(s.active);
             d["window_arms"] = to_array(s.window_arms);
             d["window_rewards"] = to_array(s.window_rewards);
             d["window_contexts"] = to_array(s.window_contexts);
             d["decisions"] = s.decisions;
             d["updates"] = s.updates;
             return d;
           })
      .def("set_state",
           [](bd::LinearBandit& b, const py::dict& d) {
             bd::LinearBandit::State s;
             s.active = from_array<std::uint8_t>(d, "active", static_cast<std::size_t>(-1));
             const std::size_t arms = s.active.size(), dim = b.dim();
             s.a_inv = from_array<double>(d, "a_inv", arms * dim * dim);
             s.b = from_array<double>(d, "b", arms * dim);
             s.window_arms =
                 from_array<std::int32_t>(d, "window_arms", static_cast<std::size_t>(-1));
             const std::size_t held = s.window_arms.size();
             require(held <= b.window(), "the state's window holds more updates than the window");
             for (const auto arm : s.window_arms) {
               require(arm >= 0 && static_cast<std::size_t>(arm) < arms,
                       "the state's window names an arm out of range");
             }
             s.window_rewards = from_array<double>(d, "window_rewards", held);
             s.window_contexts = from_array<double>(d, "window_contexts", held * dim);
             require(d.contains("decisions") && d.contains("updates"),
                     "bandit state lacks its counters");
             s.decisions = d["decisions"].cast<std::uint64_t>();
             s.updates = d["updates"].cast<std::uint64_t>();
             b.set_state(s);
           },
           py::arg("state"));
}
