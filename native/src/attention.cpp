// attention.cpp: CPU reference of the fused multi-head attention (attention.h).
//
// Straight from the math, one query row at a time:
//   s[j] = scale * q_i . k_j + mask[i, j]      (-inf where causal hides key j > i)
//   p[j] = exp(s[j] - lse_i),  lse_i = log sum_j exp(s[j])
//   out_i = sum_j dropout(p)[j] v_j
// The backward recomputes p from q, k, mask and the saved lse (no (Tq, Tk) buffer is ever kept), exactly as the
// CUDA kernels do, so both backends share one definition of every intermediate.
#include "cotrain/attention.h"
#include "cotrain/philox.h"
#include "cpu_common.h"

#include <math.h>

#include <vector>

namespace {

// Number of keys query row i can see before the mask: all of them, or j <= i when causal.
inline int visible_keys(int i, int tk, int causal) {
    if (!causal) return tk;
    return i + 1 < tk ? i + 1 : tk;
}

// One query row of the forward. qi: (HS); kbh, vbh: (Tk, HS); mask_row: (Tk) or NULL; oi: (HS) output; s: (Tk)
// scratch; only keys j < jend are visible (causal). index0 is the dropout index of (i, j = 0): ((b * NH + h) * Tq + i) * Tk.
CT_MULTIVERSION
void forward_row(const float* qi, const float* kbh, const float* vbh, const float* mask_row, float* oi,
                 float* lse_i, float* s, int jend, int hs, float scale, float p_drop, uint64_t seed,
                 uint64_t index0) {
    // scores and their max; keys beyond jend are hidden by the causal mask and never touched
    float maxval = -INFINITY;
    for (int j = 0; j < jend; j++) {
        const float* kj = kbh + (int64_t)j * hs;
        float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
        for (int d = 0; d < hs; d++) dot += qi[d] * kj[d];
        float sj = scale * dot;
        if (mask_row) sj += mask_row[j];
        s[j] = sj;
        if (sj > maxval) maxval = sj;
    }
    for (int d = 0; d < hs; d++) oi[d] = 0.0f;
    if (maxval == -INFINITY) {  // every key masked (or Tk == 0): no distribution at all
        *lse_i = -INFINITY;
        return;
    }
    // softmax denominator in double: subtracting the max keeps every term in (0, 1]
    double sum = 0.0;
    for (int j = 0; j < jend; j++) {
        float e = expf(s[j] - maxval);  // exp(-inf) = 0 for masked keys
        s[j] = e;
        sum += e;
    }
    *lse_i = maxval + (float)log(sum);
    // dropout folds into the weight: kept weights are scaled by 1 / (1 - p), dropped ones are 0
    const float norm = (float)(1.0 / (sum * (1.0 - (double)p_drop)));
    for (int j = 0; j < jend; j++) {
        if (s[j] == 0.0f) continue;
        if (p_drop > 0.0f && !ct_philox_keep(seed, index0 + (uint64_t)j, p_drop)) continue;
        const float w = s[j] * norm;
        const float* vj = vbh + (int64_t)j * hs;
#pragma omp simd
        for (int d = 0; d < hs; d++) oi[d] += w * vj[d];
    }
}

// The backward of one (batch, head): it owns its slices of dk and dv, so heads run in parallel without races.
// Shapes as in attention.h with the (b, h) offsets applied; mask: (Tq, Tk) or NULL; lse: (Tq); dqacc: (HS)
// scratch. index0 is the dropout index of (i = 0, j = 0): (b * NH + h) * Tq * Tk.
CT_MULTIVERSION
void backward_head(const float* dout, const float* q, const float* k, const float* v, const float* mask,
                   const float* out, const float* lse, float* dq, float* dk, float* dv, float* dqacc, int tq,
                   int tk, int hs, float scale, int causal, float p_drop, uint64_t seed, uint64_t index0) {
    const float inv_keep = 1.0f / (1.0f - p_drop);
    for (int i = 0; i < tq; i++) {
        const float lse_i = lse[i];
        if (lse_i == -INFINITY) continue;  // fully masked row: out was 0 and nothing flows back
        const float* qi = q + (int64_t)i * hs;
        const float* doi = dout + (int64_t)i * hs;
        const float* oi = out + (int64_t)i * hs;
        // D_i = dO_i . O_i = sum_j P_ij dP_ij: the softmax backward's shared term
        double dsum = 0.0;
        for (int d = 0; d < hs; d++) dsum += (double)doi[d] * (double)oi[d];
        const float D = (float)dsum;
        for (int d = 0; d < hs; d++) dqacc[d] = 0.0f;
        const int jend = visible_keys(i, tk, causal);
        for (int j = 0; j < jend; j++) {
            const float* kj = k + (int64_t)j * hs;
            const float* vj = v + (int64_t)j * hs;
            float qk = 0.0f, dpd = 0.0f;
#pragma omp simd reduction(+ : qk, dpd)
            for (int d = 0; d < hs; d++) {
                qk += qi[d] * kj[d];
                dpd += doi[d] * vj[d];
            }
            float sij = scale * qk;
            if (mask) sij += mask[(int64_t)i * tk + j];
            const float p = expf(sij - lse_i);  // recomputed P; 0 for masked keys
            if (p == 0.0f) continue;            // no weight, no gradient
            const bool keep = p_drop == 0.0f || ct_philox_keep(seed, index0 + (uint64_t)i * tk + j, p_drop);
            const float pd = keep ? p * inv_keep : 0.0f;            // Pd_ij
            const float ds = p * ((keep ? dpd * inv_keep : 0.0f) - D);  // dS_ij
            const float dsk = scale * ds;
            float* dvj = dv + (int64_t)j * hs;
            float* dkj = dk + (int64_t)j * hs;
#pragma omp simd
            for (int d = 0; d < hs; d++) {
                dvj[d] += pd * doi[d];  // dV += Pd^T dO
                dkj[d] += dsk * qi[d];  // dK += scale dS^T Q
                dqacc[d] += ds * kj[d];  // dQ += scale dS K (scaled once below)
            }
        }
        float* dqi = dq + (int64_t)i * hs;
        for (int d = 0; d < hs; d++) dqi[d] += scale * dqacc[d];
    }
}

}  // namespace

