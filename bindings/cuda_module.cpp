// chimera._cuda: the CUDA twins of chimera._core.ga, with the same functions, argument names and
// order (docs/kernels.md). Every array argument may be a NumPy array (host memory) or any object
// with __cuda_array_interface__ (CuPy, ...; device memory). When every array is on the host the
// arrays are copied to the GPU, bred there and copied back; otherwise the kernels work in place on
// the device arrays, and the few host arrays among them (bounds, the mutation table, ...) are
// copied over. Nothing here touches CUDA at import time: cuda_status() says whether it works.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "arrays.hpp"
#include "breed_config.hpp"
#include "chimera/operators.hpp"
#include "ga_cuda.hpp"

namespace py = pybind11;
namespace ga = chimera::ga;
namespace cu = chimera::cuda;
using chimera::bind::require;

namespace {

// One array argument, wherever it lives.
struct Array {
  py::object owner;  // keeps the memory alive (the argument itself, or a converted copy)
  void* data = nullptr;
  bool device = false;
  bool readonly = false;
  py::dtype dtype;
  std::size_t itemsize = 0;  // kept apart from dtype: read without the GIL
  std::vector<py::ssize_t> shape;
  std::optional<std::uintptr_t> stream;  // __cuda_array_interface__ v3 "stream"

