// film.cu: CUDA kernels of film.h (the math is in native/src/film.cpp).
//
// forward: a grid-stride loop over the B C T outputs (coalesced in x and y; the scale and bias of a row are read by
//   its T consecutive threads, from cache).
// backward: one warp per row (b, c); the lanes stride over T (coalesced), write dx, and the two sums over T are warp
//   reductions in a fixed tree (ct_warp_sum), so the result is the same on every run. T is 4 to 16 in DP-C, so most
//   lanes of a warp idle; the op moves 3 B C T floats, so this costs little next to the convolutions around it.
#include "cotrain/film.h"
#include "cuda_common.cuh"

static constexpr int kBlock = 256;             // a multiple of 32
static constexpr int kRowsPerBlock = kBlock / 32;

__global__ void ct_film_forward_kernel(const float* x, const float* __restrict__ cond, float* y,
                                       int c, int64_t t, int64_t total, int has_scale) {
    // x, y: (B, C, T); cond: (B, 2C) or (B, C). y may be x (each element read once, then written).
    const int64_t stride = has_scale ? 2 * (int64_t)c : (int64_t)c;
    const int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += step) {
        const int64_t r = i / t;
        const int64_t bi = r / c, ci = r - bi * c;
        const float xi = x[i];
        if (has_scale) {
            y[i] = cond[bi * stride + ci] * xi + cond[bi * stride + c + ci];
        } else {
            y[i] = xi + cond[bi * stride + ci];
        }
    }
}

__global__ void ct_film_backward_kernel(const float* __restrict__ dy, const float* __restrict__ x,
                                        const float* __restrict__ cond, float* __restrict__ dx,
                                        float* __restrict__ dcond, int c, int64_t t, int64_t rows, int has_scale) {
    const int64_t r = (int64_t)blockIdx.x * kRowsPerBlock + threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    if (r >= rows) return;  // the whole warp leaves together, so the shuffles below see full warps
    const int64_t stride = has_scale ? 2 * (int64_t)c : (int64_t)c;
    const int64_t bi = r / c, ci = r - bi * c;
    const float* dyr = dy + r * t;
    const float* xr = x + r * t;
    const float s = has_scale ? cond[bi * stride + ci] : 1.0f;
    float ss = 0.0f, sb = 0.0f;
    for (int64_t i = lane; i < t; i += 32) {
        const float d = dyr[i];
        sb += d;
        if (has_scale) ss += d * xr[i];
        if (dx) dx[r * t + i] = has_scale ? s * d : d;
    }
    sb = ct_warp_sum(sb);
    if (has_scale) {
        ss = ct_warp_sum(ss);
        if (lane == 0) {
            dcond[bi * stride + ci] = ss;
            dcond[bi * stride + c + ci] = sb;
        }
    } else if (lane == 0) {
        dcond[bi * stride + ci] = sb;
    }
}

CT_API int ct_film_forward_cuda(const float* x, const float* cond, float* y, int b, int c, int64_t t, int has_scale,
                                void* stream) {
    if (b <= 0 || c <= 0 || t <= 0) return 0;
    const int64_t total = (int64_t)b * c * t;
    ct_film_forward_kernel<<<ct_grid_for(total, kBlock), kBlock, 0, CT_STREAM(stream)>>>(x, cond, y, c, t, total,
                                                                                         has_scale);
    return ct_launch_status();
}

CT_API int ct_film_backward_cuda(const float* dy, const float* x, const float* cond, float* dx, float* dcond, int b,
                                 int c, int64_t t, int has_scale, void* stream) {
    if (b <= 0 || c <= 0) return 0;
    const int64_t rows = (int64_t)b * c;
    const int64_t blocks = (rows + kRowsPerBlock - 1) / kRowsPerBlock;
    if (blocks > 0x7fffffffLL) return (int)cudaErrorInvalidConfiguration;
    ct_film_backward_kernel<<<(unsigned int)blocks, kBlock, 0, CT_STREAM(stream)>>>(dy, x, cond, dx, dcond, c, t,
                                                                                    rows, has_scale);
    return ct_launch_status();
}