// q, out: (B, NH, Tq, HS); k, v: (B, NH, Tk, HS); mask: (Tq, Tk) or NULL; lse: (B, NH, Tq)
CT_API void ct_attention_forward_cpu(const float* q, const float* k, const float* v, const float* mask,
                                     float* out, float* lse, int b, int nh, int tq, int tk, int hs, float scale,
                                     int causal, float p_drop, uint64_t seed, uint64_t offset) {
    const int64_t rows = (int64_t)b * nh * tq;
    if (rows <= 0) return;
    const int64_t work = rows * ((int64_t)tk + 1) * ((int64_t)hs + 1);
#pragma omp parallel if (work > CT_PARALLEL_GRAIN)
    {
        std::vector<float> s((size_t)(tk > 0 ? tk : 1));  // one row of scores, per thread
        // every (b, h, i) row is independent: parallelise over all of them, not just over heads
#pragma omp for schedule(static)
        for (int64_t r = 0; r < rows; r++) {
            const int64_t bh = r / tq;
            const int i = (int)(r % tq);
            const float* mask_row = mask ? mask + (int64_t)i * tk : nullptr;
            forward_row(q + r * hs, k + bh * tk * hs, v + bh * tk * hs, mask_row, out + r * hs, lse + r, s.data(),
                        visible_keys(i, tk, causal), hs, scale, p_drop, seed,
                        offset + (uint64_t)r * (uint64_t)tk);
        }
    }
}

CT_API void ct_attention_backward_cpu(const float* dout, const float* q, const float* k, const float* v,
                                      const float* mask, const float* out, const float* lse, float* dq,
                                      float* dk, float* dv, int b, int nh, int tq, int tk, int hs, float scale,
                                      int causal, float p_drop, uint64_t seed, uint64_t offset) {
    const int64_t heads = (int64_t)b * nh;
    if (heads <= 0 || tq <= 0 || tk <= 0) return;
    const int64_t work = heads * tq * (int64_t)tk * ((int64_t)hs + 1);
#pragma omp parallel if (work > CT_PARALLEL_GRAIN)
    {
        std::vector<float> dqacc((size_t)(hs > 0 ? hs : 1));
        // parallel over (b, h) only: the rows of one head all add into the same dk and dv
#pragma omp for schedule(static)
        for (int64_t bh = 0; bh < heads; bh++) {
            const int64_t qo = bh * tq * hs, ko = bh * tk * hs;
            backward_head(dout + qo, q + qo, k + ko, v + ko, mask, out + qo, lse + bh * tq, dq + qo, dk + ko,
                          dv + ko, dqacc.data(), tq, tk, hs, scale, causal, p_drop, seed,
                          offset + (uint64_t)bh * (uint64_t)tq * (uint64_t)tk);
        }
    }
}
