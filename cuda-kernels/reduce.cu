// reduce.cu: CUDA reductions and the MSE loss (reduce.h).
//
// Determinism: no floating-point atomics anywhere. A full reduction (sum, sum of squares, MSE) runs as
//   pass 1: a grid whose size is a fixed function of n (never of the device), each thread summing a fixed
//           grid-stride subset of the elements in double, each block reducing its threads with a fixed tree and
//           writing one double partial;
//   pass 2: one block reducing the partials with a fixed tree and writing the float result.
// When pass 1 needs a single block (n <= CT_REDUCE_ITEMS), that block writes the result and pass 2 is skipped.
// The same n gives the same grid, the same per-thread subsets and the same trees on every run and every GPU, so
// one seed gives one loss curve. Double accumulators keep the GPU within rounding of the CPU reference (which
// also sums in double); the cost of FP64 adds is hidden behind the memory traffic even on consumer GPUs.
//
// The partials of pass 1 live in a module-level device array (ops never allocate, and reduce.h has no workspace
// argument). It is reused by every large reduction, which is safe because the CUDA backend queues all its work on
// one stream: two reductions over more than CT_REDUCE_ITEMS elements running concurrently on two streams of one
// device would race on it.
#include "cotrain/reduce.h"
#include "cuda_common.cuh"

#define CT_REDUCE_BLOCK 512                          // threads per block of pass 1
#define CT_REDUCE_ITEMS (CT_REDUCE_BLOCK * 16)       // elements per block of pass 1, at least
#define CT_REDUCE_MAX_BLOCKS 1024                    // pass-1 grid cap: ~4 resident blocks per SM on an H100
#define CT_REDUCE_FINAL_BLOCK 1024                   // threads of pass 2

static __device__ double ct_reduce_partials[CT_REDUCE_MAX_BLOCKS];

// Pass-1 grid for n elements: a pure function of n.
static inline unsigned int reduce_blocks(int64_t n) {
    int64_t blocks = (n + CT_REDUCE_ITEMS - 1) / CT_REDUCE_ITEMS;
    if (blocks > CT_REDUCE_MAX_BLOCKS) blocks = CT_REDUCE_MAX_BLOCKS;
    if (blocks < 1) blocks = 1;
    return (unsigned int)blocks;
}

// Sum of v over the block, valid in thread 0. Fixed tree: xor-butterfly within each warp, then warp 0 reduces
// the per-warp sums. Every thread of the block must call it. blockDim.x is a multiple of 32, at most 1024.
static __device__ double block_sum(double v) {
    __shared__ double warp_sums[32];
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int warps = blockDim.x >> 5;
    v = ct_warp_sum(v);
    if (lane == 0) warp_sums[warp] = v;
    __syncthreads();
    double s = 0.0;
    if (warp == 0) {
        s = lane < warps ? warp_sums[lane] : 0.0;
        s = ct_warp_sum(s);
    }
    return s;
}

// What is summed: the element term of each reduction.
enum ReduceKind { REDUCE_SUM, REDUCE_SUM_SQUARES, REDUCE_SQUARED_ERROR, REDUCE_WEIGHTED_SQUARED_ERROR };

template <int KIND>
static __device__ __forceinline__ double reduce_term(const float* x, const float* y, const float* w, int64_t i) {
    if (KIND == REDUCE_SUM) return (double)x[i];
    if (KIND == REDUCE_SUM_SQUARES) {
        double a = x[i];
        return a * a;
    }
    double d = (double)x[i] - (double)y[i];  // x = pred, y = target
    if (KIND == REDUCE_SQUARED_ERROR) return d * d;
    return (double)w[i] * (d * d);
}

// Pass 1. Each thread sums elements i, i + stride, i + 2 stride, ... (stride = all threads of the grid), four
// loads in flight per iteration, always added in index order. With out != NULL (single-block grid) the block
// writes scale * total to out[0]; otherwise it writes its partial to ct_reduce_partials[blockIdx.x].
template <int KIND>
static __global__ void __launch_bounds__(CT_REDUCE_BLOCK)
    reduce_partial_kernel(const float* __restrict__ x, const float* __restrict__ y, const float* __restrict__ w,
                          int64_t n, float* out, double scale) {
    const int64_t stride = (int64_t)gridDim.x * blockDim.x;
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    double acc = 0.0;
    for (; i + 3 * stride < n; i += 4 * stride) {
        double t0 = reduce_term<KIND>(x, y, w, i);
        double t1 = reduce_term<KIND>(x, y, w, i + stride);
        double t2 = reduce_term<KIND>(x, y, w, i + 2 * stride);
        double t3 = reduce_term<KIND>(x, y, w, i + 3 * stride);
        acc += t0;
        acc += t1;
        acc += t2;
        acc += t3;
    }
    for (; i < n; i += stride) acc += reduce_term<KIND>(x, y, w, i);
    double total = block_sum(acc);
    if (threadIdx.x == 0) {
        if (out != nullptr) {
            out[0] = (float)(total * scale);
        } else {
            ct_reduce_partials[blockIdx.x] = total;
        }
    }
}

