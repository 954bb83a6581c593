// softmax.cu: CUDA kernels of softmax.h. One warp per row with a loop over the columns, so that both shapes in use
// run well: many short rows (cols = 16: a few rows per block, the warp's loop runs once) and fewer long ones
// (cols in the thousands: 32 lanes stride over the row, coalesced). Row max and sums are warp shuffle reductions:
// a fixed tree, deterministic. The forward makes three passes over the row (max, sum of exp, write) as in
// softmax.cpp; the second and third reads hit the cache.
#include "cotrain/softmax.h"
#include "cuda_common.cuh"

#define CT_SOFTMAX_WARPS 8  // rows per block (256 threads)

// x, y: (rows, cols)
__global__ void ct_softmax_forward_kernel(const float* x, float* y, int64_t rows, int cols) {
    int lane = threadIdx.x % 32;
    int64_t warps_total = (int64_t)gridDim.x * CT_SOFTMAX_WARPS;
    for (int64_t r = (int64_t)blockIdx.x * CT_SOFTMAX_WARPS + threadIdx.x / 32; r < rows; r += warps_total) {
        const float* xr = x + r * cols;
        float* yr = y + r * cols;
        float m = -INFINITY;
        for (int i = lane; i < cols; i += 32) m = fmaxf(m, xr[i]);
        m = ct_warp_max(m);
        float sum = 0.0f;
        for (int i = lane; i < cols; i += 32) sum += expf(xr[i] - m);
        float inv = 1.0f / ct_warp_sum(sum);
        for (int i = lane; i < cols; i += 32) yr[i] = expf(xr[i] - m) * inv;
    }
}

// dx += y * (dy - <dy, y>_row); y, dy, dx: (rows, cols)
__global__ void ct_softmax_backward_kernel(const float* y, const float* dy, float* dx, int64_t rows, int cols) {
    int lane = threadIdx.x % 32;
    int64_t warps_total = (int64_t)gridDim.x * CT_SOFTMAX_WARPS;
    for (int64_t r = (int64_t)blockIdx.x * CT_SOFTMAX_WARPS + threadIdx.x / 32; r < rows; r += warps_total) {
        const float* yr = y + r * cols;
        const float* dyr = dy + r * cols;
        float* dxr = dx + r * cols;
        float dot = 0.0f;
        for (int i = lane; i < cols; i += 32) dot += dyr[i] * yr[i];
        dot = ct_warp_sum(dot);
        for (int i = lane; i < cols; i += 32) dxr[i] += yr[i] * (dyr[i] - dot);
    }
}

CT_API int ct_softmax_forward_cuda(const float* x, float* y, int64_t rows, int cols, void* stream) {
    if (rows <= 0 || cols <= 0) return 0;
    ct_softmax_forward_kernel<<<ct_grid_for(rows, CT_SOFTMAX_WARPS), CT_SOFTMAX_WARPS * 32, 0, CT_STREAM(stream)>>>(
        x, y, rows, cols);
    return ct_launch_status();
}

CT_API int ct_softmax_backward_cuda(const float* y, const float* dy, float* dx, int64_t rows, int cols,
                                    void* stream) {
    if (rows <= 0 || cols <= 0) return 0;
    ct_softmax_backward_kernel<<<ct_grid_for(rows, CT_SOFTMAX_WARPS), CT_SOFTMAX_WARPS * 32, 0, CT_STREAM(stream)>>>(
        y, dy, dx, rows, cols);
    return ct_launch_status();
}
