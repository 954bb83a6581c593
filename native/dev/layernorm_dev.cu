// layernorm_dev.cu: LayerNorm (layernorm.h) on CUDA against the CPU reference, and timed.
//   layernorm_dev [forward|backward|all] [variant|all] [--repeats N] [--no-time]
// forward  v0 library        one warp per row (cuda-kernels/layernorm.cu)
//          v1 block_per_row  one block of 128 threads per row, block-wide reductions: more threads on a long row
// backward v0 library        dx: one warp per row; dweight, dbias: column blocks with a fixed reduction tree
//
// Tolerances: the CPU accumulates in double, the GPU in float, so the bound is the GPU's float error plus both
// sides' final roundings, per element, from the values of this very input (row means of |x|, |g|, ...).
#include "cotrain/layernorm.h"
#include "cuda_common.cuh"
#include "dev_common.h"

using dev::kU;

// ---- variant 1 of the forward: one block per row ---------------------------------------------------------------

#define LN1_THREADS 128

// Sum over the block: warp shuffle trees, then the warp totals in a fixed order. Every thread gets the total.
__device__ float ln1_block_sum(float v, float* partial) {
    v = ct_warp_sum(v);
    if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = v;
    __syncthreads();
    float total = 0.0f;
    for (int w = 0; w < LN1_THREADS / 32; w++) total += partial[w];
    __syncthreads();  // partial is reused by the next reduction
    return total;
}

// x, y: (rows, C); weight, bias: (C); mean, rstd: (rows)
__global__ void ln1_forward_kernel(const float* x, const float* weight, const float* bias, float* y, float* mean,
                                   float* rstd, int64_t rows, int c, float eps) {
    __shared__ float partial[LN1_THREADS / 32];
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* xr = x + r * c;
        float* yr = y + r * c;
        float sum = 0.0f;
        for (int i = threadIdx.x; i < c; i += LN1_THREADS) sum += xr[i];
        const float m = ln1_block_sum(sum, partial) / c;
        float sq = 0.0f;  // two passes, as v0 and the CPU
        for (int i = threadIdx.x; i < c; i += LN1_THREADS) {
            const float d = xr[i] - m;
            sq += d * d;
        }
        const float s = 1.0f / sqrtf(ln1_block_sum(sq, partial) / c + eps);
        for (int i = threadIdx.x; i < c; i += LN1_THREADS) yr[i] = (xr[i] - m) * s * weight[i] + bias[i];
        if (threadIdx.x == 0) {
            mean[r] = m;
            rstd[r] = s;
        }
    }
}

static int ln1_forward(const float* x, const float* weight, const float* bias, float* y, float* mean, float* rstd,
                       int64_t rows, int c, float eps, void* stream) {
    if (rows <= 0 || c <= 0) return 0;
    ln1_forward_kernel<<<ct_grid_for(rows, 1), LN1_THREADS, 0, CT_STREAM(stream)>>>(x, weight, bias, y, mean, rstd,
                                                                                     rows, c, eps);
    return (int)cudaGetLastError();
}

using ForwardFn = int (*)(const float*, const float*, const float*, float*, float*, float*, int64_t, int, float,
                          void*);
using BackwardFn = int (*)(const float*, const float*, const float*, const float*, const float*, float*, float*,
                           float*, int64_t, int, void*);
static const dev::Variant<ForwardFn> kForward[] = {{"library", ct_layernorm_forward_cuda},
                                                   {"block_per_row", ln1_forward}};
static const dev::Variant<BackwardFn> kBackward[] = {{"library", ct_layernorm_backward_cuda}};

// Shapes (rows, C): DP-T's (batch 256 x horizon 10, n_emb 256) and a wide one are timed; the rest are odd sizes
// (C = 1, C below and just above a warp, rows not a multiple of the block).
struct Shape {
    int64_t rows;
    int c;
    bool timed;
};
static const Shape kShapes[] = {{2560, 256, true}, {16384, 768, true}, {1, 1, false},    {37, 1, false},
                                {1000, 33, false}, {7, 1023, false},   {300, 4097, false}};

