// permute.cu: CUDA twin of permute.cpp. One thread per element of the head block, numbered in x's order
// (b, t, h, d) so that consecutive threads read or write consecutive floats of a row of x; on the head-major side
// each run of HS consecutive threads touches HS consecutive floats. Every element has one writer: no atomics, and
// the results equal the CPU's bit for bit (a copy, or one float addition).
#include "cotrain/permute.h"
#include "cuda_common.cuh"

static const int PERMUTE_BLOCK = 256;

// Index of element e = ((b * T + t) * NH + h) * HS + d of the block in x (B, T, W) and in the head-major (B, NH,
// T, HS) tensor.
__device__ __forceinline__ void permute_indices(int64_t e, int t, int nh, int hs, int64_t w, int64_t col,
                                                int64_t* xi, int64_t* hi) {
    const int64_t c = (int64_t)nh * hs;
    const int64_t r = e / c;          // row of x: b * T + t
    const int64_t j = e - r * c;      // column inside the block: h * HS + d
    const int64_t bi = r / t;
    const int64_t ti = r - bi * t;
    const int64_t h = j / hs;
    const int64_t d = j - h * hs;
    *xi = r * w + col + j;
    *hi = ((bi * nh + h) * t + ti) * hs + d;
}

__global__ void split_heads_kernel(const float* __restrict__ x, float* __restrict__ out, int64_t n, int t, int nh,
                                   int hs, int64_t w, int64_t col, int accumulate) {
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += (int64_t)gridDim.x * blockDim.x) {
        int64_t xi, hi;
        permute_indices(e, t, nh, hs, w, col, &xi, &hi);
        out[hi] = accumulate ? out[hi] + x[xi] : x[xi];
    }
}

__global__ void merge_heads_kernel(const float* __restrict__ y, float* __restrict__ x, int64_t n, int t, int nh,
                                   int hs, int64_t w, int64_t col, int accumulate) {
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += (int64_t)gridDim.x * blockDim.x) {
        int64_t xi, hi;
        permute_indices(e, t, nh, hs, w, col, &xi, &hi);
        x[xi] = accumulate ? x[xi] + y[hi] : y[hi];
    }
}

CT_API int ct_split_heads_cuda(const float* x, float* out, int b, int t, int nh, int hs, int64_t w, int64_t col,
                               int accumulate, void* stream) {
    const int64_t n = (int64_t)b * t * nh * hs;
    if (n <= 0) return 0;
    split_heads_kernel<<<ct_grid_for(n, PERMUTE_BLOCK), PERMUTE_BLOCK, 0, CT_STREAM(stream)>>>(x, out, n, t, nh, hs,
                                                                                               w, col, accumulate);
    return ct_launch_status();
}

CT_API int ct_merge_heads_cuda(const float* y, float* x, int b, int t, int nh, int hs, int64_t w, int64_t col,
                               int accumulate, void* stream) {
    const int64_t n = (int64_t)b * t * nh * hs;
    if (n <= 0) return 0;
    merge_heads_kernel<<<ct_grid_for(n, PERMUTE_BLOCK), PERMUTE_BLOCK, 0, CT_STREAM(stream)>>>(y, x, n, t, nh, hs, w,
                                                                                               col, accumulate);
    return ct_launch_status();
}
