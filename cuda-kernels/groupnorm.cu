// groupnorm.cu: CUDA kernels of groupnorm.h (the math is in native/src/groupnorm.cpp).
//
// forward and dx: one block per group (n, g). Its M = (C / G) HW values are contiguous in NCHW; the threads stride
//   over them (coalesced) and the group sums are block reductions in a fixed tree (warp shuffles, then one warp
//   over the per-warp partials), so the result is the same on every run. Two passes for the variance, as the CPU.
// dweight, dbias: one block per channel, summing over the N HW values of that channel (samples x pixels) in a fixed
//   interleaving and tree: no atomics, deterministic.
#include "cotrain/groupnorm.h"
#include "cuda_common.cuh"

static constexpr int kBlock = 256;  // a multiple of 32, at most 1024

// Sum of v over the block, returned to every thread. red: kBlock / 32 floats of shared memory.
__device__ __forceinline__ float block_sum(float v, float* red) {
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    v = ct_warp_sum(v);
    __syncthreads();  // red may still be read by a previous call
    if (lane == 0) red[warp] = v;
    __syncthreads();
    float total = 0.0f;
    for (int i = 0; i < kBlock / 32; i++) total += red[i];  // every thread, the same order
    return total;
}

// x, y: (N, C, HW); mean, rstd: (N, G). Block ng = n G + g.
__global__ void ct_groupnorm_forward_kernel(const float* __restrict__ x, const float* __restrict__ weight,
                                            const float* __restrict__ bias, float* __restrict__ y,
                                            float* __restrict__ mean, float* __restrict__ rstd, int c, int64_t hw,
                                            int groups, float eps) {
    __shared__ float red[kBlock / 32];
    const int64_t ng = blockIdx.x;
    const int g = (int)(ng % groups), cg = c / groups;
    const int64_t m = (int64_t)cg * hw;
    const float* xg = x + ng * m;
    float* yg = y + ng * m;
    float s = 0.0f;
    for (int64_t i = threadIdx.x; i < m; i += kBlock) s += xg[i];
    const float sum = block_sum(s, red);
    const float mu = m > 0 ? sum / (float)m : 0.0f;  // an empty group (HW = 0) has mean 0, as on the CPU
    float sq = 0.0f;
    for (int64_t i = threadIdx.x; i < m; i += kBlock) {
        const float d = xg[i] - mu;
        sq += d * d;
    }
    const float sqsum = block_sum(sq, red);
    const float var = m > 0 ? sqsum / (float)m : 0.0f;
    const float r = 1.0f / sqrtf(var + eps);  // biased variance, eps inside the root
    for (int64_t i = threadIdx.x; i < m; i += kBlock) {
        const int ch = g * cg + (int)(i / hw);
        yg[i] = (xg[i] - mu) * (r * weight[ch]) + bias[ch];
    }
    if (threadIdx.x == 0) {
        mean[ng] = mu;
        rstd[ng] = r;
    }
}

// dx += rstd (g - avg(g) - xhat avg(g xhat)), g = dy weight[c], xhat = (x - mean) rstd, one block per group.
__global__ void ct_groupnorm_backward_dx_kernel(const float* __restrict__ dy, const float* __restrict__ x,
                                                const float* __restrict__ weight, const float* __restrict__ mean,
                                                const float* __restrict__ rstd, float* __restrict__ dx, int c,
                                                int64_t hw, int groups) {
    __shared__ float red[kBlock / 32];
    const int64_t ng = blockIdx.x;
    const int g = (int)(ng % groups), cg = c / groups;
    const int64_t m = (int64_t)cg * hw;
    const float* dyg = dy + ng * m;
    const float* xg = x + ng * m;
    float* dxg = dx + ng * m;
    const float mu = mean[ng], s = rstd[ng];
    float gs = 0.0f, gxs = 0.0f;
    for (int64_t i = threadIdx.x; i < m; i += kBlock) {
        // g rounded on its own (__fmul_rn is never fused), as layernorm.cu, so that g - avg(g) is exact where it
        // should be 0
        const float gi = __fmul_rn(dyg[i], weight[g * cg + (int)(i / hw)]);
        gs += gi;
        gxs += gi * ((xg[i] - mu) * s);
    }
    const float gmean = block_sum(gs, red) / (float)m;
    const float gxmean = block_sum(gxs, red) / (float)m;
    for (int64_t i = threadIdx.x; i < m; i += kBlock) {
        const float gi = __fmul_rn(dyg[i], weight[g * cg + (int)(i / hw)]);
        const float xhat = (xg[i] - mu) * s;
        dxg[i] += s * (gi - gmean - xhat * gxmean);
    }
}

