// Array arguments of chimera._cuda: NumPy arrays (host memory) or any object with
// __cuda_array_interface__ (CuPy, ...; device memory), and the staging that puts them on the
// GPU for one call. Shared by the kernel areas' bindings (cuda_ga.cpp, cuda_moo.cpp).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "arrays.hpp"
#include "runtime.hpp"

namespace chimera::bind::cuda {

namespace py = pybind11;
namespace cu = chimera::cuda;
using chimera::bind::require;


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

inline bool has_cuda_interface(const py::handle& obj) {
  return py::hasattr(obj, "__cuda_array_interface__");
}

inline void require_ndim(const Array& a, py::ssize_t ndim, const char* name) {
  if (a.ndim() != ndim) {
    throw Invalid(std::string(name) + " must be " + std::to_string(ndim) + "-dimensional, got " +
                  std::to_string(a.ndim()) + " dimensions");
  }
}

inline void require_len(const Array& a, py::ssize_t axis, py::ssize_t len, const char* name) {
  const py::ssize_t got = a.shape[static_cast<std::size_t>(axis)];
  if (got != len) {
    throw Invalid(std::string(name) + " has " + std::to_string(got) + " entries along axis " +
                  std::to_string(axis) + ", expected " + std::to_string(len));
  }
}

inline std::string dtype_name(const py::dtype& dt) { return py::str(dt); }

inline bool same_dtype(const py::dtype& a, const py::dtype& b) {
  return a.kind() == b.kind() && a.itemsize() == b.itemsize();
}

// Reads __cuda_array_interface__; false when the layout is not C-contiguous.
inline bool read_cuda_interface(const py::object& obj, const char* name, Array& a) {
  py::dict cai = obj.attr("__cuda_array_interface__");
  if (cai.contains("mask") && !cai["mask"].is_none()) {
    throw Invalid(std::string(name) + ": masked __cuda_array_interface__ arrays are not supported");
  }
  const std::string typestr = py::str(cai["typestr"]);
  if (!typestr.empty() && typestr[0] == '>') {
    throw WrongType(std::string(name) + " must be in native byte order");
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

inline Array from_numpy(py::array arr, bool writeable) {
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
inline Array input(const py::object& obj, const char* name) {
  if (!has_cuda_interface(obj)) {
    using Converted = py::array_t<T, py::array::c_style | py::array::forcecast>;
    return from_numpy(Converted(obj), false);
  }
  const auto want = py::dtype::of<T>();
  Array a;
  if (read_cuda_interface(obj, name, a) && same_dtype(a.dtype, want)) return a;
  if (!py::hasattr(obj, "astype")) {
    throw WrongType(std::string(name) + " must be a C-contiguous device array of dtype " +
                         dtype_name(want) + ", got " + dtype_name(a.dtype));
  }
  Array c;
  if (!read_cuda_interface(obj.attr("astype")(want, py::arg("order") = "C"), name, c) ||
      !same_dtype(c.dtype, want)) {
    throw WrongType(std::string(name) + " must be a C-contiguous device array of dtype " +
                         dtype_name(want));
  }
  return c;
}

// A genome array (X, or out when writeable): float64, float32, int32 or bool, C-contiguous.
inline Array genome(const py::object& obj, const char* name, bool writeable) {
  Array a;
  if (has_cuda_interface(obj)) {
    require(read_cuda_interface(obj, name, a), std::string(name) + " must be C-contiguous");
  } else {
    if (!py::isinstance<py::array>(obj)) {
      throw WrongType(std::string(name) +
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
    throw WrongType(std::string(name) + " must be in native byte order");
  }
  if (writeable) require(!a.readonly, std::string(name) + " must be writeable");
  return a;
}

// An output of a fixed dtype (parents): like chimera.bind::output, on either side.
template <class T>
inline Array output(const py::object& obj, const char* name) {
  const auto want = py::dtype::of<T>();
  if (has_cuda_interface(obj)) {
    Array a;
    const bool contiguous = read_cuda_interface(obj, name, a);
    if (!same_dtype(a.dtype, want)) {
      throw WrongType(std::string(name) + " must be an array of dtype " + dtype_name(want) +
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
inline void dispatch_genome(const py::dtype& dt, const char* name, Fn&& fn) {
  if (dt.byteorder() == '>') {
    throw WrongType(std::string(name) + " must be in native byte order");
  }
  const char kind = dt.kind();
  const auto size = dt.itemsize();
  if (kind == 'f' && size == 8) return fn(static_cast<double*>(nullptr));
  if (kind == 'f' && size == 4) return fn(static_cast<float*>(nullptr));
  if (kind == 'i' && size == 4) return fn(static_cast<std::int32_t*>(nullptr));
  if (kind == 'b' && size == 1) return fn(static_cast<std::uint8_t*>(nullptr));
  throw WrongType(std::string(name) + " must be float64, float32, int32 or bool, got " +
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
        throw Invalid(std::string(name) +
                              ": __cuda_array_interface__ does not point to CUDA device memory");
      }
      if (device_ < 0) {
        device_ = dev;
        first_ = name;
      } else if (dev != device_) {
        throw Invalid(std::string(name) + " is on CUDA device " + std::to_string(dev) +
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

inline bool any_device(std::initializer_list<const Array*> arrays) {
  for (const Array* a : arrays) {
    if (a->device) return true;
  }
  return false;
}

}  // namespace chimera::bind::cuda