// Pass 2: one block, out[0] = scale * sum of the `count` partials.
static __global__ void __launch_bounds__(CT_REDUCE_FINAL_BLOCK)
    reduce_final_kernel(int count, float* out, double scale) {
    double acc = 0.0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) acc += ct_reduce_partials[i];
    double total = block_sum(acc);
    if (threadIdx.x == 0) out[0] = (float)(total * scale);
}

// out[0] = scale * sum_i term(i). n == 0 still launches the single block, so out[0] is written (0, or NaN for
// the mean of nothing) exactly as on the CPU.
template <int KIND>
static int reduce_launch(const float* x, const float* y, const float* w, float* out, int64_t n, double scale,
                         void* stream) {
    unsigned int blocks = reduce_blocks(n);
    cudaStream_t s = CT_STREAM(stream);
    if (blocks == 1) {
        reduce_partial_kernel<KIND><<<1, CT_REDUCE_BLOCK, 0, s>>>(x, y, w, n, out, scale);
        return ct_launch_status();
    }
    reduce_partial_kernel<KIND><<<blocks, CT_REDUCE_BLOCK, 0, s>>>(x, y, w, n, nullptr, 1.0);
    int status = ct_launch_status();
    if (status != 0) return status;
    reduce_final_kernel<<<1, CT_REDUCE_FINAL_BLOCK, 0, s>>>((int)blocks, out, scale);
    return ct_launch_status();
}

CT_API int ct_sum_cuda(const float* x, float* out, int64_t n, float scale, void* stream) {
    // x: (n), out: (1)
    return reduce_launch<REDUCE_SUM>(x, nullptr, nullptr, out, n, (double)scale, stream);
}

CT_API int ct_sum_squares_cuda(const float* x, float* out, int64_t n, void* stream) {
    // x: (n), out: (1)
    return reduce_launch<REDUCE_SUM_SQUARES>(x, nullptr, nullptr, out, n, 1.0, stream);
}

CT_API int ct_mse_forward_cuda(const float* pred, const float* target, const float* weight, float* loss, int64_t n,
                               void* stream) {
    // pred, target, weight: (n), loss: (1)
    double scale = 1.0 / (double)n;  // inf for n == 0: the kernel writes 0 * inf = NaN, like the CPU's 0 / 0
    if (weight == nullptr) {
        return reduce_launch<REDUCE_SQUARED_ERROR>(pred, target, nullptr, loss, n, scale, stream);
    }
    return reduce_launch<REDUCE_WEIGHTED_SQUARED_ERROR>(pred, target, weight, loss, n, scale, stream);
}

// ---- backward and pointwise -----------------------------------------------------------------------------------

static __global__ void sum_backward_kernel(const float* __restrict__ dout, float* __restrict__ dx, int64_t n,
                                           float scale) {
    // dout: (1), dx: (n)
    const float g = scale * dout[0];
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        dx[i] += g;
}

CT_API int ct_sum_backward_cuda(const float* dout, float* dx, int64_t n, float scale, void* stream) {
    if (n == 0) return 0;
    sum_backward_kernel<<<ct_grid_for(n, 256), 256, 0, CT_STREAM(stream)>>>(dout, dx, n, scale);
    return ct_launch_status();
}

static __global__ void mse_backward_kernel(const float* __restrict__ pred, const float* __restrict__ target,
                                    const float* __restrict__ weight, const float* __restrict__ dloss,
                                    float* __restrict__ dpred, int64_t n) {
    // pred, target, weight, dpred: (n), dloss: (1). Same float arithmetic as the CPU reference.
    const float g = (float)((double)dloss[0] * 2.0 / (double)n);
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        float d = pred[i] - target[i];
        dpred[i] += weight != nullptr ? g * weight[i] * d : g * d;
    }
}

CT_API int ct_mse_backward_cuda(const float* pred, const float* target, const float* weight, const float* dloss,
                                float* dpred, int64_t n, void* stream) {
    if (n == 0) return 0;
    mse_backward_kernel<<<ct_grid_for(n, 256), 256, 0, CT_STREAM(stream)>>>(pred, target, weight, dloss, dpred, n);
    return ct_launch_status();
}

