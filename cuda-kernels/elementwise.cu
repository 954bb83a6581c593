// elementwise.cu: CUDA kernels of elementwise.h. Memory-bound grid-stride loops: one float in and out per thread
// per iteration, consecutive threads on consecutive elements (coalesced). out may alias a or b: each thread reads
// its element before writing it, and no thread touches another's element.
#include "cotrain/elementwise.h"
#include "cuda_common.cuh"

#define CT_EW_BLOCK 256

__global__ void ct_fill_kernel(float* out, float value, int64_t n) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        out[i] = value;
    }
}

__global__ void ct_axpby_kernel(const float* a, const float* b, float* out, float alpha, float beta, int64_t n) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        out[i] = alpha * a[i] + beta * b[i];
    }
}

__global__ void ct_mul_kernel(const float* a, const float* b, float* out, int64_t n) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        out[i] = a[i] * b[i];
    }
}

// a, out: (rows, cols); b: (cols). Flat index i is row i / cols, column i % cols. Index is int64_t in general and
// uint32_t when everything fits (a 64-bit division costs several times a 32-bit one).
template <typename Index>
__global__ void ct_add_broadcast_kernel(const float* a, const float* b, float* out, Index n, Index cols) {
    for (Index i = (Index)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (Index)gridDim.x * blockDim.x) {
        out[i] = a[i] + b[i % cols];
    }
}

CT_API int ct_fill_cuda(float* out, float value, int64_t n, void* stream) {
    if (n <= 0) return 0;
    ct_fill_kernel<<<ct_grid_for(n, CT_EW_BLOCK), CT_EW_BLOCK, 0, CT_STREAM(stream)>>>(out, value, n);
    return ct_launch_status();
}

CT_API int ct_axpby_cuda(const float* a, const float* b, float* out, float alpha, float beta, int64_t n,
                         void* stream) {
    if (n <= 0) return 0;
    ct_axpby_kernel<<<ct_grid_for(n, CT_EW_BLOCK), CT_EW_BLOCK, 0, CT_STREAM(stream)>>>(a, b, out, alpha, beta, n);
    return ct_launch_status();
}

CT_API int ct_mul_cuda(const float* a, const float* b, float* out, int64_t n, void* stream) {
    if (n <= 0) return 0;
    ct_mul_kernel<<<ct_grid_for(n, CT_EW_BLOCK), CT_EW_BLOCK, 0, CT_STREAM(stream)>>>(a, b, out, n);
    return ct_launch_status();
}

CT_API int ct_add_broadcast_cuda(const float* a, const float* b, float* out, int64_t rows, int64_t cols,
                                 void* stream) {
    int64_t n = rows * cols;
    if (n <= 0) return 0;
    unsigned int grid = ct_grid_for(n, CT_EW_BLOCK);
    // 32-bit indexing when i + gridDim * blockDim (the last step of the loop) cannot wrap around.
    if (n + (int64_t)grid * CT_EW_BLOCK <= (int64_t)UINT32_MAX) {
        ct_add_broadcast_kernel<uint32_t><<<grid, CT_EW_BLOCK, 0, CT_STREAM(stream)>>>(a, b, out, (uint32_t)n,
                                                                                      (uint32_t)cols);
    } else {
        ct_add_broadcast_kernel<int64_t><<<grid, CT_EW_BLOCK, 0, CT_STREAM(stream)>>>(a, b, out, n, cols);
    }
    return ct_launch_status();
}
