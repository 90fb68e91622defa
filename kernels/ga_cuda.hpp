// Host-side interface of the CUDA kernels in ga.cu: plain C++, so that the pybind11 module
// (bindings/cuda_module.cpp) compiles with the host compiler and never sees a CUDA header.
// Everything here follows docs/kernels.md draw for draw, like the OpenMP drivers in
// cpp/src/ga.cpp; every CUDA failure is thrown as chimera::cuda::Error with the runtime's message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "chimera/operators.hpp"

namespace chimera::cuda {

// A failed CUDA runtime call: "<call>: <cudaGetErrorString> (<cudaGetErrorName>)".
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// (true, description) when a CUDA device is usable and this build's kernels run on it;
// (false, reason) otherwise (no driver, no device, no kernel image for the GPU). Never throws;
// clears the runtime's error state on failure.
std::pair<bool, std::string> status();

struct DeviceInfo {
  int index = 0;
  std::string name;
  int major = 0;
  int minor = 0;
  std::size_t total_memory = 0;
  int multiprocessors = 0;
};

// The visible CUDA devices; empty when there is no driver or device. Never throws.
std::vector<DeviceInfo> device_info();

// Device ordinal of device (or managed) memory at p, or -1 when p is not CUDA device memory.
int pointer_device(const void* p);

// Waits for a stream handle from a __cuda_array_interface__ ("stream", version 3): the
// producer's pending work on it must finish before the kernels read the array.
void synchronize_stream(std::uintptr_t stream);

// Makes `device` current for its lifetime (the previous one comes back at the end); -1: no-op.
class DeviceScope {
 public:
  explicit DeviceScope(int device);
  ~DeviceScope();
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int previous_ = -1;
};

// Owned device memory (cudaMalloc / cudaFree), with blocking copies to and from host memory.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* get() const { return ptr_; }
  std::size_t size() const { return bytes_; }
  void upload(const void* host, std::size_t bytes);
  void download(void* host, std::size_t bytes) const;

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

// The launchers, for T = double, float, std::int32_t and std::uint8_t (bool genomes). Shapes and
// meanings as in chimera/ga.hpp. They block until the kernels are done.
//
// *_device: every pointer (including cfg.mutation_cdf) is CUDA device memory on the current
// device, e.g. the buffers of CuPy arrays.
template <class T>
void init_uniform_device(T* out, std::size_t n, std::size_t d, const double* low,
                         const double* high, std::uint64_t seed);

template <class T>
void breed_device(const T* X, const double* f, std::size_t n, std::size_t d, const double* low,
                  const double* high, T* out, std::int32_t* parents, std::size_t m,
                  const ga::BreedConfig& cfg);

// *_host: every pointer (including cfg.mutation_cdf) is host memory; the inputs are copied to
// the current device, the kernels run there and the outputs are copied back.
template <class T>
void init_uniform_host(T* out, std::size_t n, std::size_t d, const double* low,
                       const double* high, std::uint64_t seed);

template <class T>
void breed_host(const T* X, const double* f, std::size_t n, std::size_t d, const double* low,
                const double* high, T* out, std::int32_t* parents, std::size_t m,
                const ga::BreedConfig& cfg);

}  // namespace chimera::cuda
