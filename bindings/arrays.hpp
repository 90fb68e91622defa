// Checks at the NumPy boundary, shared by every bind_<area>.cpp. Each failure names the
// argument and reaches the user as chimera's own error: ValidationError (a ValueError) for a
// bad value, ArgumentTypeError (a ValidationError and a TypeError) for a bad type.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace chimera::bind {

namespace py = pybind11;

template <class T>
using In = py::array_t<T, py::array::c_style | py::array::forcecast>;

// A NumPy copy of a vector.
template <class T>
py::array_t<T> to_array(const std::vector<T>& v) {
  py::array_t<T> out(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

// A bad value, and a bad type, as chimera._errors' ValidationError and ArgumentTypeError.
struct Invalid : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
struct WrongType : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

inline void raise_as(const char* error, const char* message) {
  PyErr_Clear();  // a conversion's error the check already named
  auto cls = py::module_::import("chimera._errors").attr(error);
  PyErr_SetString(cls.ptr(), message);
}

// Called once by each module: Invalid and WrongType thrown anywhere reach Python as chimera's.
inline void register_errors() {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const WrongType& e) {
      raise_as("ArgumentTypeError", e.what());
    } catch (const Invalid& e) {
      raise_as("ValidationError", e.what());
    }
  });
}

inline void require(bool ok, const std::string& message) {
  if (!ok) throw Invalid(message);
}

// The checks below build their message only when they fail: a call's checks run on every
// kernel call, and a message built each time (a std::string per gene, in a loop) cost more
// than a small kernel.

// Refuses, before allocating, ``bytes`` more than this machine's memory (as chimera's
// _validate.fits_in_memory words it).
inline void require_fits(double bytes, const std::string& what) {
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGE_SIZE)
  // The machine's memory, asked once: select(n) is on the bandits' hot path.
  static const double total =
      static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
  if (total > 0 && bytes > total) {
    char text[160];
    std::snprintf(text, sizeof text, " would need %.1f GiB of memory, more than this machine's "
                  "%.1f GiB; make it smaller", bytes / 1073741824.0, total / 1073741824.0);
    throw Invalid(what + text);
  }
#else
  (void)bytes;
  (void)what;
#endif
}

inline void require_ndim(const py::array& a, py::ssize_t ndim, const char* name) {
  if (a.ndim() != ndim) {
    throw Invalid(std::string(name) + " must be " + std::to_string(ndim) + "-dimensional, got " +
                  std::to_string(a.ndim()) + " dimensions");
  }
}

inline void require_len(const py::array& a, py::ssize_t axis, py::ssize_t len, const char* name) {
  if (a.shape(axis) != len) {
    throw Invalid(std::string(name) + " has " + std::to_string(a.shape(axis)) +
                  " entries along axis " + std::to_string(axis) + ", expected " +
                  std::to_string(len));
  }
}

// An array used in place must be C-contiguous and writeable.
inline void require_in_place(const py::array& a, const char* name) {
  if ((a.flags() & py::array::c_style) == 0) {
    throw Invalid(std::string(name) + " must be C-contiguous");
  }
  if (!a.writeable()) throw Invalid(std::string(name) + " must be writeable");
}

// An array argument used in place (no conversion), refused with a TypeError naming it otherwise.
inline py::array existing_array(const py::object& obj, const char* name) {
  if (!py::isinstance<py::array>(obj)) {
    throw WrongType(std::string(name) + " must be a NumPy array, got " +
                         std::string(py::str(py::type::of(obj).attr("__name__"))));
  }
  return py::reinterpret_borrow<py::array>(obj);
}

// An output the kernel writes into: it must already be a C-contiguous, writeable array of the
// right dtype, since a converted copy would silently swallow the result.
template <class T>
py::array_t<T> output(const py::object& obj, const char* name) {
  if (!py::isinstance<py::array_t<T>>(obj)) {
    throw WrongType(std::string(name) + " must be a NumPy array of dtype " +
                         std::string(py::str(py::dtype::of<T>())));
  }
  auto a = py::reinterpret_borrow<py::array_t<T>>(obj);
  require_in_place(a, name);
  return a;
}

}  // namespace chimera::bind
