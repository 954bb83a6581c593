// attention.cu: fused multi-head attention on the GPU (attention.h); native/src/attention.cpp is the reference.
//
// One layout for all three kernels, flash-attention style (no (Tq, Tk) matrix ever reaches global memory):
//   - a block of ATT_WARPS warps owns ATT_WARPS consecutive "rows" of one (b, h): query rows for the forward and
//     for dQ, key rows for dK/dV; each warp owns one row and keeps that row's accumulator in registers
//     (lane owns dims d = lane + 32 r, r < NR, so HS <= 32 * NR);
//   - the other side (keys, or queries for dK/dV) streams through shared memory in tiles of 32 rows, one row per
//     lane: lane j computes the dot product for "its" row of the tile, the warp reduces across lanes for the
//     softmax statistics, and the per-lane weights are broadcast with shuffles to update the accumulators.
// Tiles are stored with a row stride of HS + 1 (odd) so that 32 lanes reading 32 different rows at the same d
// hit 32 different banks.
//
// Forward: online softmax over key tiles (running max m, running sum l, rescale by exp(m_old - m_new)), then
//   out = o / l / (1 - p) and lse = m + log l. A row with every key masked keeps m = -inf: out 0, lse -inf.
// Backward, two kernels and no atomics: every element of dq, dk, dv is owned by exactly one lane, so the
//   accumulation order is fixed and results are bit-for-bit reproducible.
//   dQ kernel (warp per query row i, keys stream):   dq_i += scale sum_j dS_ij k_j
//   dKV kernel (warp per key row j, queries stream): dv_j += sum_i Pd_ij dO_i;  dk_j += scale sum_i dS_ij q_i
//   Both recompute P_ij = exp(s_ij - lse_i) and D_i = dO_i . O_i (the dKV kernel once per query tile).
// Dropout decisions come from ct_philox_keep at index offset + ((b NH + h) Tq + i) Tk + j, exactly as on the CPU.
//
// Limits: HS <= 256 (NR <= 8 accumulator registers per lane); larger HS returns cudaErrorInvalidValue.
// Shared memory grows with HS (about 74 KB forward and 82 KB backward at HS = 256); beyond the default 48 KB the
// launcher opts in with cudaFuncSetAttribute (sm_80 and newer allow 163 KB or more).
#include "cotrain/attention.h"
#include "cotrain/philox.h"
#include "cuda_common.cuh"

#include <math.h>