// ---- sum over rows --------------------------------------------------------------------------------------------
//
// out[c] += sum_r x[r, c] for x (rows, cols), e.g. a bias gradient over (B*T, C) with rows 4096, cols 256..1024.
// One block per strip of 32 columns, 32 x 32 threads: thread (tx, ty) sums column tx of the strip over rows
// ty, ty + 32, ty + 64, ... in double (each warp reads one 128-byte row segment per load: coalesced), then the
// 32 row-group sums of each column are added by a fixed tree in shared memory. One pass, no scratch, and every
// output column is reduced in the same order on every run.
#define CT_SUM_ROWS_STRIP 32
#define CT_SUM_ROWS_GROUPS 32

static __global__ void __launch_bounds__(CT_SUM_ROWS_STRIP * CT_SUM_ROWS_GROUPS)
    sum_rows_kernel(const float* __restrict__ x, float* __restrict__ out, int64_t rows, int64_t cols) {
    __shared__ double part[CT_SUM_ROWS_GROUPS][CT_SUM_ROWS_STRIP + 1];  // +1: no bank conflicts on the column walk
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int64_t col = (int64_t)blockIdx.x * CT_SUM_ROWS_STRIP + tx;
    double acc = 0.0;
    if (col < cols) {
        int64_t r = ty;
        // Four rows in flight per iteration, added in row order.
        for (; r + 3 * CT_SUM_ROWS_GROUPS < rows; r += 4 * CT_SUM_ROWS_GROUPS) {
            float a = x[r * cols + col];
            float b = x[(r + CT_SUM_ROWS_GROUPS) * cols + col];
            float c = x[(r + 2 * CT_SUM_ROWS_GROUPS) * cols + col];
            float d = x[(r + 3 * CT_SUM_ROWS_GROUPS) * cols + col];
            acc += (double)a;
            acc += (double)b;
            acc += (double)c;
            acc += (double)d;
        }
        for (; r < rows; r += CT_SUM_ROWS_GROUPS) acc += (double)x[r * cols + col];
    }
    part[ty][tx] = acc;
    __syncthreads();
    for (int half = CT_SUM_ROWS_GROUPS / 2; half > 0; half >>= 1) {
        if (ty < half) part[ty][tx] += part[ty + half][tx];
        __syncthreads();
    }
    if (ty == 0 && col < cols) out[col] = (float)((double)out[col] + part[0][tx]);
}

CT_API int ct_sum_rows_cuda(const float* x, float* out, int64_t rows, int64_t cols, void* stream) {
    if (rows == 0 || cols == 0) return 0;
    int64_t strips = (cols + CT_SUM_ROWS_STRIP - 1) / CT_SUM_ROWS_STRIP;
    dim3 block(CT_SUM_ROWS_STRIP, CT_SUM_ROWS_GROUPS);
    sum_rows_kernel<<<(unsigned int)strips, block, 0, CT_STREAM(stream)>>>(x, out, rows, cols);
    return ct_launch_status();
}

// ---- sum over samples and pixels per channel: out[c] += sum_{n, p} x[n, c, p] ------------------------------------
// One block per channel; its threads walk the channel's N HW values (sample-major) in a fixed interleaving with
// double accumulators, then a fixed shared-memory tree: deterministic, no atomics.
#define CT_SUM_CHANNELS_THREADS 256

__global__ void sum_channels_kernel(const float* __restrict__ x, float* __restrict__ out, int64_t n, int64_t c,
                                    int64_t hw) {
    __shared__ double part[CT_SUM_CHANNELS_THREADS];
    const int64_t ch = blockIdx.x;
    const int64_t count = n * hw;
    double acc = 0.0;
    for (int64_t t = threadIdx.x; t < count; t += CT_SUM_CHANNELS_THREADS) {
        const int64_t s = t / hw, p = t - s * hw;
        acc += (double)x[(s * c + ch) * hw + p];
    }
    part[threadIdx.x] = acc;
    __syncthreads();
    for (int half = CT_SUM_CHANNELS_THREADS / 2; half > 0; half >>= 1) {
        if (threadIdx.x < half) part[threadIdx.x] += part[threadIdx.x + half];
        __syncthreads();
    }
    if (threadIdx.x == 0) out[ch] = (float)((double)out[ch] + part[0]);
}

CT_API int ct_sum_channels_cuda(const float* x, float* out, int64_t n, int64_t c, int64_t hw, void* stream) {
    if (c <= 0) return 0;
    sum_channels_kernel<<<(unsigned int)c, CT_SUM_CHANNELS_THREADS, 0, CT_STREAM(stream)>>>(x, out, n, c, hw);
    return ct_launch_status();
}
