// Host-side interface of the CUDA runtime helpers shared by every kernel area (ga.cu, moo.cu):
// plain C++, so that the pybind11 module compiles with the host compiler and never sees a CUDA
// header. Every CUDA failure is thrown as chimera::cuda::Error with the runtime's message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

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

// Blocking copies of `bytes` between device memory and host memory.
void copy_to_host(void* host, const void* device, std::size_t bytes);
void copy_to_device(void* device, const void* host, std::size_t bytes);

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

// Owned device memory, with blocking copies to and from host memory. Allocated from the
// device's default memory pool, in stream order on the default stream, where the device
// supports pools (plain cudaMalloc / cudaFree otherwise).
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
  void release() noexcept;

  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
  bool pooled_ = false;
};

}  // namespace chimera::cuda