namespace {

constexpr int ATT_WARPS = 8;    // rows per block, one warp each
constexpr int ATT_TILE = 32;    // rows per shared-memory tile of the streamed side, one lane each
constexpr int ATT_THREADS = ATT_WARPS * 32;
constexpr unsigned FULL = 0xffffffffu;

// Number of keys query row i can see before the mask: all, or j <= i when causal.
__device__ __forceinline__ int visible_keys(int i, int tk, int causal) {
    if (!causal) return tk;
    return i + 1 < tk ? i + 1 : tk;
}

// Copies rows [r0, r0 + n) of a (rows, hs) matrix into a tile with row stride hs + 1, with the whole block.
__device__ __forceinline__ void load_tile(float* tile, const float* src, int r0, int n, int hs) {
    const int ld = hs + 1;
    const int64_t count = (int64_t)n * hs;
    const float* base = src + (int64_t)r0 * hs;
    for (int64_t idx = threadIdx.x; idx < count; idx += blockDim.x) {
        int r = (int)(idx / hs), d = (int)(idx - (int64_t)r * hs);
        tile[r * ld + d] = base[idx];  // consecutive threads read consecutive addresses
    }
}

// ---- forward ---------------------------------------------------------------------------------------------------
// grid: B * NH * ceil(Tq / ATT_WARPS) blocks; block: ATT_THREADS.
// shared: ks (TILE, HS+1), vs (TILE, HS+1), qs (WARPS, HS).
template <int NR>
__global__ void __launch_bounds__(ATT_THREADS)
    attention_forward_kernel(const float* __restrict__ q, const float* __restrict__ k, const float* __restrict__ v,
                             const float* __restrict__ mask, float* __restrict__ out, float* __restrict__ lse,
                             int tq, int tk, int hs, int row_blocks, float scale, int causal, float p_drop,
                             uint64_t seed, uint64_t offset) {
    extern __shared__ float smem[];
    const int ld = hs + 1;
    float* ks = smem;
    float* vs = ks + ATT_TILE * ld;
    float* qs = vs + ATT_TILE * ld;

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int64_t bh = blockIdx.x / row_blocks;
    const int i0 = (int)(blockIdx.x % row_blocks) * ATT_WARPS;
    const int i = i0 + warp;
    const bool active = i < tq;  // warp-uniform; inactive warps still help load tiles and reach every barrier
    const float* qbh = q + bh * tq * hs;
    const float* kbh = k + bh * tk * hs;
    const float* vbh = v + bh * tk * hs;
    float* qw = qs + warp * hs;
    if (active) {
        for (int d = lane; d < hs; d += 32) qw[d] = qbh[(int64_t)i * hs + d];
    }
    const int jend = active ? visible_keys(i, tk, causal) : 0;
    const int i_last = min(i0 + ATT_WARPS, tq) - 1;
    const int kend = visible_keys(i_last, tk, causal);  // the block needs no key beyond its last row's
    const uint64_t index0 = offset + (uint64_t)(bh * tq + i) * (uint64_t)tk;

    float m = -INFINITY, l = 0.0f;  // running max and running sum of exp(s - m), without dropout
    float o[NR];                    // running sum of dropout(exp(s - m)) v, dims lane + 32 r
#pragma unroll
    for (int r = 0; r < NR; r++) o[r] = 0.0f;

    for (int k0 = 0; k0 < kend; k0 += ATT_TILE) {
        const int nk = min(ATT_TILE, kend - k0);
        __syncthreads();  // the previous tile is consumed (and qs is written, on the first pass)
        load_tile(ks, kbh, k0, nk, hs);
        load_tile(vs, vbh, k0, nk, hs);
        __syncthreads();
        if (!active) continue;
        const int j = k0 + lane;
        float s = -INFINITY;
        if (j < jend) {
            const float* kr = ks + lane * ld;
            float dot = 0.0f;
            for (int d = 0; d < hs; d++) dot += qw[d] * kr[d];
            s = scale * dot;
            if (mask) s += mask[(int64_t)i * tk + j];
        }
        const float m_new = fmaxf(m, ct_warp_max(s));
        if (m_new == -INFINITY) continue;  // nothing visible yet: keep m = -inf (avoids -inf - -inf = NaN)
        const float alpha = expf(m - m_new);  // 0 when m was -inf
        float p = expf(s - m_new);            // 0 for masked keys and lanes past the tile
        l = l * alpha + ct_warp_sum(p);
        if (p_drop > 0.0f && p != 0.0f && !ct_philox_keep(seed, index0 + (uint64_t)j, p_drop)) p = 0.0f;
        m = m_new;
#pragma unroll
        for (int r = 0; r < NR; r++) o[r] *= alpha;
        for (int jj = 0; jj < nk; jj++) {
            const float pj = __shfl_sync(FULL, p, jj);
            const float* vr = vs + jj * ld;
#pragma unroll
            for (int r = 0; r < NR; r++) {
                const int d = lane + 32 * r;
                if (d < hs) o[r] += pj * vr[d];
            }
        }
    }
    if (!active) return;
    float* orow = out + (bh * tq + i) * hs;
    const bool any = m != -INFINITY;  // l >= 1 then: the max term contributes exp(0)
    const float norm = any ? 1.0f / (l * (1.0f - p_drop)) : 0.0f;
#pragma unroll
    for (int r = 0; r < NR; r++) {
        const int d = lane + 32 * r;
        if (d < hs) orow[d] = o[r] * norm;
    }
    if (lane == 0) lse[bh * tq + i] = any ? m + logf(l) : -INFINITY;
}

// ---- backward: dQ ------------------------------------------------------------------------------------------------
// grid: B * NH * ceil(Tq / ATT_WARPS) blocks; block: ATT_THREADS.
// shared: ks (TILE, HS+1), vs (TILE, HS+1), qs (WARPS, HS), dos (WARPS, HS).
template <int NR>
__global__ void __launch_bounds__(ATT_THREADS)
    attention_backward_dq_kernel(const float* __restrict__ dout, const float* __restrict__ q,
                                 const float* __restrict__ k, const float* __restrict__ v,
                                 const float* __restrict__ mask, const float* __restrict__ out,
                                 const float* __restrict__ lse, float* __restrict__ dq, int tq, int tk, int hs,
                                 int row_blocks, float scale, int causal, float p_drop, uint64_t seed,
                                 uint64_t offset) {
    extern __shared__ float smem[];
    const int ld = hs + 1;
    float* ks = smem;
    float* vs = ks + ATT_TILE * ld;
    float* qs = vs + ATT_TILE * ld;
    float* dos = qs + ATT_WARPS * hs;

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int64_t bh = blockIdx.x / row_blocks;
    const int i0 = (int)(blockIdx.x % row_blocks) * ATT_WARPS;
    const int i = i0 + warp;
    const int64_t row = bh * tq + i;
    // a fully masked row (lse = -inf) gets no gradient; its warp only helps with the loads
    const bool active = i < tq && lse[bh * tq + min(i, tq - 1)] != -INFINITY;
    const float lse_i = active ? lse[row] : 0.0f;
    const float* kbh = k + bh * tk * hs;
    const float* vbh = v + bh * tk * hs;
    float* qw = qs + warp * hs;
    float* dow = dos + warp * hs;
    float D = 0.0f;  // D_i = dO_i . O_i
    if (active) {
        for (int d = lane; d < hs; d += 32) {
            const float g = dout[row * hs + d];
            qw[d] = q[row * hs + d];
            dow[d] = g;
            D += g * out[row * hs + d];
        }
        D = ct_warp_sum(D);
    }
    const int jend = active ? visible_keys(i, tk, causal) : 0;
    const int i_last = min(i0 + ATT_WARPS, tq) - 1;
    const int kend = visible_keys(i_last, tk, causal);
    const uint64_t index0 = offset + (uint64_t)row * (uint64_t)tk;
    const float inv_keep = 1.0f / (1.0f - p_drop);

    float acc[NR];  // sum_j dS_ij k_j, dims lane + 32 r
#pragma unroll
    for (int r = 0; r < NR; r++) acc[r] = 0.0f;

    for (int k0 = 0; k0 < kend; k0 += ATT_TILE) {
        const int nk = min(ATT_TILE, kend - k0);
        __syncthreads();
        load_tile(ks, kbh, k0, nk, hs);
        load_tile(vs, vbh, k0, nk, hs);
        __syncthreads();
        if (!active) continue;
        const int j = k0 + lane;
        float ds = 0.0f;
        if (j < jend) {
            const float* kr = ks + lane * ld;
            const float* vr = vs + lane * ld;
            float qk = 0.0f, dpd = 0.0f;
            for (int d = 0; d < hs; d++) {
                qk += qw[d] * kr[d];
                dpd += dow[d] * vr[d];
            }
            float s = scale * qk;
            if (mask) s += mask[(int64_t)i * tk + j];
            const float p = expf(s - lse_i);  // recomputed P_ij; 0 for masked keys
            if (p != 0.0f) {
                const bool keep = p_drop == 0.0f || ct_philox_keep(seed, index0 + (uint64_t)j, p_drop);
                ds = p * ((keep ? dpd * inv_keep : 0.0f) - D);
            }
        }
        for (int jj = 0; jj < nk; jj++) {
            const float dsj = __shfl_sync(FULL, ds, jj);
            const float* kr = ks + jj * ld;
#pragma unroll
            for (int r = 0; r < NR; r++) {
                const int d = lane + 32 * r;
                if (d < hs) acc[r] += dsj * kr[d];
            }
        }
    }
    if (!active) return;
#pragma unroll
    for (int r = 0; r < NR; r++) {
        const int d = lane + 32 * r;
        if (d < hs) dq[row * hs + d] += scale * acc[r];
    }
}

// ---- backward: dK and dV -----------------------------------------------------------------------------------------
// grid: B * NH * ceil(Tk / ATT_WARPS) blocks; block: ATT_THREADS.
// shared: qs (TILE, HS+1), dos (TILE, HS+1), kw (WARPS, HS), vw (WARPS, HS), lse_s (TILE), d_s (TILE).
template <int NR>
__global__ void __launch_bounds__(ATT_THREADS)
    attention_backward_dkv_kernel(const float* __restrict__ dout, const float* __restrict__ q,
                                  const float* __restrict__ k, const float* __restrict__ v,
                                  const float* __restrict__ mask, const float* __restrict__ out,
                                  const float* __restrict__ lse, float* __restrict__ dk, float* __restrict__ dv,
                                  int tq, int tk, int hs, int row_blocks, float scale, int causal, float p_drop,
                                  uint64_t seed, uint64_t offset) {
    extern __shared__ float smem[];
    const int ld = hs + 1;
    float* qs = smem;
    float* dos = qs + ATT_TILE * ld;
    float* kws = dos + ATT_TILE * ld;
    float* vws = kws + ATT_WARPS * hs;
    float* lse_s = vws + ATT_WARPS * hs;
    float* d_s = lse_s + ATT_TILE;

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int64_t bh = blockIdx.x / row_blocks;
    const int j0 = (int)(blockIdx.x % row_blocks) * ATT_WARPS;
    const int j = j0 + warp;
    const bool active = j < tk;
    const int64_t krow = bh * tk + j;
    float* kw = kws + warp * hs;
    float* vw = vws + warp * hs;
    if (active) {
        for (int d = lane; d < hs; d += 32) {
            kw[d] = k[krow * hs + d];
            vw[d] = v[krow * hs + d];
        }
    }
    const float* qbh = q + bh * tq * hs;
    const float* dobh = dout + bh * tq * hs;
    const float* obh = out + bh * tq * hs;
    const float* lsebh = lse + bh * tq;
    const uint64_t index0 = offset + (uint64_t)(bh * tq) * (uint64_t)tk + (uint64_t)j;
    const float inv_keep = 1.0f / (1.0f - p_drop);

    float adk[NR], adv[NR];  // sum_i dS_ij q_i and sum_i Pd_ij dO_i, dims lane + 32 r
#pragma unroll
    for (int r = 0; r < NR; r++) adk[r] = adv[r] = 0.0f;

    // causal: query i sees key j only when i >= j, so query tiles wholly before this block's first key are skipped
    const int ibegin = causal ? (j0 / ATT_TILE) * ATT_TILE : 0;
    for (int i0 = ibegin; i0 < tq; i0 += ATT_TILE) {
        const int ni = min(ATT_TILE, tq - i0);
        __syncthreads();
        load_tile(qs, qbh, i0, ni, hs);
        load_tile(dos, dobh, i0, ni, hs);
        // D_i = dO_i . O_i and lse_i of the tile's queries: one warp per query, coalesced reads
        for (int t = warp; t < ni; t += ATT_WARPS) {
            const int64_t o = (int64_t)(i0 + t) * hs;
            float acc = 0.0f;
            for (int d = lane; d < hs; d += 32) acc += dobh[o + d] * obh[o + d];
            acc = ct_warp_sum(acc);
            if (lane == 0) {
                d_s[t] = acc;
                lse_s[t] = lsebh[i0 + t];
            }
        }
        __syncthreads();
        if (!active) continue;
        const int i = i0 + lane;
        float pd = 0.0f, ds = 0.0f;
        if (lane < ni && !(causal && j > i) && lse_s[lane] != -INFINITY) {
            const float* qr = qs + lane * ld;
            const float* dr = dos + lane * ld;
            float qk = 0.0f, dpd = 0.0f;
            for (int d = 0; d < hs; d++) {
                qk += qr[d] * kw[d];
                dpd += dr[d] * vw[d];
            }
            float s = scale * qk;
            if (mask) s += mask[(int64_t)i * tk + j];
            const float p = expf(s - lse_s[lane]);
            if (p != 0.0f) {
                const bool keep =
                    p_drop == 0.0f || ct_philox_keep(seed, index0 + (uint64_t)i * (uint64_t)tk, p_drop);
                pd = keep ? p * inv_keep : 0.0f;
                ds = p * ((keep ? dpd * inv_keep : 0.0f) - d_s[lane]);
            }
        }
        for (int ii = 0; ii < ni; ii++) {
            const float pdi = __shfl_sync(FULL, pd, ii);
            const float dsi = __shfl_sync(FULL, ds, ii);
            const float* qr = qs + ii * ld;
            const float* dr = dos + ii * ld;
#pragma unroll
            for (int r = 0; r < NR; r++) {
                const int d = lane + 32 * r;
                if (d < hs) {
                    adv[r] += pdi * dr[d];
                    adk[r] += dsi * qr[d];
                }
            }
        }
    }
    if (!active) return;
#pragma unroll
    for (int r = 0; r < NR; r++) {
        const int d = lane + 32 * r;
        if (d < hs) {
            dv[krow * hs + d] += adv[r];
            dk[krow * hs + d] += scale * adk[r];
        }
    }
}

// ---- launchers -------------------------------------------------------------------------------------------------

// Launches kernel with `bytes` of dynamic shared memory, opting in above the default 48 KB.
template <typename Kernel, typename... Args>
int launch(Kernel kernel, int64_t blocks, size_t bytes, cudaStream_t stream, Args... args) {
    if (blocks > 0x7fffffffLL) return (int)cudaErrorInvalidConfiguration;
    if (bytes > 48 * 1024) {
        CT_CUDA_TRY(cudaFuncSetAttribute((const void*)kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         (int)bytes));
    }
    kernel<<<(unsigned)blocks, ATT_THREADS, bytes, stream>>>(args...);
    return ct_launch_status();
}

// Accumulator registers per lane for head size hs: 1, 2, 4 or 8 (0 when hs is too large).
int regs_for(int hs) {
    if (hs <= 32) return 1;
    if (hs <= 64) return 2;
    if (hs <= 128) return 4;
    if (hs <= 256) return 8;
    return 0;
}

}  // namespace

