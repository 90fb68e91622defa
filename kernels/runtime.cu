// The CUDA runtime helpers of runtime.hpp: device discovery, status, memory and streams.
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "launch.cuh"
#include "runtime.hpp"

namespace chimera::cuda {

using detail::check;
using detail::describe;

namespace {

// Does nothing; status() asks whether the GPU has an image of it, i.e. of this build's kernels.
__global__ void probe_kernel() {}

// Freed memory the current device's default pool keeps for the next allocations, unless
// something else in the process asked it to keep more.
constexpr std::uint64_t kPoolKeep = std::uint64_t{256} << 20;

// Whether the current device allocates scratch from its default memory pool (stream-ordered,
// CUDA 11.2+). The first call per device raises the pool's release threshold to kPoolKeep:
// by default the pool hands freed memory back to the driver at every synchronize, and mapping
// it again costs more than the kernels of a call (measured on an H100 in a VM: cudaMalloc and
// cudaFree of 8 MB took longer than breeding 1,000,000 x 100 genes).
bool pool_ready() {
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  static std::mutex mutex;
  static std::map<int, bool> ready;
  const std::lock_guard<std::mutex> lock(mutex);
  if (const auto it = ready.find(device); it != ready.end()) return it->second;
  int supported = 0;
  cudaMemPool_t pool{};
  std::uint64_t keep = 0;
  bool ok = cudaDeviceGetAttribute(&supported, cudaDevAttrMemoryPoolsSupported, device) ==
                cudaSuccess &&
            supported != 0 && cudaDeviceGetDefaultMemPool(&pool, device) == cudaSuccess &&
            cudaMemPoolGetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep) == cudaSuccess;
  if (ok && keep < kPoolKeep) {
    keep = kPoolKeep;
    ok = cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep) == cudaSuccess;
  }
  if (!ok) (void)cudaGetLastError();
  ready[device] = ok;
  return ok;
}

}  // namespace

std::pair<bool, std::string> status() {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    return {false, "no usable CUDA driver or device: " + describe(err)};
  }
  if (count <= 0) return {false, "no CUDA device found"};
  int device = 0;
  err = cudaGetDevice(&device);
  cudaDeviceProp prop{};
  if (err == cudaSuccess) err = cudaGetDeviceProperties(&prop, device);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    return {false, "cannot query CUDA device " + std::to_string(device) + ": " + describe(err)};
  }
  const std::string where = std::string(prop.name) + " (device " + std::to_string(device) +
                            ", compute capability " + std::to_string(prop.major) + "." +
                            std::to_string(prop.minor) + ")";
  // Is there a kernel image (SASS or PTX) this GPU can run? This creates the context.
  cudaFuncAttributes attr{};
  err = cudaFuncGetAttributes(&attr, probe_kernel);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    return {false, "the CUDA kernels of this build cannot run on " + where + ": " +
                       describe(err) + "; rebuild with CMAKE_CUDA_ARCHITECTURES including " +
                       std::to_string(prop.major * 10 + prop.minor)};
  }
  int runtime = 0, driver = 0;
  (void)cudaRuntimeGetVersion(&runtime);
  (void)cudaDriverGetVersion(&driver);
  (void)cudaGetLastError();
  auto version = [](int v) { return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10); };
  return {true, std::to_string(count) + " CUDA device(s); using " + where + ", runtime " +
                    version(runtime) + ", driver " + version(driver)};
}

std::vector<DeviceInfo> device_info() {
  std::vector<DeviceInfo> out;
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();
    return out;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) {
      (void)cudaGetLastError();
      continue;
    }
    DeviceInfo info;
    info.index = i;
    info.name = prop.name;
    info.major = prop.major;
    info.minor = prop.minor;
    info.total_memory = prop.totalGlobalMem;
    info.multiprocessors = prop.multiProcessorCount;
    out.push_back(std::move(info));
  }
  return out;
}

int pointer_device(const void* p) {
  cudaPointerAttributes attr{};
  check(cudaPointerGetAttributes(&attr, p), "cudaPointerGetAttributes");
  if (attr.type == cudaMemoryTypeDevice || attr.type == cudaMemoryTypeManaged) return attr.device;
  return -1;
}

void synchronize_stream(std::uintptr_t stream) {
  // 0 is not a valid handle in the interface; 1 (legacy default stream) and 2 (per-thread
  // default stream) are ordered before the kernels, which run on the legacy default stream.
  if (stream <= 2) return;
  check(cudaStreamSynchronize(reinterpret_cast<cudaStream_t>(stream)),
        "cudaStreamSynchronize (the array's stream)");
}

void copy_to_host(void* host, const void* device, std::size_t bytes) {
  if (bytes == 0) return;
  check(cudaMemcpy(host, device, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy (device to host)");
}

void copy_to_device(void* device, const void* host, std::size_t bytes) {
  if (bytes == 0) return;
  check(cudaMemcpy(device, host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy (host to device)");
}

DeviceScope::DeviceScope(int device) {
  if (device < 0) return;
  int current = 0;
  check(cudaGetDevice(&current), "cudaGetDevice");
  if (current == device) return;
  check(cudaSetDevice(device), "cudaSetDevice");
  previous_ = current;
}

DeviceScope::~DeviceScope() {
  if (previous_ >= 0 && cudaSetDevice(previous_) != cudaSuccess) (void)cudaGetLastError();
}

DeviceBuffer::DeviceBuffer(std::size_t bytes) : bytes_(bytes) {
  if (bytes == 0) return;
  pooled_ = pool_ready();
  const cudaError_t err = pooled_ ? cudaMallocAsync(&ptr_, bytes, cudaStream_t{}) : cudaMalloc(&ptr_, bytes);
  if (err != cudaSuccess) {
    ptr_ = nullptr;
    check(err, ("cudaMalloc (" + std::to_string(bytes) + " bytes)").c_str());
  }
}

DeviceBuffer::~DeviceBuffer() { release(); }

void DeviceBuffer::release() noexcept {
  if (ptr_ == nullptr) return;
  // Stream-ordered: the memory returns to the pool once the kernels queued before are done.
  const cudaError_t err = pooled_ ? cudaFreeAsync(ptr_, cudaStream_t{}) : cudaFree(ptr_);
  if (err != cudaSuccess) (void)cudaGetLastError();
  ptr_ = nullptr;
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : ptr_(std::exchange(other.ptr_, nullptr)),
      bytes_(std::exchange(other.bytes_, 0)),
      pooled_(other.pooled_) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    release();
    ptr_ = std::exchange(other.ptr_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
    pooled_ = other.pooled_;
  }
  return *this;
}

void DeviceBuffer::upload(const void* host, std::size_t bytes) {
  if (bytes == 0) return;
  if (bytes > bytes_) throw std::length_error("DeviceBuffer::upload past the end of the buffer");
  check(cudaMemcpy(ptr_, host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy (host to device)");
}

void DeviceBuffer::download(void* host, std::size_t bytes) const {
  if (bytes == 0) return;
  if (bytes > bytes_) throw std::length_error("DeviceBuffer::download past the end of the buffer");
  check(cudaMemcpy(host, ptr_, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy (device to host)");
}

}  // namespace chimera::cuda
