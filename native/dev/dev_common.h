// dev_common.h: what the native dev programs (native/dev/*_dev.cu) share: random inputs, the CPU-vs-CUDA
// comparison, cudaEvent timing, CUDA error checks and the command line. The loop of llm.c's dev/cuda: change a
// kernel (or add a variant next to the library's), rebuild one small program, check and time it, without the
// Maven -> JNI -> JMH round trip.
//
// Every program: <prog> [op|all] [variant|all] [--repeats N] [--no-time]. Variant 0 is always the library's
// kernel (ct_*_cuda from libcotrain_cuda); 1, 2, ... are alternatives defined in the dev file with the library
// function's exact signature, checked against the same CPU reference and held to the same tolerance.
// Exit status: 0 all checks passed (or no CUDA device: skipped), 1 a mismatch, 2 a CUDA error or a bad argument.
//
// Memory comes from libcotrain_cuda's own helpers (device.h), as on the JVM; events and the L2 flush use this
// program's CUDA runtime. Both runtimes share the device's primary context, so pointers and the legacy default
// stream (NULL, used throughout) are the same for both.
#ifndef COTRAIN_DEV_COMMON_H
#define COTRAIN_DEV_COMMON_H

#include <cuda_runtime.h>

#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cotrain/device.h"

#define DEV_CUDA(call)                                                                                   \
    do {                                                                                                 \
        cudaError_t dev_err_ = (call);                                                                   \
        if (dev_err_ != cudaSuccess) {                                                                   \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(dev_err_)); \
            exit(2);                                                                                     \
        }                                                                                                \
    } while (0)

// For the library's entry points, which return 0 or a cudaError_t code (common.h).
#define DEV_CT(call)                                                                                     \
    do {                                                                                                 \
        int dev_err_ = (call);                                                                           \
        if (dev_err_ != 0) {                                                                             \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, ct_cuda_error_string(dev_err_)); \
            exit(2);                                                                                     \
        }                                                                                                \
    } while (0)