// dweight[c] += sum_{n, p} dy xhat, dbias[c] += sum_{n, p} dy: block c walks the N HW values of channel c.
__global__ void ct_groupnorm_backward_params_kernel(const float* __restrict__ dy, const float* __restrict__ x,
                                                    const float* __restrict__ mean, const float* __restrict__ rstd,
                                                    float* __restrict__ dweight, float* __restrict__ dbias, int n,
                                                    int c, int64_t hw, int groups) {
    __shared__ float red[kBlock / 32];
    const int ch = blockIdx.x;
    const int g = ch / (c / groups);
    const int64_t count = (int64_t)n * hw;
    float dw = 0.0f, db = 0.0f;
    for (int64_t t = threadIdx.x; t < count; t += kBlock) {
        const int64_t s_ = t / hw, p = t - s_ * hw;
        const int64_t at = (s_ * c + ch) * hw + p;
        const float d = dy[at];
        const float xhat = (x[at] - mean[s_ * groups + g]) * rstd[s_ * groups + g];
        dw += d * xhat;
        db += d;
    }
    dw = block_sum(dw, red);
    db = block_sum(db, red);
    if (threadIdx.x == 0) {
        dweight[ch] += dw;
        dbias[ch] += db;
    }
}

CT_API int ct_groupnorm_forward_cuda(const float* x, const float* weight, const float* bias, float* y, float* mean,
                                     float* rstd, int n, int c, int64_t hw, int groups, float eps, void* stream) {
    if (n <= 0 || c <= 0 || groups <= 0) return 0;
    const unsigned int blocks = (unsigned int)((int64_t)n * groups);
    ct_groupnorm_forward_kernel<<<blocks, kBlock, 0, CT_STREAM(stream)>>>(x, weight, bias, y, mean, rstd, c, hw,
                                                                          groups, eps);
    return ct_launch_status();
}

CT_API int ct_groupnorm_backward_cuda(const float* dy, const float* x, const float* weight, const float* mean,
                                      const float* rstd, float* dx, float* dweight, float* dbias, int n, int c,
                                      int64_t hw, int groups, void* stream) {
    if (n <= 0 || c <= 0 || groups <= 0) return 0;
    cudaStream_t s = CT_STREAM(stream);
    if (hw > 0) {
        const unsigned int blocks = (unsigned int)((int64_t)n * groups);
        ct_groupnorm_backward_dx_kernel<<<blocks, kBlock, 0, s>>>(dy, x, weight, mean, rstd, dx, c, hw, groups);
        CT_CUDA_TRY(cudaGetLastError());
    }
    ct_groupnorm_backward_params_kernel<<<(unsigned int)c, kBlock, 0, s>>>(dy, x, mean, rstd, dweight, dbias, n, c,
                                                                           hw, groups);
    return ct_launch_status();
}

// ---- GroupNorm + Mish, fused (Conv1dBlock) ------------------------------------------------------------------------
// The same blocks as above: the forward applies Mish before the store; the backward recomputes z = (x - mean)
// (rstd w) + b with the forward's expression and dz = dy mish'(z) wherever it needs them (in the group sums, in dx
// and in the per-channel sums) instead of storing z or dz: an exp and a division cost less than a round trip to
// memory. dx is written (=).

__device__ __forceinline__ float ct_gn_mish_dz(float x, float mu, float a, float b, float dy) {
    const float z = (x - mu) * a + b;
    float tsp, sech2, sig;
    ct_mish_parts(z, &tsp, &sech2, &sig);
    return dy * (tsp + z * sech2 * sig);
}

__global__ void ct_groupnorm_mish_forward_kernel(const float* __restrict__ x, const float* __restrict__ weight,
                                                 const float* __restrict__ bias, float* __restrict__ y,
                                                 float* __restrict__ mean, float* __restrict__ rstd, int c,
                                                 int64_t hw, int groups, float eps) {
    __shared__ float red[kBlock / 32];
    const int64_t ng = blockIdx.x;
    const int g = (int)(ng % groups), cg = c / groups;
    const int64_t m = (int64_t)cg * hw;
    const float* xg = x + ng * m;
    float* yg = y + ng * m;
    float s = 0.0f;
    for (int64_t i = threadIdx.x; i < m; i += kBlock) s += xg[i];
    const float sum = block_sum(s, red);
    const float mu = m > 0 ? sum / (float)m : 0.0f;
    float sq = 0.0f;
    for (int64_t i = threadIdx.x; i < m; i += kBlock) {
        const float d = xg[i] - mu;
        sq += d * d;
    }
    const float sqsum = block_sum(sq, red);
    const float var = m > 0 ? sqsum / (float)m : 0.0f;
    const float r = 1.0f / sqrtf(var + eps);
    for (int64_t i = threadIdx.x; i < m; i += kBlock) {
        const int ch = g * cg + (int)(i / hw);
        const float z = (xg[i] - mu) * (r * weight[ch]) + bias[ch];
        float tsp, sech2, sig;
        ct_mish_parts(z, &tsp, &sech2, &sig);
        yg[i] = z * tsp;
    }
    if (threadIdx.x == 0) {
        mean[ng] = mu;
        rstd[ng] = r;
    }
}

