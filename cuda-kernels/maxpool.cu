// maxpool.cu: CUDA kernels of maxpool.h (the CPU reference is native/src/maxpool.cpp).
//
// forward: one thread per output pixel, the same window loop and comparison (v > max or NaN) as the CPU.
// backward: one thread per INPUT pixel, gathering: the output windows that contain pixel (r, c) are rows
//   i in [ceil((r + PH - KH + 1) / SH), floor((r + PH) / SH)] and the same for columns (at most ceil(K / S)^2 of
//   them, 4 for ResNet's 3/2/1 stem); the thread adds dy of those whose argmax is this pixel, in row-major order.
//   A scatter (one thread per output) would need atomics where windows overlap, and so lose determinism.
#include <math.h>

#include "cotrain/maxpool.h"
#include "cuda_common.cuh"

static constexpr int kBlock = 256;

__global__ void ct_maxpool2d_forward_kernel(const float* __restrict__ x, float* __restrict__ y,
                                            int32_t* __restrict__ argmax, int64_t total, int h, int w, int ho,
                                            int wo, int kh, int kw, int sh, int sw, int ph, int pw) {
    const int64_t out_plane = (int64_t)ho * wo;
    for (int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += (int64_t)gridDim.x * blockDim.x) {
        const int64_t p = idx / out_plane;
        const int o = (int)(idx - p * out_plane);
        const int i = o / wo, j = o - (o / wo) * wo;
        const float* xp = x + p * h * (int64_t)w;
        const int r0 = i * sh - ph, c0 = j * sw - pw;
        const int r_lo = max(r0, 0), r_hi = min(r0 + kh, h);
        const int c_lo = max(c0, 0), c_hi = min(c0 + kw, w);
        float best = -INFINITY;
        int32_t best_i = r_lo * w + c_lo;
        for (int r = r_lo; r < r_hi; r++) {
            for (int c = c_lo; c < c_hi; c++) {
                const float v = xp[(int64_t)r * w + c];
                if (v > best || isnan(v)) {
                    best = v;
                    best_i = r * w + c;
                }
            }
        }
        y[idx] = best;
        argmax[idx] = best_i;
    }
}

__global__ void ct_maxpool2d_backward_kernel(const float* __restrict__ dy, const int32_t* __restrict__ argmax,
                                             float* __restrict__ dx, int64_t total, int h, int w, int ho, int wo,
                                             int kh, int kw, int sh, int sw, int ph, int pw) {
    const int64_t in_plane = (int64_t)h * w, out_plane = (int64_t)ho * wo;
    for (int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += (int64_t)gridDim.x * blockDim.x) {
        const int64_t p = idx / in_plane;
        const int pix = (int)(idx - p * in_plane);
        const int r = pix / w, c = pix - (pix / w) * w;
        const int ti = r + ph - kh + 1, tj = c + pw - kw + 1;
        const int i_lo = ti <= 0 ? 0 : (ti + sh - 1) / sh, i_hi = min((r + ph) / sh, ho - 1);
        const int j_lo = tj <= 0 ? 0 : (tj + sw - 1) / sw, j_hi = min((c + pw) / sw, wo - 1);
        const float* dyp = dy + p * out_plane;
        const int32_t* ap = argmax + p * out_plane;
        float sum = 0.0f;
        bool any = false;
        for (int i = i_lo; i <= i_hi; i++) {
            for (int j = j_lo; j <= j_hi; j++) {
                const int o = i * wo + j;
                if (ap[o] == pix) {
                    sum += dyp[o];
                    any = true;
                }
            }
        }
        if (any) dx[idx] += sum;
    }
}

CT_API int ct_maxpool2d_forward_cuda(const float* x, float* y, int32_t* argmax, int64_t planes, int h, int w,
                                     int kh, int kw, int sh, int sw, int ph, int pw, void* stream) {
    const int ho = (h + 2 * ph - kh) / sh + 1, wo = (w + 2 * pw - kw) / sw + 1;
    if (planes <= 0 || ho <= 0 || wo <= 0) return 0;
    const int64_t total = planes * ho * (int64_t)wo;
    ct_maxpool2d_forward_kernel<<<ct_grid_for(total, kBlock), kBlock, 0, CT_STREAM(stream)>>>(
        x, y, argmax, total, h, w, ho, wo, kh, kw, sh, sw, ph, pw);
    return ct_launch_status();
}

CT_API int ct_maxpool2d_backward_cuda(const float* dy, const int32_t* argmax, float* dx, int64_t planes, int h,
                                      int w, int kh, int kw, int sh, int sw, int ph, int pw, void* stream) {
    const int ho = (h + 2 * ph - kh) / sh + 1, wo = (w + 2 * pw - kw) / sw + 1;
    if (planes <= 0 || ho <= 0 || wo <= 0 || h <= 0 || w <= 0) return 0;
    const int64_t total = planes * h * (int64_t)w;
    ct_maxpool2d_backward_kernel<<<ct_grid_for(total, kBlock), kBlock, 0, CT_STREAM(stream)>>>(
        dy, argmax, dx, total, h, w, ho, wo, kh, kw, sh, sw, ph, pw);
    return ct_launch_status();
}
