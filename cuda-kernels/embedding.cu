// embedding.cu: CUDA twin of embedding.cpp (lookup, deterministic backward, sinusoidal step embedding).
#include <math.h>

#include "cotrain/embedding.h"
#include "cuda_common.cuh"

static const int EMB_BLOCK = 256;
static const int EMB_BACKWARD_BLOCK = 128;  // threads per (vocabulary row, column tile), one column each

// table: (V, C), index: (n), out: (n, C). One thread per output element; consecutive threads take consecutive
// columns, so both the table row read and the output write are coalesced. A negative index writes NaN instead of
// being dereferenced (the forward is not given V, so only the lower bound can be guarded here).
__global__ void embedding_forward_kernel(const float* __restrict__ table, const int32_t* __restrict__ index,
                                         float* __restrict__ out, int64_t n, int v, int c) {
    const int64_t total = n * c;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < total;
         e += (int64_t)gridDim.x * blockDim.x) {
        const int64_t i = e / c;
        const int j = (int)(e - i * c);
        const int32_t k = index[i];
        out[e] = (k < 0 || k >= v) ? __int_as_float(0x7fc00000) : table[(int64_t)k * c + j];
    }
}

// dout: (n, C), index: (n), dtable: (V, C). Block (v, tile) owns dtable[v, tile columns], one column per thread.
// The block stages the index array through shared memory one chunk at a time; each warp then tests 32 entries at
// once with a ballot and adds dout[i, col] for the matches in increasing i (lowest set bit first). So each dtable
// element has exactly one writer (no atomics) and receives its contributions in index order, starting from its
// previous value: the same float additions in the same order as the CPU reference, bit for bit. Indices outside
// [0, V) match no block and are ignored. Every block scans all n indices, but 32 per instruction: for V = 1000,
// n = 5120 that is ~160 ballots per warp, against 5120 compares for a plain one-index-per-step loop.
__global__ void embedding_backward_kernel(const float* __restrict__ dout, const int32_t* __restrict__ index,
                                          float* __restrict__ dtable, int64_t n, int c) {
    __shared__ int32_t chunk[EMB_BACKWARD_BLOCK];
    const int32_t v = (int32_t)blockIdx.x;
    const int lane = threadIdx.x % 32;
    const int col = blockIdx.y * EMB_BACKWARD_BLOCK + threadIdx.x;
    const bool active = col < c;  // idle columns still load chunks and take part in the barriers and ballots
    float acc = active ? dtable[(int64_t)v * c + col] : 0.0f;
    bool touched = false;
    for (int64_t base = 0; base < n; base += EMB_BACKWARD_BLOCK) {
        const int64_t i = base + threadIdx.x;
        chunk[threadIdx.x] = i < n ? index[i] : -1;
        __syncthreads();
        const int len = (int)min((int64_t)EMB_BACKWARD_BLOCK, n - base);
        for (int s = 0; s < len; s += 32) {
            unsigned int match = __ballot_sync(0xffffffffu, s + lane < len && chunk[s + lane] == v);
            while (match) {
                const int r = s + __ffs(match) - 1;  // lowest set bit: the earliest remaining row
                match &= match - 1;
                if (active) acc += dout[(base + r) * c + col];
                touched = true;
            }
        }
        __syncthreads();  // before the next chunk overwrites this one
    }
    if (active && touched) dtable[(int64_t)v * c + col] = acc;
}

// t: (n), out: (n, dim). One thread per (b, j < half) writes the sine and the cosine of the same argument. In double
// like the CPU reference (see embedding.cpp); the sizes are tiny (n * dim ~ 6e4), so the double math costs nothing.
__global__ void sinusoidal_embedding_kernel(const float* __restrict__ t, float* __restrict__ out, int64_t n,
                                            int dim, double step) {
    const int half = dim / 2;
    const int64_t total = n * half;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < total;
         e += (int64_t)gridDim.x * blockDim.x) {
        const int64_t b = e / half;
        const int j = (int)(e - b * half);
        const double arg = (double)t[b] * exp(-(double)j * step);
        out[b * dim + j] = (float)sin(arg);
        out[b * dim + half + j] = (float)cos(arg);
    }
}

CT_API int ct_embedding_forward_cuda(const float* table, const int32_t* index, float* out, int64_t n, int v, int c,
                                     void* stream) {
    if (n <= 0 || c <= 0) return 0;
    const int64_t total = n * c;
    embedding_forward_kernel<<<ct_grid_for(total, EMB_BLOCK), EMB_BLOCK, 0, CT_STREAM(stream)>>>(table, index, out,
                                                                                                  n, v, c);
    return ct_launch_status();
}

CT_API int ct_embedding_backward_cuda(const float* dout, const int32_t* index, float* dtable, int64_t n, int v,
                                      int c, void* stream) {
    if (n <= 0 || v <= 0 || c <= 0) return 0;
    dim3 grid((unsigned int)v, (unsigned int)((c + EMB_BACKWARD_BLOCK - 1) / EMB_BACKWARD_BLOCK));
    embedding_backward_kernel<<<grid, EMB_BACKWARD_BLOCK, 0, CT_STREAM(stream)>>>(dout, index, dtable, n, c);
    return ct_launch_status();
}

CT_API int ct_sinusoidal_embedding_cuda(const float* t, float* out, int64_t n, int dim, void* stream) {
    if (n <= 0) return 0;
    const double step = log(10000.0) / (double)(dim / 2 - 1);  // on the host, the same value as the CPU's
    const int64_t total = n * (dim / 2);
    sinusoidal_embedding_kernel<<<ct_grid_for(total, EMB_BLOCK), EMB_BLOCK, 0, CT_STREAM(stream)>>>(t, out, n, dim,
                                                                                                     step);
    return ct_launch_status();
}