CT_API int ct_attention_forward_cuda(const float* q, const float* k, const float* v, const float* mask,
                                     float* out, float* lse, int b, int nh, int tq, int tk, int hs, float scale,
                                     int causal, float p_drop, uint64_t seed, uint64_t offset, void* stream) {
    const int64_t heads = (int64_t)b * nh;
    if (heads <= 0 || tq <= 0) return 0;
    const int row_blocks = (tq + ATT_WARPS - 1) / ATT_WARPS;
    const int64_t blocks = heads * row_blocks;
    const size_t bytes = sizeof(float) * ((size_t)2 * ATT_TILE * (hs + 1) + (size_t)ATT_WARPS * hs);
    cudaStream_t s = CT_STREAM(stream);
#define CT_ATT_FWD(NR)                                                                                             \
    launch(attention_forward_kernel<NR>, blocks, bytes, s, q, k, v, mask, out, lse, tq, tk, hs, row_blocks, scale, \
           causal, p_drop, seed, offset)
    switch (regs_for(hs)) {
        case 1: return CT_ATT_FWD(1);
        case 2: return CT_ATT_FWD(2);
        case 4: return CT_ATT_FWD(4);
        case 8: return CT_ATT_FWD(8);
        default: return (int)cudaErrorInvalidValue;  // HS > 256
    }
#undef CT_ATT_FWD
}

