// softmax_dev.cu: softmax over the last dimension (softmax.h) on CUDA against the CPU reference, and timed.
//   softmax_dev [forward|backward|all] [variant|all] [--repeats N] [--no-time]
// forward  v0 library  one warp per row, three passes over the row: max, sum of exp, write (softmax.cu)
//          v1 online   one warp per row, max and sum in one pass (Milakov & Gimelshein 2018, "Online normalizer
//                      calculation for softmax"): each lane keeps (max, sum) and rescales its sum by exp(old - new)
//                      when its max grows; the lanes' pairs are merged the same way. Two reads of the row, not three.
// backward v0 library  one warp per row, dx += y (dy - <dy, y>)
#include "cotrain/softmax.h"
#include "cuda_common.cuh"
#include "dev_common.h"

using dev::kU;

// ---- variant 1 of the forward: online softmax ------------------------------------------------------------------

#define SM1_WARPS 8

// x, y: (rows, cols). Masked entries (-inf) contribute 0; a lane that saw only -inf keeps (-inf, 0).
__global__ void sm1_forward_kernel(const float* x, float* y, int64_t rows, int cols) {
    const int lane = threadIdx.x % 32;
    const int64_t warps_total = (int64_t)gridDim.x * SM1_WARPS;
    for (int64_t r = (int64_t)blockIdx.x * SM1_WARPS + threadIdx.x / 32; r < rows; r += warps_total) {
        const float* xr = x + r * cols;
        float* yr = y + r * cols;
        float m = -INFINITY, s = 0.0f;
        for (int i = lane; i < cols; i += 32) {
            const float v = xr[i];
            if (v > m) {
                s = s * expf(m - v) + 1.0f;  // expf(-inf) = 0 on the first finite value
                m = v;
            } else if (v != -INFINITY) {
                s += expf(v - m);
            }
        }
        // Merge the lanes' (max, sum) pairs: a fixed butterfly, every lane ends with the row's pair.
        for (int o = 16; o > 0; o >>= 1) {
            const float m2 = __shfl_xor_sync(0xffffffffu, m, o), s2 = __shfl_xor_sync(0xffffffffu, s, o);
            const float mm = fmaxf(m, m2);
            if (mm != -INFINITY) s = s * expf(m - mm) + s2 * expf(m2 - mm);
            m = mm;
        }
        const float inv = 1.0f / s;
        for (int i = lane; i < cols; i += 32) yr[i] = expf(xr[i] - m) * inv;
    }
}

static int sm1_forward(const float* x, float* y, int64_t rows, int cols, void* stream) {
    if (rows <= 0 || cols <= 0) return 0;
    sm1_forward_kernel<<<ct_grid_for(rows, SM1_WARPS), SM1_WARPS * 32, 0, CT_STREAM(stream)>>>(x, y, rows, cols);
    return (int)cudaGetLastError();
}

using ForwardFn = int (*)(const float*, float*, int64_t, int, void*);
using BackwardFn = int (*)(const float*, const float*, float*, int64_t, int, void*);
static const dev::Variant<ForwardFn> kForward[] = {{"library", ct_softmax_forward_cuda}, {"online", sm1_forward}};
static const dev::Variant<BackwardFn> kBackward[] = {{"library", ct_softmax_backward_cuda}};

// Shapes (rows, cols): many short rows and fewer long ones are timed; odd sizes otherwise. masked: an eighth of the
// entries are -inf (never a row's first, so that no row is all -inf, which gives NaN by softmax.h's rule).
struct Shape {
    int64_t rows;
    int cols;
    bool timed, masked;
};
static const Shape kShapes[] = {{65536, 16, true, false}, {1024, 4096, true, false}, {1, 1, false, false},
                                {333, 7, false, true},    {64, 1000, false, true},   {17, 4097, false, false}};

static std::vector<float> logits(const Shape& sh, dev::Rng& rng) {
    std::vector<float> x = dev::normal((size_t)sh.rows * sh.cols, rng);
    for (size_t k = 0; k < x.size(); k++) {
        x[k] *= 3.0f;
        if (sh.masked && k % sh.cols != 0 && rng.next() % 8 == 0) x[k] = -INFINITY;
    }
    return x;
}

// Number of times a running maximum grows over k values in random order: H_k = 1 + 1/2 + ... + 1/k on average.
static double harmonic(int k) {
    double h = 0.0;
    for (int i = 1; i <= k; i++) h += 1.0 / i;
    return h;
}

