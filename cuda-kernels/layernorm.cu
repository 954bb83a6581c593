// layernorm.cu: CUDA kernels of layernorm.h (the math is in layernorm.cpp).
//
// forward and dx: one warp per row. Each lane strides over the row's C columns (coalesced: the warp reads 32
//   consecutive floats at a time), the row sums are warp reductions (a fixed shuffle tree, so deterministic),
//   and every row is independent. C = 256 means 8 floats per lane; any C works, including C < 32.
// dweight, dbias: column sums over all rows, computed without atomics by a second kernel in which each block owns
//   CT_LN_COLS columns: its threads split the rows in a fixed interleaving, and the partial sums are added in a
//   fixed tree in shared memory, so the result is the same on every run.
#include "cotrain/layernorm.h"
#include "cuda_common.cuh"

#define CT_LN_WARPS 8  // rows per block of the row kernels (256 threads)

// x, y: (rows, C); weight, bias: (C); mean, rstd: (rows)
__global__ void ct_layernorm_forward_kernel(const float* x, const float* weight, const float* bias, float* y,
                                            float* mean, float* rstd, int64_t rows, int c, float eps) {
    int lane = threadIdx.x % 32;
    int64_t warps_total = (int64_t)gridDim.x * CT_LN_WARPS;
    for (int64_t r = (int64_t)blockIdx.x * CT_LN_WARPS + threadIdx.x / 32; r < rows; r += warps_total) {
        const float* xr = x + r * c;
        float* yr = y + r * c;
        float sum = 0.0f;
        for (int i = lane; i < c; i += 32) sum += xr[i];
        float m = ct_warp_sum(sum) / c;
        // two passes (mean, then squared deviations) as on the CPU: no E[x^2] - E[x]^2 cancellation
        float sq = 0.0f;
        for (int i = lane; i < c; i += 32) {
            float d = xr[i] - m;
            sq += d * d;
        }
        float s = 1.0f / sqrtf(ct_warp_sum(sq) / c + eps);  // biased variance, eps inside the root
        for (int i = lane; i < c; i += 32) yr[i] = (xr[i] - m) * s * weight[i] + bias[i];
        if (lane == 0) {
            mean[r] = m;
            rstd[r] = s;
        }
    }
}

// dx += rstd * (g - mean_c(g) - xhat * mean_c(g * xhat)), g = dy * weight, xhat = (x - mean) * rstd
__global__ void ct_layernorm_backward_dx_kernel(const float* dy, const float* x, const float* weight,
                                                const float* mean, const float* rstd, float* dx, int64_t rows,
                                                int c) {
    int lane = threadIdx.x % 32;
    int64_t warps_total = (int64_t)gridDim.x * CT_LN_WARPS;
    for (int64_t r = (int64_t)blockIdx.x * CT_LN_WARPS + threadIdx.x / 32; r < rows; r += warps_total) {
        const float* dyr = dy + r * c;
        const float* xr = x + r * c;
        float* dxr = dx + r * c;
        float m = mean[r], s = rstd[r];
        // g is rounded on its own (__fmul_rn cannot be fused into the subtraction below), so that g - mean_c(g) is
        // exactly 0 where it should be (C = 1): a fused residual would be amplified by rstd = 1/sqrt(eps).
        float gsum = 0.0f, gxsum = 0.0f;
        for (int i = lane; i < c; i += 32) {
            float xhat = (xr[i] - m) * s;
            float g = __fmul_rn(dyr[i], weight[i]);
            gsum += g;
            gxsum += g * xhat;
        }
        float gmean = ct_warp_sum(gsum) / c;
        float gxmean = ct_warp_sum(gxsum) / c;
        for (int i = lane; i < c; i += 32) {
            float xhat = (xr[i] - m) * s;
            float g = __fmul_rn(dyr[i], weight[i]);
            dxr[i] += s * (g - gmean - xhat * gxmean);
        }
    }
}

// dweight += sum_r dy * xhat, dbias += sum_r dy. A block covers CT_LN_COLS adjacent columns with
// CT_LN_ROW_LANES threads per column; thread (lane_row, col) sums rows lane_row, lane_row + CT_LN_ROW_LANES, ...
// A warp reads 4 rows x 8 columns = four full 32-byte sectors per step.
#define CT_LN_COLS 8
#define CT_LN_PARAM_THREADS 512
#define CT_LN_ROW_LANES (CT_LN_PARAM_THREADS / CT_LN_COLS)  // 64, a power of two for the tree below

__global__ void ct_layernorm_backward_params_kernel(const float* dy, const float* x, const float* mean,
                                                    const float* rstd, float* dweight, float* dbias, int64_t rows,
                                                    int c) {
    __shared__ float sw[CT_LN_ROW_LANES][CT_LN_COLS];
    __shared__ float sb[CT_LN_ROW_LANES][CT_LN_COLS];
    int ci = threadIdx.x % CT_LN_COLS;
    int lane_row = threadIdx.x / CT_LN_COLS;
    int col = blockIdx.x * CT_LN_COLS + ci;
    float dw = 0.0f, db = 0.0f;
    if (col < c) {
        for (int64_t r = lane_row; r < rows; r += CT_LN_ROW_LANES) {
            float d = dy[r * c + col];
            float xhat = (x[r * c + col] - mean[r]) * rstd[r];
            dw += d * xhat;
            db += d;
        }
    }
    sw[lane_row][ci] = dw;
    sb[lane_row][ci] = db;
    __syncthreads();
    for (int half = CT_LN_ROW_LANES / 2; half > 0; half /= 2) {
        if (lane_row < half) {
            sw[lane_row][ci] += sw[lane_row + half][ci];
            sb[lane_row][ci] += sb[lane_row + half][ci];
        }
        __syncthreads();
    }
    if (lane_row == 0 && col < c) {
        dweight[col] += sw[0][ci];
        dbias[col] += sb[0][ci];
    }
}

CT_API int ct_layernorm_forward_cuda(const float* x, const float* weight, const float* bias, float* y,
                                     float* mean, float* rstd, int64_t rows, int c, float eps, void* stream) {
    if (rows <= 0 || c <= 0) return 0;
    ct_layernorm_forward_kernel<<<ct_grid_for(rows, CT_LN_WARPS), CT_LN_WARPS * 32, 0, CT_STREAM(stream)>>>(
        x, weight, bias, y, mean, rstd, rows, c, eps);
    return ct_launch_status();
}

CT_API int ct_layernorm_backward_cuda(const float* dy, const float* x, const float* weight, const float* mean,
                                      const float* rstd, float* dx, float* dweight, float* dbias,
                                      int64_t rows, int c, void* stream) {
    if (rows <= 0 || c <= 0) return 0;
    cudaStream_t s = CT_STREAM(stream);
    ct_layernorm_backward_dx_kernel<<<ct_grid_for(rows, CT_LN_WARPS), CT_LN_WARPS * 32, 0, s>>>(
        dy, x, weight, mean, rstd, dx, rows, c);
    CT_CUDA_TRY(cudaGetLastError());
    unsigned int col_blocks = (unsigned int)((c + CT_LN_COLS - 1) / CT_LN_COLS);
    ct_layernorm_backward_params_kernel<<<col_blocks, CT_LN_PARAM_THREADS, 0, s>>>(dy, x, mean, rstd, dweight, dbias,
                                                                                  rows, c);
    return ct_launch_status();
}
