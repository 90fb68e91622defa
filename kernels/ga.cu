// CUDA twins of the host drivers in cpp/src/ga.cpp. The per-pair work is the same code
// (chimera/operators.hpp, chimera/rng.hpp, compiled here for the device), one thread per
// individual, selection slot or offspring pair; docs/kernels.md is the contract. Compiled with
// --fmad=false so that a*b+c rounds as in the C++ build (-ffp-contract=off).
//
// Population-wide steps follow the C++ order exactly:
//   - truncation ranks rows with CUB's radix sort, which is stable and treats -0.0 and +0.0 as
//     equal, i.e. the order of std::stable_sort by f with ties by row;
//   - stochastic universal sampling is sequential by definition (running sums in row order, one
//     stream for the whole shuffle), so it runs on the host, as in ga.cpp, and only the slots go
//     to the device.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <cub/device/device_radix_sort.cuh>

#include "chimera/ga.hpp"
#include "chimera/operators.hpp"
#include "chimera/rng.hpp"
#include "ga_cuda.hpp"

namespace chimera::cuda {

namespace {

template <class T>
constexpr bool kIntegral = std::is_integral_v<T>;
template <class T>
constexpr bool kBoolean = std::is_same_v<T, std::uint8_t>;

constexpr unsigned kThreads = 256;
constexpr unsigned kBreedThreads = 128;  // breed_pair keeps a 64-entry table per thread
constexpr std::size_t kMaxBlocks = std::size_t{1} << 20;  // the kernels loop grid-stride beyond

std::string describe(cudaError_t err) {
  return std::string(cudaGetErrorString(err)) + " (" + cudaGetErrorName(err) + ")";
}

void check(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return;
  (void)cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  throw Error(std::string(what) + ": " + describe(err));
}

// After a launch: configuration errors now, execution errors at the final synchronize.
void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

void synchronize() { check(cudaStreamSynchronize(0), "cudaStreamSynchronize"); }

unsigned blocks_for(std::size_t count, unsigned threads) {
  const std::size_t b = (count + threads - 1) / threads;
  return static_cast<unsigned>(std::min(std::max<std::size_t>(b, 1), kMaxBlocks));
}

__device__ __forceinline__ std::size_t thread_index() {
  return static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}

__device__ __forceinline__ std::size_t thread_stride() {
  return static_cast<std::size_t>(gridDim.x) * blockDim.x;
}

// ---------------------------------------------------------------------------------------------
// Kernels

template <class T>
__global__ void init_uniform_kernel(T* out, std::size_t n, std::size_t d, const double* low,
                                    const double* high, std::uint64_t seed) {
  for (std::size_t i = thread_index(); i < n; i += thread_stride()) {
    rng::Stream st(seed, 0, static_cast<std::uint32_t>(i), rng::kInit);
    T* row = out + i * d;
    for (std::size_t j = 0; j < d; ++j) {
      row[j] = ga::init_gene<T>(st, low[j], high[j], kIntegral<T>, kBoolean<T>);
    }
  }
}

__global__ void iota_kernel(std::int32_t* rows, std::size_t n) {
  for (std::size_t i = thread_index(); i < n; i += thread_stride()) {
    rows[i] = static_cast<std::int32_t>(i);
  }
}

// Tournament or truncation: slot s from Stream(seed, gen, s, SELECT).
__global__ void select_kernel(const double* f, std::uint32_t n, std::size_t count,
                              ga::BreedConfig cfg, const std::int32_t* order,
                              std::int32_t* slots) {
  for (std::size_t s = thread_index(); s < count; s += thread_stride()) {
    slots[s] = static_cast<std::int32_t>(
        ga::select_slot(f, n, static_cast<std::uint32_t>(s), cfg, order));
  }
}

template <class T>
__global__ void breed_kernel(const T* X, std::size_t d, const double* low, const double* high,
                             const std::int32_t* slots, T* out, std::int32_t* parents,
                             std::size_t m, std::size_t pairs, ga::BreedConfig cfg) {
  for (std::size_t p = thread_index(); p < pairs; p += thread_stride()) {
    ga::breed_pair(X, d, low, high, slots, out, parents, m, static_cast<std::uint32_t>(p), cfg);
  }
}

// ---------------------------------------------------------------------------------------------
// Population-wide steps

// Scratch memory of one breed call; it lives until the final synchronize, so nothing is freed
// under a kernel still reading it.
struct Scratch {
  DeviceBuffer slots, order, rows, keys, temp;
};

// order = rows sorted by f (device), ties by row.
void stable_order(const double* f, std::size_t n, std::int32_t* order, Scratch& scratch) {
  scratch.rows = DeviceBuffer(n * sizeof(std::int32_t));
  scratch.keys = DeviceBuffer(n * sizeof(double));
  auto* r = static_cast<std::int32_t*>(scratch.rows.get());
  auto* k = static_cast<double*>(scratch.keys.get());
  iota_kernel<<<blocks_for(n, kThreads), kThreads>>>(r, n);
  check_launch("iota_kernel");
  const int items = static_cast<int>(n);
  constexpr int kEndBit = static_cast<int>(sizeof(double) * 8);
  std::size_t temp_bytes = 0;
  check(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, f, k, r, order, items, 0, kEndBit,
                                        cudaStream_t{}),
        "cub::DeviceRadixSort::SortPairs (temporary storage size)");
  scratch.temp = DeviceBuffer(temp_bytes);
  check(cub::DeviceRadixSort::SortPairs(scratch.temp.get(), temp_bytes, f, k, r, order, items, 0,
                                        kEndBit, cudaStream_t{}),
        "cub::DeviceRadixSort::SortPairs");
}

template <class T>
void check_genes(const ga::BreedConfig& cfg) {
  if (kIntegral<T> && ga::needs_real_genes(cfg)) {
    throw std::invalid_argument("blend, SBX, Gaussian and polynomial operators need real genes");
  }
}

// The checks the C++ drivers rely on their callers for; on a GPU a bad index is not a wrong
// answer but a dead context, so the launchers repeat them.
void validate(std::size_t n, std::size_t m, const ga::BreedConfig& cfg) {
  constexpr std::size_t kRowLimit = std::size_t{1} << 31;
  if (n >= kRowLimit || m >= kRowLimit) {
    throw std::invalid_argument("populations are limited to 2^31 rows");
  }
  if (cfg.selection < ga::kTournament || cfg.selection > ga::kStochasticUniversal) {
    throw std::invalid_argument("unknown selection code");
  }
  if (cfg.crossover < ga::kNoCrossover || cfg.crossover > ga::kSBX) {
    throw std::invalid_argument("unknown crossover code");
  }
  if (cfg.mutation < ga::kNoMutation || cfg.mutation > ga::kRandomReset) {
    throw std::invalid_argument("unknown mutation code");
  }
  if (cfg.bounds != ga::kClip && cfg.bounds != ga::kReflect) {
    throw std::invalid_argument("unknown bounds code");
  }
  if (cfg.mutation_cdf_len > ga::kMaxMutationTable) {
    throw std::invalid_argument("mutation_cdf has more than 64 entries");
  }
  if (cfg.mutation_cdf_len > 0 && cfg.mutation_cdf == nullptr) {
    throw std::invalid_argument("mutation_cdf is null");
  }
  if (n > 0 && cfg.selection == ga::kTournament && cfg.selection_size < 1) {
    throw std::invalid_argument("tournament size must be at least 1");
  }
  if (n > 0 && cfg.selection == ga::kTruncation &&
      (cfg.selection_size < 1 || static_cast<std::size_t>(cfg.selection_size) > n)) {
    throw std::invalid_argument("truncation must keep between 1 and n rows");
  }
}

// breed on device buffers; f_host, when not null, is the same fitness in host memory (SUS).
template <class T>
void breed_on_device(const T* X, const double* f, const double* f_host, std::size_t n,
                     std::size_t d, const double* low, const double* high, T* out,
                     std::int32_t* parents, std::size_t m, const ga::BreedConfig& cfg) {
  validate(n, m, cfg);
  if (n == 0 || m == 0) return;
  check_genes<T>(cfg);
  const std::size_t pairs = (m + 1) / 2, count = 2 * pairs;
  Scratch scratch;
  scratch.slots = DeviceBuffer(count * sizeof(std::int32_t));
  auto* sl = static_cast<std::int32_t*>(scratch.slots.get());
  if (cfg.selection == ga::kStochasticUniversal) {
    std::vector<double> staged;
    if (f_host == nullptr) {
      staged.resize(n);
      check(cudaMemcpy(staged.data(), f, n * sizeof(double), cudaMemcpyDeviceToHost),
            "cudaMemcpy (fitness to host)");
      f_host = staged.data();
    }
    std::vector<std::int32_t> host_slots(count);
    ga::sus_slots(f_host, n, host_slots.data(), count, cfg);  // sequential by definition
    scratch.slots.upload(host_slots.data(), count * sizeof(std::int32_t));
  } else {
    if (cfg.selection == ga::kTruncation) {
      scratch.order = DeviceBuffer(n * sizeof(std::int32_t));
      stable_order(f, n, static_cast<std::int32_t*>(scratch.order.get()), scratch);
    }
    select_kernel<<<blocks_for(count, kThreads), kThreads>>>(
        f, static_cast<std::uint32_t>(n), count, cfg,
        static_cast<const std::int32_t*>(scratch.order.get()), sl);
    check_launch("select_kernel");
  }
  breed_kernel<T><<<blocks_for(pairs, kBreedThreads), kBreedThreads>>>(
      X, d, low, high, sl, out, parents, m, pairs, cfg);
  check_launch("breed_kernel");
  synchronize();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Runtime helpers

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
  err = cudaFuncGetAttributes(&attr, breed_kernel<double>);
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
  const cudaError_t err = cudaMalloc(&ptr_, bytes);
  if (err != cudaSuccess) {
    ptr_ = nullptr;
    check(err, ("cudaMalloc (" + std::to_string(bytes) + " bytes)").c_str());
  }
}

DeviceBuffer::~DeviceBuffer() {
  if (ptr_ != nullptr && cudaFree(ptr_) != cudaSuccess) (void)cudaGetLastError();
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : ptr_(std::exchange(other.ptr_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    if (ptr_ != nullptr && cudaFree(ptr_) != cudaSuccess) (void)cudaGetLastError();
    ptr_ = std::exchange(other.ptr_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
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

// ---------------------------------------------------------------------------------------------
// Launchers

template <class T>
void init_uniform_device(T* out, std::size_t n, std::size_t d, const double* low,
                         const double* high, std::uint64_t seed) {
  if (n == 0 || d == 0) return;
  init_uniform_kernel<T><<<blocks_for(n, kThreads), kThreads>>>(out, n, d, low, high, seed);
  check_launch("init_uniform_kernel");
  synchronize();
}

template <class T>
void init_uniform_host(T* out, std::size_t n, std::size_t d, const double* low,
                       const double* high, std::uint64_t seed) {
  if (n == 0 || d == 0) return;
  DeviceBuffer lo(d * sizeof(double)), hi(d * sizeof(double)), o(n * d * sizeof(T));
  lo.upload(low, d * sizeof(double));
  hi.upload(high, d * sizeof(double));
  init_uniform_device<T>(static_cast<T*>(o.get()), n, d, static_cast<const double*>(lo.get()),
                         static_cast<const double*>(hi.get()), seed);
  o.download(out, n * d * sizeof(T));
}

template <class T>
void breed_device(const T* X, const double* f, std::size_t n, std::size_t d, const double* low,
                  const double* high, T* out, std::int32_t* parents, std::size_t m,
                  const ga::BreedConfig& cfg) {
  breed_on_device<T>(X, f, nullptr, n, d, low, high, out, parents, m, cfg);
}

template <class T>
void breed_host(const T* X, const double* f, std::size_t n, std::size_t d, const double* low,
                const double* high, T* out, std::int32_t* parents, std::size_t m,
                const ga::BreedConfig& cfg) {
  validate(n, m, cfg);
  if (n == 0 || m == 0) return;
  check_genes<T>(cfg);
  DeviceBuffer x(n * d * sizeof(T)), fit(n * sizeof(double)), lo(d * sizeof(double)),
      hi(d * sizeof(double)), cdf(cfg.mutation_cdf_len * sizeof(std::uint32_t)),
      o(m * d * sizeof(T)), par(m * 2 * sizeof(std::int32_t));
  x.upload(X, x.size());
  fit.upload(f, fit.size());
  lo.upload(low, lo.size());
  hi.upload(high, hi.size());
  cdf.upload(cfg.mutation_cdf, cdf.size());
  ga::BreedConfig dcfg = cfg;
  dcfg.mutation_cdf = static_cast<const std::uint32_t*>(cdf.get());
  breed_on_device<T>(static_cast<const T*>(x.get()), static_cast<const double*>(fit.get()), f, n,
                     d, static_cast<const double*>(lo.get()), static_cast<const double*>(hi.get()),
                     static_cast<T*>(o.get()), static_cast<std::int32_t*>(par.get()), m, dcfg);
  o.download(out, o.size());
  par.download(parents, par.size());
}

#define CHIMERA_CUDA_INSTANTIATE(T)                                                             \
  template void init_uniform_device<T>(T*, std::size_t, std::size_t, const double*,             \
                                       const double*, std::uint64_t);                           \
  template void init_uniform_host<T>(T*, std::size_t, std::size_t, const double*, const double*, \
                                     std::uint64_t);                                            \
  template void breed_device<T>(const T*, const double*, std::size_t, std::size_t, const double*, \
                                const double*, T*, std::int32_t*, std::size_t,                  \
                                const ga::BreedConfig&);                                        \
  template void breed_host<T>(const T*, const double*, std::size_t, std::size_t, const double*,   \
                              const double*, T*, std::int32_t*, std::size_t,                    \
                              const ga::BreedConfig&);
CHIMERA_CUDA_INSTANTIATE(double)
CHIMERA_CUDA_INSTANTIATE(float)
CHIMERA_CUDA_INSTANTIATE(std::int32_t)
CHIMERA_CUDA_INSTANTIATE(std::uint8_t)
#undef CHIMERA_CUDA_INSTANTIATE

}  // namespace chimera::cuda