static void check_forward(const dev::Args& args) {
    printf("forward\n");
    dev::Rng rng(3);
    const int count = (int)(sizeof kForward / sizeof kForward[0]);
    if (dev::variant_missing(args, "forward", count)) return;
    for (const Shape& sh : kShapes) {
        const size_t n = (size_t)sh.rows * sh.cols;
        const std::vector<float> x = logits(sh, rng);
        std::vector<float> y(n);
        ct_softmax_forward_cpu(x.data(), y.data(), sh.rows, sh.cols);

        // Relative, per element: y = exp(x - m) / S. The argument x - m is the same float on both sides (the max
        // is exact), so the error is
        //   exp: 2 ulp (4u) for CUDA's expf, 4u for the CPU's polynomial ct_expf_nonpos (Cephes' expf, 1.7e-7
        //     relative at most, under 3u);
        //   S: the GPU's float sum of positive terms, sum_error(cols) relative (the CPU's is in double);
        //   v1's rescalings: each multiplies a partial sum by an expf and rounds (5u), once per growth of a lane's
        //     running max (twice the H_k expected for k random values per lane, a few) and once per level of the
        //     5-level merge; v0 has none, so the bound covers it with room;
        //   the reciprocal and the product: 2u per side.
        // Results below FLT_MIN (subnormal) keep no relative accuracy: FLT_MIN absolute covers them.
        const int per_lane = (sh.cols + 31) / 32;
        const double rel = 8.0 * kU + dev::sum_error(sh.cols) + 5.0 * kU * (2.0 * harmonic(per_lane) + 5.0) +
                           4.0 * kU;
        std::vector<double> tol(n);
        for (size_t k = 0; k < n; k++) tol[k] = rel * std::fabs(y[k]) + 1.1754944e-38;

        dev::DeviceBuffer<float> dx(x), dy(n);
        const std::string shape = dev::shape("rows=%lld cols=%d%s", (long long)sh.rows, sh.cols,
                                             sh.masked ? " masked" : "");
        for (int v = 0; v < count; v++) {
            if (!args.wants_variant(v)) continue;
            DEV_CT(kForward[v].fn(dx.ptr, dy.ptr, sh.rows, sh.cols, nullptr));
            DEV_CT(ct_cuda_device_synchronize());
            printf("  v%d %s %s\n", v, kForward[v].name, shape.c_str());
            dev::compare("y", y, dy.download(), tol);
            if (args.time && sh.timed) {
                const double us = dev::time_us(
                    [&] { return kForward[v].fn(dx.ptr, dy.ptr, sh.rows, sh.cols, nullptr); }, args.repeats);
                dev::report_time("forward", v, kForward[v].name, shape, us, 8.0 * n);  // read x, write y
            }
        }
    }
}

static void check_backward(const dev::Args& args) {
    printf("backward\n");
    dev::Rng rng(4);
    const int count = (int)(sizeof kBackward / sizeof kBackward[0]);
    if (dev::variant_missing(args, "backward", count)) return;
    for (const Shape& sh : kShapes) {
        const size_t n = (size_t)sh.rows * sh.cols;
        const std::vector<float> x = logits(sh, rng);
        std::vector<float> y(n);
        ct_softmax_forward_cpu(x.data(), y.data(), sh.rows, sh.cols);
        const std::vector<float> gy = dev::normal(n, rng), dx0 = dev::normal(n, rng);  // accumulates: dx0 != 0
        std::vector<float> gx = dx0;
        ct_softmax_backward_cpu(y.data(), gy.data(), gx.data(), sh.rows, sh.cols);

        // dx = y (dy - d), d = <dy, y>: the GPU's float dot errs by (sum_error(cols) + u) sum|dy y| (the sum and
        // its products), the CPU's rounding of its double dot by u |d|; then dy - d and the product round on each
        // side (4u |dy - d| relative to y), and each side rounds the accumulation (2u |dx|).
        std::vector<double> tol(n);
        for (int64_t r = 0; r < sh.rows; r++) {
            double dot = 0.0, abs_dot = 0.0;
            for (int i = 0; i < sh.cols; i++) {
                const size_t k = (size_t)r * sh.cols + i;
                dot += (double)gy[k] * y[k];
                abs_dot += std::fabs((double)gy[k] * y[k]);
            }
            const double err_dot = (dev::sum_error(sh.cols) + kU) * abs_dot + kU * std::fabs(dot);
            for (int i = 0; i < sh.cols; i++) {
                const size_t k = (size_t)r * sh.cols + i;
                tol[k] = std::fabs(y[k]) * (err_dot + 4.0 * kU * std::fabs(gy[k] - dot)) + 2.0 * kU * std::fabs(gx[k]);
            }
        }

        dev::DeviceBuffer<float> d_y(y), d_gy(gy), d_gx(n);
        const std::string shape = dev::shape("rows=%lld cols=%d%s", (long long)sh.rows, sh.cols,
                                             sh.masked ? " masked" : "");
        for (int v = 0; v < count; v++) {
            if (!args.wants_variant(v)) continue;
            d_gx.upload(dx0);
            DEV_CT(kBackward[v].fn(d_y.ptr, d_gy.ptr, d_gx.ptr, sh.rows, sh.cols, nullptr));
            DEV_CT(ct_cuda_device_synchronize());
            printf("  v%d %s %s\n", v, kBackward[v].name, shape.c_str());
            dev::compare("dx", gx, d_gx.download(), tol);
            if (args.time && sh.timed) {
                const double us = dev::time_us(
                    [&] { return kBackward[v].fn(d_y.ptr, d_gy.ptr, d_gx.ptr, sh.rows, sh.cols, nullptr); },
                    args.repeats);
                dev::report_time("backward", v, kBackward[v].name, shape, us, 16.0 * n);  // read y, dy, dx; write dx
            }
        }
    }
}

int main(int argc, char** argv) {
    const dev::Args args = dev::parse_args(argc, argv, "softmax_dev", {"forward", "backward"});
    // A variant number the named op lacks is a bad argument (exit 2), with or without a GPU.
    dev::variant_missing(args, "forward", (int)(sizeof kForward / sizeof kForward[0]));
    dev::variant_missing(args, "backward", (int)(sizeof kBackward / sizeof kBackward[0]));
    if (dev::skip_without_gpu("softmax_dev")) return 0;
    if (args.wants("forward")) check_forward(args);
    if (args.wants("backward")) check_backward(args);
    return dev::finish("softmax_dev");
}