// dx = rstd (g - avg(g) - xhat avg(g xhat)), g = dz weight[c], one block per group.
__global__ void ct_groupnorm_mish_backward_dx_kernel(const float* __restrict__ dy, const float* __restrict__ x,
                                                     const float* __restrict__ weight, const float* __restrict__ bias,
                                                     const float* __restrict__ mean, const float* __restrict__ rstd,
                                                     float* __restrict__ dx, int c, int64_t hw, int groups) {
    __shared__ float red[kBlock / 32];
    const int64_t ng = blockIdx.x;
    const int g = (int)(ng % groups), cg = c / groups;
    const int64_t m = (int64_t)cg * hw;
    const float* dyg = dy + ng * m;
    const float* xg = x + ng * m;
    float* dxg = dx + ng * m;
    const float mu = mean[ng], s = rstd[ng];
    float gs = 0.0f, gxs = 0.0f;
    for (int64_t i = threadIdx.x; i < m; i += kBlock) {
        const int ch = g * cg + (int)(i / hw);
        const float w = weight[ch];
        // g rounded on its own (__fmul_rn is never fused), as in ct_groupnorm_backward_dx_kernel
        const float gi = __fmul_rn(ct_gn_mish_dz(xg[i], mu, s * w, bias[ch], dyg[i]), w);
        gs += gi;
        gxs += gi * ((xg[i] - mu) * s);
    }
    const float gmean = block_sum(gs, red) / (float)m;
    const float gxmean = block_sum(gxs, red) / (float)m;
    for (int64_t i = threadIdx.x; i < m; i += kBlock) {
        const int ch = g * cg + (int)(i / hw);
        const float w = weight[ch];
        const float gi = __fmul_rn(ct_gn_mish_dz(xg[i], mu, s * w, bias[ch], dyg[i]), w);
        const float xhat = (xg[i] - mu) * s;
        dxg[i] = s * (gi - gmean - xhat * gxmean);
    }
}

// dweight[c] += sum_{n, p} dz xhat, dbias[c] += sum_{n, p} dz: block c walks the N HW values of channel c.
__global__ void ct_groupnorm_mish_backward_params_kernel(const float* __restrict__ dy, const float* __restrict__ x,
                                                         const float* __restrict__ weight,
                                                         const float* __restrict__ bias,
                                                         const float* __restrict__ mean,
                                                         const float* __restrict__ rstd, float* __restrict__ dweight,
                                                         float* __restrict__ dbias, int n, int c, int64_t hw,
                                                         int groups) {
    __shared__ float red[kBlock / 32];
    const int ch = blockIdx.x;
    const int g = ch / (c / groups);
    const float w = weight[ch], b = bias[ch];
    const int64_t count = (int64_t)n * hw;
    float dw = 0.0f, db = 0.0f;
    for (int64_t t = threadIdx.x; t < count; t += kBlock) {
        const int64_t s_ = t / hw, p = t - s_ * hw;
        const int64_t at = (s_ * c + ch) * hw + p;
        const float mu = mean[s_ * groups + g], r = rstd[s_ * groups + g];
        const float dz = ct_gn_mish_dz(x[at], mu, r * w, b, dy[at]);
        dw += dz * ((x[at] - mu) * r);
        db += dz;
    }
    dw = block_sum(dw, red);
    db = block_sum(db, red);
    if (threadIdx.x == 0) {
        dweight[ch] += dw;
        dbias[ch] += db;
    }
}

CT_API int ct_groupnorm_mish_forward_cuda(const float* x, const float* weight, const float* bias, float* y,
                                          float* mean, float* rstd, int n, int c, int64_t hw, int groups, float eps,
                                          void* stream) {
    if (n <= 0 || c <= 0 || groups <= 0) return 0;
    const unsigned int blocks = (unsigned int)((int64_t)n * groups);
    ct_groupnorm_mish_forward_kernel<<<blocks, kBlock, 0, CT_STREAM(stream)>>>(x, weight, bias, y, mean, rstd, c,
                                                                               hw, groups, eps);
    return ct_launch_status();
}

CT_API int ct_groupnorm_mish_backward_cuda(const float* dy, const float* x, const float* weight, const float* bias,
                                           const float* mean, const float* rstd, float* dx, float* dweight,
                                           float* dbias, int n, int c, int64_t hw, int groups, void* stream) {
    if (n <= 0 || c <= 0 || groups <= 0) return 0;
    cudaStream_t s = CT_STREAM(stream);
    if (hw > 0) {
        const unsigned int blocks = (unsigned int)((int64_t)n * groups);
        ct_groupnorm_mish_backward_dx_kernel<<<blocks, kBlock, 0, s>>>(dy, x, weight, bias, mean, rstd, dx, c, hw,
                                                                       groups);
        CT_CUDA_TRY(cudaGetLastError());
    }
    ct_groupnorm_mish_backward_params_kernel<<<(unsigned int)c, kBlock, 0, s>>>(dy, x, weight, bias, mean, rstd,
                                                                                dweight, dbias, n, c, hw, groups);
    return ct_launch_status();
}