namespace dev {

// Unit roundoff of float32 (round to nearest): fl(a op b) = (a op b)(1 + d), |d| <= u. One ulp is at most 2u
// relative. Every tolerance in native/dev is a multiple of u derived from the op's arithmetic, never a number read
// off one machine's output.
constexpr double kU = 5.9604644775390625e-08;  // 2^-24

// Rounding error of a float32 sum of K terms, in any order (lane strides, shuffle trees, one thread per row):
// the worst case is (K - 1) u sum|x_i|, but that bound is reached only if every rounding goes the same way, and at
// K ~ 4000 it is too loose to notice a dropped term. Treating the roundings as independent and zero-mean, they add
// in quadrature (Higham, Accuracy and Stability of Numerical Algorithms, 2.8): a few sqrt(K) u sum|x_i|. With 4,
// the measured error of a sequential sum of K positive terms (std u K^1.5 mean/3) stays under a twelfth of it, and
// one dropped term of average size (sum|x_i| / K) exceeds it for K below 4000 or so.
inline double sum_error(double k) { return 4.0 * std::sqrt(k < 1.0 ? 1.0 : k) * kU; }

// Inputs: splitmix64, a fixed seed per program, the same numbers on every machine.
struct Rng {
    uint64_t state;
    explicit Rng(uint64_t seed) : state(seed) {}
    uint64_t next() {
        uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    double uniform01() { return (double)(next() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
    float uniform(float lo, float hi) { return (float)(lo + (hi - lo) * uniform01()); }
    float normal() {
        double u1 = 1.0 - uniform01(), u2 = uniform01();
        return (float)(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
    }
    int32_t randint(int32_t lo, int32_t hi) { return lo + (int32_t)(next() % (uint64_t)(hi - lo)); }  // [lo, hi)
};

inline std::vector<float> uniform(size_t n, float lo, float hi, Rng& rng) {
    std::vector<float> v(n);
    for (auto& x : v) x = rng.uniform(lo, hi);
    return v;
}

inline std::vector<float> normal(size_t n, Rng& rng) {
    std::vector<float> v(n);
    for (auto& x : v) x = rng.normal();
    return v;
}

// Device memory through libcotrain_cuda (ct_cuda_malloc and friends), synchronous copies on the default stream.
template <typename T>
struct DeviceBuffer {
    T* ptr = nullptr;
    size_t n = 0;
    explicit DeviceBuffer(size_t count) : n(count) {
        DEV_CT(ct_cuda_malloc(reinterpret_cast<void**>(&ptr), (int64_t)(bytes() ? bytes() : sizeof(T))));
    }
    explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { upload(host); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    ~DeviceBuffer() {
        if (ptr) ct_cuda_free(ptr);
    }
    size_t bytes() const { return n * sizeof(T); }
    void upload(const std::vector<T>& host) {
        if (host.size() != n) {
            fprintf(stderr, "upload: %zu elements into a buffer of %zu\n", host.size(), n);
            exit(2);
        }
        if (n == 0) return;
        DEV_CT(ct_cuda_memcpy_h2d_async(ptr, host.data(), (int64_t)bytes(), nullptr));
        DEV_CT(ct_cuda_stream_synchronize(nullptr));
    }
    std::vector<T> download() const {
        std::vector<T> host(n);
        if (n == 0) return host;
        DEV_CT(ct_cuda_memcpy_d2h_async(host.data(), ptr, (int64_t)bytes(), nullptr));
        DEV_CT(ct_cuda_stream_synchronize(nullptr));
        return host;
    }
};

// Failures of this run, counted by compare(); finish() turns them into the exit status.
inline int g_failures = 0;

// Compares the CUDA result with the CPU reference element by element: |cuda - cpu| <= tol[i]. NaN matches NaN
// only, an infinity only the same infinity. Prints one line: the worst element (largest |diff| / tol), with its
// index, both values and its tolerance.
inline bool compare(const char* what, const std::vector<float>& cpu, const std::vector<float>& cuda,
                    const std::vector<double>& tol) {
    if (cpu.size() != cuda.size() || cpu.size() != tol.size()) {
        printf("    FAIL %-28s sizes differ: cpu %zu, cuda %zu, tol %zu\n", what, cpu.size(), cuda.size(), tol.size());
        g_failures++;
        return false;
    }
    double worst = -1.0;
    size_t worst_i = 0, bad = 0;
    for (size_t i = 0; i < cpu.size(); i++) {
        const float a = cpu[i], b = cuda[i];
        double ratio;
        if (std::isnan(a) || std::isnan(b)) {
            ratio = (std::isnan(a) && std::isnan(b)) ? 0.0 : INFINITY;
        } else if (std::isinf(a) || std::isinf(b)) {
            ratio = a == b ? 0.0 : INFINITY;
        } else {
            const double diff = std::fabs((double)a - (double)b);
            ratio = diff == 0.0 ? 0.0 : (tol[i] > 0.0 ? diff / tol[i] : INFINITY);
        }
        if (ratio > 1.0) bad++;
        if (ratio > worst) {
            worst = ratio;
            worst_i = i;
        }
    }
    const bool ok = bad == 0;
    if (!ok) g_failures++;
    if (cpu.empty()) {
        printf("    ok   %-28s (empty)\n", what);
        return true;
    }
    printf("    %s %-28s n=%zu worst |diff|/tol=%.3g at [%zu]: cpu=%.9g cuda=%.9g tol=%.3g%s\n", ok ? "ok  " : "FAIL",
           what, cpu.size(), worst, worst_i, (double)cpu[worst_i], (double)cuda[worst_i], tol[worst_i],
           ok ? "" : (" (" + std::to_string(bad) + " elements out of tolerance)").c_str());
    return ok;
}

// Mean time of one launch over `repeats` runs after `warmup`, with cudaEvents around each launch and L2 flushed
// before it (a memset of twice the L2 size), so that GB/s are DRAM bandwidth, as in llm.c's benchmark_kernel.
// launch() returns 0 or a cudaError_t code, as the library's entry points.
// The flush buffer is one per program (not one per instantiation of time_us), allocated on first use.
inline void* l2_flush_buffer(size_t* bytes) {
    static void* flush = nullptr;
    static size_t flush_bytes = 0;
    if (!flush) {
        int device = 0, l2 = 0;
        DEV_CUDA(cudaGetDevice(&device));
        DEV_CUDA(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device));
        flush_bytes = 2 * (size_t)(l2 > 0 ? l2 : (64 << 20));
        DEV_CUDA(cudaMalloc(&flush, flush_bytes));
    }
    *bytes = flush_bytes;
    return flush;
}

template <typename Launch>
double time_us(Launch&& launch, int repeats, int warmup = 3) {
    size_t flush_bytes = 0;
    void* flush = l2_flush_buffer(&flush_bytes);
    for (int i = 0; i < warmup; i++) DEV_CT(launch());
    DEV_CUDA(cudaDeviceSynchronize());
    cudaEvent_t start, stop;
    DEV_CUDA(cudaEventCreate(&start));
    DEV_CUDA(cudaEventCreate(&stop));
    double total_ms = 0.0;
    for (int i = 0; i < repeats; i++) {
        DEV_CUDA(cudaMemsetAsync(flush, i & 0xff, flush_bytes, nullptr));
        DEV_CUDA(cudaEventRecord(start, nullptr));
        DEV_CT(launch());
        DEV_CUDA(cudaEventRecord(stop, nullptr));
        DEV_CUDA(cudaEventSynchronize(stop));
        float ms = 0.0f;
        DEV_CUDA(cudaEventElapsedTime(&ms, start, stop));
        total_ms += ms;
    }
    DEV_CUDA(cudaEventDestroy(start));
    DEV_CUDA(cudaEventDestroy(stop));
    DEV_CT(ct_cuda_get_last_error());  // an error of the kernels' execution, left by the library's runtime
    return total_ms * 1000.0 / (repeats > 0 ? repeats : 1);
}

// bytes: what the op must move between DRAM and the SMs (each input read once, each output written once);
// flops: its arithmetic, 0 where it is not the point.
inline void report_time(const char* op, int variant, const char* variant_name, const std::string& shape, double us,
                        double bytes, double flops = 0.0) {
    printf("    time %-9s v%d %-22s %-34s %10.2f us %8.1f GB/s", op, variant, variant_name, shape.c_str(), us,
           bytes / (us * 1e3));
    if (flops > 0.0) printf(" %8.1f GFLOP/s", flops / (us * 1e3));
    printf("\n");
}

struct Args {
    std::string op = "all";
    int variant = -1;  // -1: every variant
    int repeats = 20;
    bool time = true;
    bool wants(const char* name) const { return op == "all" || op == name; }
    bool wants_variant(int v) const { return variant < 0 || variant == v; }
};

inline void usage(const char* prog, const std::vector<const char*>& ops) {
    fprintf(stderr, "usage: %s [op|all] [variant|all] [--repeats N] [--no-time]\n  ops:", prog);
    for (const char* o : ops) fprintf(stderr, " %s", o);
    fprintf(stderr, "\n  variant 0 is the library's kernel; no variant: every variant of the op\n");
}

inline Args parse_args(int argc, char** argv, const char* prog, const std::vector<const char*>& ops) {
    Args a;
    int positional = 0;
    for (int i = 1; i < argc; i++) {
        std::string s = argv[i];
        if (s == "--repeats" && i + 1 < argc) {
            a.repeats = atoi(argv[++i]);
        } else if (s == "--no-time") {
            a.time = false;
        } else if (s == "-h" || s == "--help") {
            usage(prog, ops);
            exit(0);
        } else if (positional == 0) {
            bool known = s == "all";
            for (const char* o : ops) known = known || s == o;
            if (!known) {
                usage(prog, ops);
                exit(2);
            }
            a.op = s;
            positional++;
        } else if (positional == 1) {
            if (s != "all") {
                char* end = nullptr;
                long v = strtol(s.c_str(), &end, 10);
                if (*end != '\0' || v < 0) {
                    usage(prog, ops);
                    exit(2);
                }
                a.variant = (int)v;
            }
            positional++;
        } else {
            usage(prog, ops);
            exit(2);
        }
    }
    return a;
}

// True (after printing why) where there is no usable CUDA device: the programs then exit 0, so that they can run
// in CI. Otherwise prints the device.
inline bool skip_without_gpu(const char* prog) {
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess || count == 0) {
        printf("%s: no CUDA device: skipped (%s)\n", prog,
               err != cudaSuccess ? cudaGetErrorString(err) : "cudaGetDeviceCount found 0 devices");
        (void)cudaGetLastError();
        return true;
    }
    cudaDeviceProp p;
    DEV_CUDA(cudaGetDeviceProperties(&p, 0));
    printf("%s: %s (sm_%d%d, %d SMs, L2 %d MB)\n", prog, p.name, p.major, p.minor, p.multiProcessorCount,
           p.l2CacheSize >> 20);
    return false;
}

// One entry of an op's variant table: a name and a function with the library entry point's signature.
template <typename Fn>
struct Variant {
    const char* name;
    Fn fn;
};

// A variant number the op does not have: an error (exit 2) when the op was named, nothing to run under "all".
inline bool variant_missing(const Args& a, const char* op, int count) {
    if (a.variant < count) return false;
    if (a.op == op) {
        fprintf(stderr, "%s has variants 0..%d, not %d\n", op, count - 1, a.variant);
        exit(2);
    }
    return true;
}

inline int finish(const char* prog) {
    if (g_failures) {
        printf("%s: %d check(s) FAILED\n", prog, g_failures);
        return 1;
    }
    printf("%s: all checks passed\n", prog);
    return 0;
}

inline std::string shape(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
inline std::string shape(const char* fmt, ...) {
    char buf[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return buf;
}

}  // namespace dev

#endif