CT_API int ct_attention_backward_cuda(const float* dout, const float* q, const float* k, const float* v,
                                      const float* mask, const float* out, const float* lse, float* dq,
                                      float* dk, float* dv, int b, int nh, int tq, int tk, int hs, float scale,
                                      int causal, float p_drop, uint64_t seed, uint64_t offset, void* stream) {
    const int64_t heads = (int64_t)b * nh;
    if (heads <= 0 || tq <= 0 || tk <= 0) return 0;  // no (query, key) pair: no gradient anywhere
    const int nr = regs_for(hs);
    if (nr == 0) return (int)cudaErrorInvalidValue;  // HS > 256
    cudaStream_t s = CT_STREAM(stream);
    const size_t tiles = (size_t)2 * ATT_TILE * (hs + 1) + (size_t)2 * ATT_WARPS * hs;
    const int q_blocks = (tq + ATT_WARPS - 1) / ATT_WARPS;
    const int k_blocks = (tk + ATT_WARPS - 1) / ATT_WARPS;
    const size_t dq_bytes = sizeof(float) * tiles;
    const size_t dkv_bytes = sizeof(float) * (tiles + 2 * ATT_TILE);
    int err = 0;
#define CT_ATT_BWD(NR)                                                                                              \
    do {                                                                                                            \
        err = launch(attention_backward_dq_kernel<NR>, heads * q_blocks, dq_bytes, s, dout, q, k, v, mask, out,     \
                     lse, dq, tq, tk, hs, q_blocks, scale, causal, p_drop, seed, offset);                           \
        if (err != 0) return err;                                                                                   \
        err = launch(attention_backward_dkv_kernel<NR>, heads * k_blocks, dkv_bytes, s, dout, q, k, v, mask, out,   \
                     lse, dk, dv, tq, tk, hs, k_blocks, scale, causal, p_drop, seed, offset);                       \
    } while (0)
    switch (nr) {
        case 1: CT_ATT_BWD(1); break;
        case 2: CT_ATT_BWD(2); break;
        case 4: CT_ATT_BWD(4); break;
        default: CT_ATT_BWD(8); break;
    }
#undef CT_ATT_BWD
    return err;
}