  py::ssize_t ndim() const { return static_cast<py::ssize_t>(shape.size()); }
  std::size_t size() const {
    std::size_t s = 1;
    for (auto e : shape) s *= static_cast<std::size_t>(e);
    return s;
  }
  std::size_t nbytes() const { return size() * itemsize; }
};

bool has_cuda_interface(const py::handle& obj) {
  return py::hasattr(obj, "__cuda_array_interface__");
}

void require_ndim(const Array& a, py::ssize_t ndim, const char* name) {
  require(a.ndim() == ndim, std::string(name) + " must be " + std::to_string(ndim) +
                                "-dimensional, got " + std::to_string(a.ndim()) + " dimensions");
}

void require_len(const Array& a, py::ssize_t axis, py::ssize_t len, const char* name) {
  require(a.shape[static_cast<std::size_t>(axis)] == len,
          std::string(name) + " has " + std::to_string(a.shape[static_cast<std::size_t>(axis)]) +
              " entries along axis " + std::to_string(axis) + ", expected " + std::to_string(len));
}

std::string dtype_name(const py::dtype& dt) { return py::str(dt); }

bool same_dtype(const py::dtype& a, const py::dtype& b) {
  return a.kind() == b.kind() && a.itemsize() == b.itemsize();
}

// Reads __cuda_array_interface__; false when the layout is not C-contiguous.
bool read_cuda_interface(const py::object& obj, const char* name, Array& a) {
  py::dict cai = obj.attr("__cuda_array_interface__");
  if (cai.contains("mask") && !cai["mask"].is_none()) {
    throw py::value_error(std::string(name) + ": masked __cuda_array_interface__ arrays are not supported");
  }
  const std::string typestr = py::str(cai["typestr"]);
  if (!typestr.empty() && typestr[0] == '>') {
    throw py::type_error(std::string(name) + " must be in native byte order");
  }
  a.dtype = py::dtype(typestr);
  a.itemsize = static_cast<std::size_t>(a.dtype.itemsize());
  for (auto e : py::tuple(cai["shape"])) a.shape.push_back(e.cast<py::ssize_t>());
  py::tuple data = cai["data"];
  a.data = reinterpret_cast<void*>(data[0].cast<std::uintptr_t>());
  a.readonly = data[1].cast<bool>();
  a.device = true;
  a.owner = obj;
  if (cai.contains("stream") && !cai["stream"].is_none()) {
    a.stream = cai["stream"].cast<std::uintptr_t>();
  }
  if (!cai.contains("strides") || cai["strides"].is_none() || a.size() == 0) return true;
  py::tuple strides = cai["strides"];
  if (static_cast<py::ssize_t>(strides.size()) != a.ndim()) return false;
  py::ssize_t expected = a.dtype.itemsize();
  for (py::ssize_t k = a.ndim() - 1; k >= 0; --k) {
    const auto extent = a.shape[static_cast<std::size_t>(k)];
    if (extent > 1 && strides[static_cast<std::size_t>(k)].cast<py::ssize_t>() != expected) return false;
    expected *= extent;
  }
  return true;
}

Array from_numpy(py::array arr, bool writeable) {
  Array a;
  a.owner = arr;
  a.data = writeable ? arr.mutable_data() : const_cast<void*>(arr.data());
  a.readonly = !arr.writeable();
  a.dtype = arr.dtype();
  a.itemsize = static_cast<std::size_t>(arr.itemsize());
  for (py::ssize_t k = 0; k < arr.ndim(); ++k) a.shape.push_back(arr.shape(k));
  return a;
}

// An input of a fixed dtype (f, low, high, mutation_cdf): host values are converted like
// chimera._core does (forcecast); a device array of another dtype or layout is converted by its
// own astype(), when it has one.
template <class T>
Array input(const py::object& obj, const char* name) {
  if (!has_cuda_interface(obj)) {
    using Converted = py::array_t<T, py::array::c_style | py::array::forcecast>;
    return from_numpy(Converted(obj), false);
  }
  const auto want = py::dtype::of<T>();
  Array a;
  if (read_cuda_interface(obj, name, a) && same_dtype(a.dtype, want)) return a;
  if (!py::hasattr(obj, "astype")) {
    throw py::type_error(std::string(name) + " must be a C-contiguous device array of dtype " +
                         dtype_name(want) + ", got " + dtype_name(a.dtype));
  }
  Array c;
  if (!read_cuda_interface(obj.attr("astype")(want, py::arg("order") = "C"), name, c) ||
      !same_dtype(c.dtype, want)) {
    throw py::type_error(std::string(name) + " must be a C-contiguous device array of dtype " +
                         dtype_name(want));
  }
  return c;
}

// A genome array (X, or out when writeable): float64, float32, int32 or bool, C-contiguous.
Array genome(const py::object& obj, const char* name, bool writeable) {
  Array a;
  if (has_cuda_interface(obj)) {
    require(read_cuda_interface(obj, name, a), std::string(name) + " must be C-contiguous");
  } else {
    if (!py::isinstance<py::array>(obj)) {
      throw py::type_error(std::string(name) +
                           " must be a NumPy array or an array with __cuda_array_interface__");
    }
    auto arr = py::reinterpret_borrow<py::array>(obj);
    require((arr.flags() & py::array::c_style) != 0, std::string(name) + " must be C-contiguous");
    a = from_numpy(arr, false);
    if (writeable) {
      require(arr.writeable(), std::string(name) + " must be writeable");
      a.data = arr.mutable_data();
    }
  }
  if (a.dtype.byteorder() == '>') {
    throw py::type_error(std::string(name) + " must be in native byte order");
  }
  if (writeable) require(!a.readonly, std::string(name) + " must be writeable");
  return a;
}

// An output of a fixed dtype (parents): like chimera.bind::output, on either side.
template <class T>
Array output(const py::object& obj, const char* name) {
  const auto want = py::dtype::of<T>();
  if (has_cuda_interface(obj)) {
    Array a;
    const bool contiguous = read_cuda_interface(obj, name, a);
    if (!same_dtype(a.dtype, want)) {
      throw py::type_error(std::string(name) + " must be an array of dtype " + dtype_name(want) +
                           ", got " + dtype_name(a.dtype));
    }
    require(contiguous, std::string(name) + " must be C-contiguous");
    require(!a.readonly, std::string(name) + " must be writeable");
    return a;
  }
  auto arr = chimera::bind::output<T>(obj, name);
  return from_numpy(arr, true);
}

// Calls fn with a typed null pointer for the genome dtype (float64, float32, int32, bool).
template <class Fn>
void dispatch_genome(const py::dtype& dt, const char* name, Fn&& fn) {
  if (dt.byteorder() == '>') {
    throw py::type_error(std::string(name) + " must be in native byte order");
  }
  const char kind = dt.kind();
  const auto size = dt.itemsize();
  if (kind == 'f' && size == 8) return fn(static_cast<double*>(nullptr));
  if (kind == 'f' && size == 4) return fn(static_cast<float*>(nullptr));
  if (kind == 'i' && size == 4) return fn(static_cast<std::int32_t*>(nullptr));
  if (kind == 'b' && size == 1) return fn(static_cast<std::uint8_t*>(nullptr));
  throw py::type_error(std::string(name) + " must be float64, float32, int32 or bool, got " +
                       dtype_name(dt));
}

// The device side of one call: device arrays are used in place (after waiting for the streams
// they were produced on), host ones are copied to the device, and written host outputs are
// copied back by finish(). Constructed and used without the GIL.
class Staging {
 public:
  // `arrays`: every argument; the device ones decide (and must share) the device.
  explicit Staging(const std::vector<std::pair<const Array*, const char*>>& arrays) {
    for (const auto& [a, name] : arrays) {
      if (!a->device || a->size() == 0) continue;
      const int dev = cu::pointer_device(a->data);
      if (dev < 0) {
        throw py::value_error(std::string(name) +
                              ": __cuda_array_interface__ does not point to CUDA device memory");
      }
      if (device_ < 0) {
        device_ = dev;
        first_ = name;
      } else if (dev != device_) {
        throw py::value_error(std::string(name) + " is on CUDA device " + std::to_string(dev) +
                              " but " + first_ + " is on device " + std::to_string(device_));
      }
    }
    scope_.emplace(device_);
    for (const auto& [a, name] : arrays) {
      if (a->device && a->stream) cu::synchronize_stream(*a->stream);
    }
  }

