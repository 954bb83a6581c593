// bce.cu: CUDA kernels of bce.h, binary cross-entropy on logits, one grid-stride loop per op, in double as the CPU
// reference (bce.cpp).
#include <math.h>

#include "cotrain/bce.h"
#include "cuda_common.cuh"

static constexpr int kBlock = 256;

// x, y, out: (n)
__global__ void bce_logits_forward_kernel(const float* __restrict__ x, const float* __restrict__ y,
                                          float* __restrict__ out, int64_t n) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const double xi = x[i];
        out[i] = (float)(fmax(xi, 0.0) - xi * (double)y[i] + log1p(exp(-fabs(xi))));
    }
}

// x, y, dx: (n); dloss: (1)
__global__ void bce_logits_backward_kernel(const float* __restrict__ x, const float* __restrict__ y,
                                           const float* __restrict__ dloss, float* __restrict__ dx, int64_t n,
                                           float scale) {
    const double g = (double)scale * (double)dloss[0];
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const double s = 1.0 / (1.0 + exp(-(double)x[i]));
        dx[i] += (float)(g * (s - (double)y[i]));
    }
}

CT_API int ct_bce_logits_forward_cuda(const float* x, const float* y, float* out, int64_t n, void* stream) {
    if (n <= 0) return 0;
    bce_logits_forward_kernel<<<ct_grid_for(n, kBlock), kBlock, 0, CT_STREAM(stream)>>>(x, y, out, n);
    return ct_launch_status();
}

CT_API int ct_bce_logits_backward_cuda(const float* x, const float* y, const float* dloss, float* dx, int64_t n,
                                       float scale, void* stream) {
    if (n <= 0) return 0;
    bce_logits_backward_kernel<<<ct_grid_for(n, kBlock), kBlock, 0, CT_STREAM(stream)>>>(x, y, dloss, dx, n, scale);
    return ct_launch_status();
}
