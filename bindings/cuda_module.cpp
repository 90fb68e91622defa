// chimera._cuda: the CUDA twins of chimera._core, one submodule per kernel area (ga, moo) with
// the same functions, argument names and order (docs/kernels.md). Every array argument may be
// a NumPy array or an object with __cuda_array_interface__ (cuda_arrays.hpp). Nothing here
// touches CUDA at import time: cuda_status() says whether it works.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <utility>
#include <vector>

#include "arrays.hpp"
#include "runtime.hpp"

namespace py = pybind11;
namespace cu = chimera::cuda;

void register_cuda_ga(py::module_& m);
void register_cuda_moo(py::module_& m);

namespace {

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
  chimera::bind::register_errors();
  m.def("cuda_status", &cuda_status,
        "(ok, message): whether a CUDA device is usable and this build's kernels run on it.");
  m.def("device_info", &device_info,
        "The visible CUDA devices as dicts (index, name, compute_capability, total_memory, "
        "multiprocessors); empty without a driver or device.");
  register_cuda_ga(m);
  register_cuda_moo(m);
}
