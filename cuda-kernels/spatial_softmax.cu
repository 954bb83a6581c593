// spatial_softmax.cu: CUDA kernels of the keypoint head, see spatial_softmax.h and the CPU reference in
// native/src/spatial_softmax.cpp.
//
// One group of G lanes per map (G = 4, 8, 16 or 32, the smallest power of two that covers H * W, capped at a
// warp): the typical map is 3x3 (ResNet18 trunk on an 84x84 crop), so a whole warp per map would leave most lanes
// idle, while a 64x64 map gets a full warp that strides over it. Each lane walks its map with stride G (coalesced
// within the group), and the max, the softmax denominator and the two expectations are reduced with xor-shuffles
// inside the group: a fixed tree, so results are deterministic. The backward recomputes P from x.
#include <math.h>

#include "cotrain/spatial_softmax.h"
#include "cuda_common.cuh"

static constexpr int kBlock = 256;

// Same float expression as the CPU reference: linspace(-1, 1, size)[i], or -1 when size == 1.
__device__ __forceinline__ float grid_coord(int i, int size) {
    return size > 1 ? -1.0f + (float)(2 * i) / (float)(size - 1) : -1.0f;
}

// Reductions over an aligned group of G lanes (xor offsets < G never leave the group). Every lane of the warp must
// call them, including those of a group with no map: the mask is the full warp.
template <int G>
__device__ __forceinline__ float group_max(float v) {
#pragma unroll
    for (int o = G / 2; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

template <int G>
__device__ __forceinline__ float group_sum(float v) {
#pragma unroll
    for (int o = G / 2; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// The per-map statistics of the softmax, computed by the G lanes of one group (all lanes get the results):
// the max of x, s = sum exp((x - max) / temperature), and the sums weighted by gx and gy.
template <int G>
__device__ __forceinline__ void map_stats(const float* xm, bool active, int h, int w, float temperature, int lane,
                                          float* mx_out, float* s_out, float* sx_out, float* sy_out) {
    const int64_t hw = (int64_t)h * w;
    float mx = -INFINITY;
    if (active) {
        for (int64_t i = lane; i < hw; i += G) mx = fmaxf(mx, xm[i]);
    }
    mx = group_max<G>(mx);
    float s = 0.0f, sx = 0.0f, sy = 0.0f;
    if (active) {
        for (int64_t i = lane; i < hw; i += G) {
            int r = (int)(i / w), c = (int)(i - (int64_t)r * w);
            float e = expf((xm[i] - mx) / temperature);
            s += e;
            sx += e * grid_coord(c, w);
            sy += e * grid_coord(r, h);
        }
    }
    *mx_out = mx;
    *s_out = group_sum<G>(s);
    *sx_out = group_sum<G>(sx);
    *sy_out = group_sum<G>(sy);
}

// x: (n, H, W) -> out: (n, 2). A warp handles 32 / G maps per iteration of a warp-uniform grid-stride loop, so
// that every lane reaches the shuffles together.
template <int G>
__global__ void spatial_softmax_forward_kernel(const float* __restrict__ x, float* __restrict__ out, int64_t n,
                                               int h, int w, float temperature) {
    constexpr int kMapsPerWarp = 32 / G;
    const int64_t hw = (int64_t)h * w;
    const int lane = threadIdx.x % G;
    const int group = (threadIdx.x % 32) / G;
    const int64_t warp = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    const int64_t num_warps = ((int64_t)gridDim.x * blockDim.x) / 32;
    for (int64_t first = warp * kMapsPerWarp; first < n; first += num_warps * kMapsPerWarp) {
        const int64_t m = first + group;
        const bool active = m < n;
        const float* xm = x + (active ? m : 0) * hw;
        float mx, s, sx, sy;
        map_stats<G>(xm, active, h, w, temperature, lane, &mx, &s, &sx, &sy);
        if (active && lane == 0) {
            out[2 * m + 0] = sx / s;
            out[2 * m + 1] = sy / s;
        }
    }
}

// dx[m, r, c] += P[r, c] (dout[m,0] (gx[c] - out[m,0]) + dout[m,1] (gy[r] - out[m,1])) / temperature
template <int G>
__global__ void spatial_softmax_backward_kernel(const float* __restrict__ x, const float* __restrict__ out,
                                                const float* __restrict__ dout, float* __restrict__ dx, int64_t n,
                                                int h, int w, float temperature) {
    constexpr int kMapsPerWarp = 32 / G;
    const int64_t hw = (int64_t)h * w;
    const int lane = threadIdx.x % G;
    const int group = (threadIdx.x % 32) / G;
    const int64_t warp = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    const int64_t num_warps = ((int64_t)gridDim.x * blockDim.x) / 32;
    for (int64_t first = warp * kMapsPerWarp; first < n; first += num_warps * kMapsPerWarp) {
        const int64_t m = first + group;
        const bool active = m < n;
        const float* xm = x + (active ? m : 0) * hw;
        float mx, s, sx, sy;
        map_stats<G>(xm, active, h, w, temperature, lane, &mx, &s, &sx, &sy);
        if (!active) continue;  // no shuffles below this point
        const float inv_s = 1.0f / s;
        const float ox = out[2 * m + 0], oy = out[2 * m + 1];
        const float dox = dout[2 * m + 0], doy = dout[2 * m + 1];
        float* dxm = dx + m * hw;
        for (int64_t i = lane; i < hw; i += G) {
            int r = (int)(i / w), c = (int)(i - (int64_t)r * w);
            float p = expf((xm[i] - mx) / temperature) * inv_s;
            dxm[i] += p * (dox * (grid_coord(c, w) - ox) + doy * (grid_coord(r, h) - oy)) / temperature;
        }
    }
}

// The smallest group that covers the map, so small maps share a warp.
static int group_size(int64_t hw) {
    if (hw <= 4) return 4;
    if (hw <= 8) return 8;
    if (hw <= 16) return 16;
    return 32;
}

// Enough warps for every map (32 / G maps each), capped by ct_grid_for; the kernels stride over the rest.
static unsigned int blocks_for(int64_t n, int g) {
    int64_t maps_per_warp = 32 / g;
    int64_t warps = (n + maps_per_warp - 1) / maps_per_warp;
    return ct_grid_for(warps * 32, kBlock);
}

CT_API int ct_spatial_softmax_forward_cuda(const float* x, float* out, int64_t n, int h, int w,
                                           float temperature, void* stream) {
    if (n <= 0) return 0;
    const int g = group_size((int64_t)h * w);
    const unsigned int blocks = blocks_for(n, g);
    cudaStream_t s = CT_STREAM(stream);
    switch (g) {
        case 4: spatial_softmax_forward_kernel<4><<<blocks, kBlock, 0, s>>>(x, out, n, h, w, temperature); break;
        case 8: spatial_softmax_forward_kernel<8><<<blocks, kBlock, 0, s>>>(x, out, n, h, w, temperature); break;
        case 16: spatial_softmax_forward_kernel<16><<<blocks, kBlock, 0, s>>>(x, out, n, h, w, temperature); break;
        default: spatial_softmax_forward_kernel<32><<<blocks, kBlock, 0, s>>>(x, out, n, h, w, temperature); break;
    }
    return ct_launch_status();
}

CT_API int ct_spatial_softmax_backward_cuda(const float* x, const float* out, const float* dout, float* dx,
                                            int64_t n, int h, int w, float temperature, void* stream) {
    if (n <= 0 || (int64_t)h * w <= 0) return 0;  // nothing to accumulate into
    const int g = group_size((int64_t)h * w);
    const unsigned int blocks = blocks_for(n, g);
    cudaStream_t s = CT_STREAM(stream);
    switch (g) {
        case 4:
            spatial_softmax_backward_kernel<4><<<blocks, kBlock, 0, s>>>(x, out, dout, dx, n, h, w, temperature);
            break;
        case 8:
            spatial_softmax_backward_kernel<8><<<blocks, kBlock, 0, s>>>(x, out, dout, dx, n, h, w, temperature);
            break;
        case 16:
            spatial_softmax_backward_kernel<16><<<blocks, kBlock, 0, s>>>(x, out, dout, dx, n, h, w, temperature);
            break;
        default:
            spatial_softmax_backward_kernel<32><<<blocks, kBlock, 0, s>>>(x, out, dout, dx, n, h, w, temperature);
            break;
    }
    return ct_launch_status();
}