static void check_forward(const dev::Args& args) {
    printf("forward\n");
    dev::Rng rng(1);
    const float eps = 1e-5f;
    const int count = (int)(sizeof kForward / sizeof kForward[0]);
    if (dev::variant_missing(args, "forward", count)) return;
    for (const Shape& sh : kShapes) {
        const int64_t rows = sh.rows;
        const int c = sh.c;
        const size_t n = (size_t)rows * c;
        // x with a row mean of about 3 and spread 2: the mean must be subtracted before the squares.
        std::vector<float> x = dev::normal(n, rng);
        for (auto& v : x) v = 2.0f * v + 3.0f;
        std::vector<float> w = dev::uniform(c, -1.5f, 1.5f, rng), b = dev::uniform(c, -1.0f, 1.0f, rng);
        std::vector<float> y(n), mean(rows), rstd(rows);
        ct_layernorm_forward_cpu(x.data(), w.data(), b.data(), y.data(), mean.data(), rstd.data(), rows, c, eps);

        // Per row, from the reference's mean m and rstd s (var = 1/s^2 - eps):
        //   mean: the GPU's float sum of C terms, sum_error(C) * mean|x|, then the division by C and the CPU's
        //     rounding of its double mean, u |m| each.
        //   rstd: the float sum of squares has relative error sum_error(C), plus 2u for each square's inputs
        //     (x - m and d * d rounded); the GPU's mean error dm enters only squared (the derivative of
        //     sum (x - m)^2 in m vanishes at the mean), as dm^2 per term. Relative to var + eps, halved by the
        //     square root; then 5u for /C, + eps, sqrtf, 1/x on the GPU and the CPU's rounding to float.
        //   y = (x - m) s w + b: |w| s (dm + |x - m| ds/s), plus three roundings of the products on each side
        //     (6u |w (x - m) s|) and each side's rounding of the sum (2u |y|).
        std::vector<double> tol_y(n), tol_mean(rows), tol_rstd(rows);
        for (int64_t r = 0; r < rows; r++) {
            double abs_sum = 0.0;
            for (int i = 0; i < c; i++) abs_sum += std::fabs(x[r * c + i]);
            const double m = mean[r], s = rstd[r];
            const double var_eps = 1.0 / (s * s), var = std::fmax(var_eps - eps, 0.0);
            tol_mean[r] = dev::sum_error(c) * abs_sum / c + 2.0 * kU * std::fabs(m);
            const double rel_s =
                0.5 * ((dev::sum_error(c) + 2.0 * kU) * var + tol_mean[r] * tol_mean[r]) / var_eps + 5.0 * kU;
            tol_rstd[r] = rel_s * s;
            for (int i = 0; i < c; i++) {
                const size_t k = (size_t)r * c + i;
                const double d = std::fabs(x[k] - m), ws = std::fabs(w[i]) * s;
                tol_y[k] = ws * (tol_mean[r] + d * (rel_s + 6.0 * kU)) + 2.0 * kU * std::fabs(y[k]);
            }
        }

        dev::DeviceBuffer<float> dx(x), dw(w), db(b), dy(n), dmean(rows), drstd(rows);
        const std::string shape = dev::shape("rows=%lld C=%d", (long long)rows, c);
        for (int v = 0; v < count; v++) {
            if (!args.wants_variant(v)) continue;
            DEV_CT(kForward[v].fn(dx.ptr, dw.ptr, db.ptr, dy.ptr, dmean.ptr, drstd.ptr, rows, c, eps, nullptr));
            DEV_CT(ct_cuda_device_synchronize());
            printf("  v%d %s %s\n", v, kForward[v].name, shape.c_str());
            dev::compare("y", y, dy.download(), tol_y);
            dev::compare("mean", mean, dmean.download(), tol_mean);
            dev::compare("rstd", rstd, drstd.download(), tol_rstd);
            if (args.time && sh.timed) {
                const double us = dev::time_us(
                    [&] { return kForward[v].fn(dx.ptr, dw.ptr, db.ptr, dy.ptr, dmean.ptr, drstd.ptr, rows, c, eps,
                                                nullptr); },
                    args.repeats);
                // read x, weight, bias; write y, mean, rstd
                dev::report_time("forward", v, kForward[v].name, shape, us, 4.0 * (2.0 * n + 2.0 * c + 2.0 * rows));
            }
        }
    }
}