  template <class T>
  const T* in(const Array& a) {
    if (a.device) return static_cast<const T*>(a.data);
    buffers_.emplace_back(a.nbytes());
    buffers_.back().upload(a.data, a.nbytes());
    return static_cast<const T*>(buffers_.back().get());
  }

  template <class T>
  T* out(const Array& a) {
    if (a.device) return static_cast<T*>(a.data);
    buffers_.emplace_back(a.nbytes());
    copies_.emplace_back(buffers_.size() - 1, &a);
    return static_cast<T*>(buffers_.back().get());
  }

  void finish() {
    for (const auto& [i, a] : copies_) buffers_[i].download(a->data, a->nbytes());
  }

 private:
  int device_ = -1;
  const char* first_ = "";
  std::optional<cu::DeviceScope> scope_;
  std::vector<cu::DeviceBuffer> buffers_;  // moves keep the device pointers valid
  std::vector<std::pair<std::size_t, const Array*>> copies_;
};

bool any_device(std::initializer_list<const Array*> arrays) {
  for (const Array* a : arrays) {
    if (a->device) return true;
  }
  return false;
}

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
        throw py::value_error("blend, SBX, Gaussian and polynomial operators need float genomes");
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

py::tuple cuda_status() {
  std::pair<bool, std::string> st;
  {
    // The first CUDA call loads the driver, which can take a while.
    py::gil_scoped_release release;
    st = cu::status();
  }
  return py::make_tuple(st.first, st.second);
}

py::list device_info() {
  std::vector<cu::DeviceInfo> devices;
  {
    py::gil_scoped_release release;
    devices = cu::device_info();
  }
  py::list out;
  for (const auto& dev : devices) {
    py::dict entry;
    entry["index"] = dev.index;
    entry["name"] = dev.name;
    entry["compute_capability"] = py::make_tuple(dev.major, dev.minor);
    entry["total_memory"] = dev.total_memory;
    entry["multiprocessors"] = dev.multiprocessors;
    out.append(entry);
  }
  return out;
}

}  // namespace

PYBIND11_MODULE(_cuda, m) {
  m.doc() =
      "Chimera's CUDA kernels, twins of chimera._core. Use the chimera package, not this module.";
  // Errors of the CUDA runtime arrive as chimera::cuda::Error, a std::runtime_error: RuntimeError.
  m.def("cuda_status", &cuda_status,
        "(ok, message): whether a CUDA device is usable and this build's kernels run on it.");
  m.def("device_info", &device_info,
        "The visible CUDA devices as dicts (index, name, compute_capability, total_memory, "
        "multiprocessors); empty without a driver or device.");
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