static void check_backward(const dev::Args& args) {
    printf("backward\n");
    dev::Rng rng(2);
    const float eps = 1e-5f;
    const int count = (int)(sizeof kBackward / sizeof kBackward[0]);
    if (dev::variant_missing(args, "backward", count)) return;
    for (const Shape& sh : kShapes) {
        const int64_t rows = sh.rows;
        const int c = sh.c;
        const size_t n = (size_t)rows * c;
        std::vector<float> x = dev::normal(n, rng);
        for (auto& v : x) v = 2.0f * v + 3.0f;
        std::vector<float> w = dev::uniform(c, -1.5f, 1.5f, rng), b = dev::uniform(c, -1.0f, 1.0f, rng);
        std::vector<float> y(n), mean(rows), rstd(rows);
        ct_layernorm_forward_cpu(x.data(), w.data(), b.data(), y.data(), mean.data(), rstd.data(), rows, c, eps);
        // The backward accumulates: start from nonzero gradients, so that a kernel that overwrites fails.
        const std::vector<float> gy = dev::normal(n, rng), dx0 = dev::normal(n, rng);
        const std::vector<float> dw0 = dev::normal(c, rng), db0 = dev::normal(c, rng);
        std::vector<float> gx = dx0, gw = dw0, gb = db0;
        ct_layernorm_backward_cpu(gy.data(), x.data(), w.data(), mean.data(), rstd.data(), gx.data(), gw.data(),
                                  gb.data(), rows, c);

        // Both sides read the same float mean and rstd, so xhat = (x - m) s differs only by its two roundings (2u).
        // dx = s (g - mean_c(g) - xhat mean_c(g xhat)), g = dy w: the GPU's float row sums err by sum_error(C)
        //   times mean_c|g| and mean_c|g xhat| (plus 4u for the roundings inside g xhat, u for the division by C);
        //   then 4u for the subtractions and products on both sides, and the roundings of the accumulation into
        //   dx (each side u |dx|, the CPU's double-to-float conversion u |increment|).
        // dweight, dbias: column sums over the rows, sum_error(rows) times sum_r |dy xhat| (|dy|), plus 2u for
        //   the product's and xhat's roundings, and the accumulation's rounding on both sides (2u |result|).
        std::vector<double> tol_dx(n), tol_dw(c), tol_db(c), abs_gxh(c, 0.0), abs_gy(c, 0.0);
        for (int64_t r = 0; r < rows; r++) {
            const double m = mean[r], s = rstd[r];
            double g_abs = 0.0, gx_abs = 0.0, g_sum = 0.0, gx_sum = 0.0;
            for (int i = 0; i < c; i++) {
                const size_t k = (size_t)r * c + i;
                const double xhat = (x[k] - m) * s, g = (double)gy[k] * w[i];
                g_abs += std::fabs(g);
                gx_abs += std::fabs(g * xhat);
                g_sum += g;
                gx_sum += g * xhat;
                abs_gxh[i] += std::fabs(gy[k] * xhat);
                abs_gy[i] += std::fabs(gy[k]);
            }
            const double gmean = g_sum / c, gxmean = gx_sum / c;
            const double err_gmean = dev::sum_error(c) * g_abs / c + kU * std::fabs(gmean);
            const double err_gxmean = (dev::sum_error(c) + 4.0 * kU) * gx_abs / c + kU * std::fabs(gxmean);
            for (int i = 0; i < c; i++) {
                const size_t k = (size_t)r * c + i;
                const double xhat = (x[k] - m) * s, g = (double)gy[k] * w[i];
                const double inc = s * (g - gmean - xhat * gxmean);
                tol_dx[k] = s * (err_gmean + std::fabs(xhat) * err_gxmean +
                                 4.0 * kU * (std::fabs(g) + std::fabs(gmean) + std::fabs(xhat * gxmean))) +
                            kU * std::fabs(inc) + 2.0 * kU * std::fabs(gx[k]);
            }
        }
        for (int i = 0; i < c; i++) {
            tol_dw[i] = (dev::sum_error((double)rows) + 2.0 * kU) * abs_gxh[i] + 2.0 * kU * std::fabs(gw[i]);
            tol_db[i] = (dev::sum_error((double)rows) + kU) * abs_gy[i] + 2.0 * kU * std::fabs(gb[i]);
        }

        dev::DeviceBuffer<float> d_gy(gy), d_x(x), d_w(w), d_mean(mean), d_rstd(rstd);
        dev::DeviceBuffer<float> d_gx(n), d_gw(c), d_gb(c);
        const std::string shape = dev::shape("rows=%lld C=%d", (long long)rows, c);
        for (int v = 0; v < count; v++) {
            if (!args.wants_variant(v)) continue;
            d_gx.upload(dx0);
            d_gw.upload(dw0);
            d_gb.upload(db0);
            DEV_CT(kBackward[v].fn(d_gy.ptr, d_x.ptr, d_w.ptr, d_mean.ptr, d_rstd.ptr, d_gx.ptr, d_gw.ptr, d_gb.ptr,
                                   rows, c, nullptr));
            DEV_CT(ct_cuda_device_synchronize());
            printf("  v%d %s %s\n", v, kBackward[v].name, shape.c_str());
            dev::compare("dx", gx, d_gx.download(), tol_dx);
            dev::compare("dweight", gw, d_gw.download(), tol_dw);
            dev::compare("dbias", gb, d_gb.download(), tol_db);
            if (args.time && sh.timed) {
                const double us = dev::time_us(
                    [&] { return kBackward[v].fn(d_gy.ptr, d_x.ptr, d_w.ptr, d_mean.ptr, d_rstd.ptr, d_gx.ptr,
                                                 d_gw.ptr, d_gb.ptr, rows, c, nullptr); },
                    args.repeats);
                // read dy, x, dx and write dx; the parameter kernel reads dy and x again (mostly from L2 at
                // these sizes, counted once here); weight, mean, rstd, dweight, dbias are small
                dev::report_time("backward", v, kBackward[v].name, shape, us,
                                 4.0 * (4.0 * n + 2.0 * rows + 5.0 * c));
            }
        }
    }
}

int main(int argc, char** argv) {
    const dev::Args args = dev::parse_args(argc, argv, "layernorm_dev", {"forward", "backward"});
    // A variant number the named op lacks is a bad argument (exit 2), with or without a GPU.
    dev::variant_missing(args, "forward", (int)(sizeof kForward / sizeof kForward[0]));
    dev::variant_missing(args, "backward", (int)(sizeof kBackward / sizeof kBackward[0]));
    if (dev::skip_without_gpu("layernorm_dev")) return 0;
    if (args.wants("forward")) check_forward(args);
    if (args.wants("backward")) check_backward(args);
    return dev::finish("layernorm_dev");
}
