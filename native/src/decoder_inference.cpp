// decoder_inference.cpp: CPU version of decoder_inference.h, one decoder layer's evaluation forward in one parallel
// region.
//
// Why: a batch-1 denoising step of DP-T runs 8 layers of ~25 ops on (16, 256) activations. Called one at a time
// (nn/TransformerDecoderLayer.java), each op paid a JNI call, its Java checks and a parallel region of its own, and
// the small ones ran on one thread while the other waited: 30% of the step was that wait (benchmarks/RESULTS.md).
// Here the threads stay together for the whole layer and meet at a barrier between its 8 phases.
//
// The products (M = B T rows, at most a few dozen) are those of packed_linear.h, on the panel kernel of
// panel_product.h.
//
// Builds: AVX-512 (8 x 32 tiles, 16 accumulators of 16 lanes), AVX2+FMA (2 x 32, 8 of 8 lanes) and baseline x86-64,
// picked at run time by the same switch as the skinny kernel (ct_matmul_set_isa).
#include "cotrain/decoder_inference.h"
#include "matmul_skinny.h"
#include "panel_product.h"

#include <math.h>

#include <vector>

namespace {

// This thread's rows of y = layer_norm(x) * w + b, the arithmetic of ct_layernorm_forward_cpu.
CT_INLINE void norm_rows(const float* x, const float* w, const float* b, float* y, int rows, int c, float eps,
                         int thread, int threads) {
    const int r0 = (int)((int64_t)rows * thread / threads), r1 = (int)((int64_t)rows * (thread + 1) / threads);
    for (int r = r0; r < r1; r++) {
        const float* xr = x + (int64_t)r * c;
        float* yr = y + (int64_t)r * c;
        double sum = 0.0;
#pragma omp simd reduction(+ : sum)
        for (int i = 0; i < c; i++) sum += xr[i];
        const double mean = sum / c;
        double sq = 0.0;
#pragma omp simd reduction(+ : sq)
        for (int i = 0; i < c; i++) {
            const double d = xr[i] - mean;
            sq += d * d;
        }
        const float mf = (float)mean, sf = (float)(1.0 / sqrt(sq / c + (double)eps));
        for (int i = 0; i < c; i++) yr[i] = (xr[i] - mf) * sf * w[i] + b[i];
    }
}

// One query row of attention without dropout, the arithmetic of attention.cpp's forward_row (but for its exp, the
// vectorisable one of cpu_common.h, within ~2 ulp of expf): keys j < jend, key 0 at k_first and key j >= 1 at
// k_rest + (j - 1) * kstride, values likewise; s: (jend) scratch; oi: (HS) output.
CT_INLINE void attend_row(const float* qi, const float* k_first, const float* k_rest, const float* v_first,
                          const float* v_rest, int64_t kstride, const float* mask_row, int jend, int hs, float scale,
                          float* s, float* oi) {
    float maxval = -INFINITY;
    for (int j = 0; j < jend; j++) {
        const float* kj = j == 0 ? k_first : k_rest + (j - 1) * kstride;
        float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
        for (int d = 0; d < hs; d++) dot += qi[d] * kj[d];
        float sj = scale * dot;
        if (mask_row) sj += mask_row[j];
        s[j] = sj;
        if (sj > maxval) maxval = sj;
    }
    for (int d = 0; d < hs; d++) oi[d] = 0.0f;
    if (maxval == -INFINITY) return;  // every key masked: no distribution, output 0
    for (int j = 0; j < jend; j++) s[j] = ct_expf_nonpos(s[j] - maxval);  // exponents <= 0; masked keys give 0
    double sum = 0.0;
    for (int j = 0; j < jend; j++) sum += s[j];
    const float norm = (float)(1.0 / sum);
    for (int j = 0; j < jend; j++) {
        if (s[j] == 0.0f) continue;
        const float w = s[j] * norm;
        const float* vj = j == 0 ? v_first : v_rest + (j - 1) * kstride;
#pragma omp simd
        for (int d = 0; d < hs; d++) oi[d] += w * vj[d];
    }
}

struct LayerArgs {
    float* x;
    const float* memory;
    const float* memory_kv;  // or NULL
    const float* step_kv;    // or NULL
    const float* const* p;
    const float* mask;
    int causal, b, t, s, c, nh;
    float eps;
    float* ws;
};

// The whole layer, run by every thread of the region; phases separated by barriers. Each thread normalises every
// row itself, into rows of its own, before the product that reads them (16 rows of 256: less than a barrier costs).
template <typename V, int MR>
CT_INLINE void layer_body(const LayerArgs& A, int th, int nth) {
    const int c = A.c, rows = A.b * A.t, mrows = A.b * A.s, hs = c / A.nh;
    const float* const* p = A.p;
    float* x = A.x;
    // workspace, 9 rows C + 2 mrows C floats
    float* qkv = A.ws;                           // (B T, 3C)
    float* att = qkv + (int64_t)rows * 3 * c;    // (B T, C) heads merged
    float* q = att + (int64_t)rows * c;          // (B T, C)
    float* hidden = q + (int64_t)rows * c;       // (B T, 4C)
    float* kv = hidden + (int64_t)rows * 4 * c;  // (B S, 2C), unless the caller gives memory_kv
    const float* mkv = A.memory_kv ? A.memory_kv : kv;
    // this thread's copy of the normalised rows and its attention scores: kept by the thread between calls (the
    // OpenMP threads persist), so that a sampling step allocates nothing; they only ever grow
    static thread_local std::vector<float> ln, scores;
    if (ln.size() < (size_t)rows * c) ln.resize((size_t)rows * c);
    if (scores.size() < (size_t)(A.t > A.s ? A.t : A.s) + 1) scores.resize((size_t)(A.t > A.s ? A.t : A.s) + 1);
    const float scale = (float)(1.0 / sqrt((double)hs));
    const int64_t heads_rows = (int64_t)A.b * A.nh * A.t;  // attention work items (b, h, i)
    const int64_t a0 = heads_rows * th / nth, a1 = heads_rows * (th + 1) / nth;

    // 1. the memory's keys and values; q, k, v of norm1(x)
    if (mrows > 0 && A.memory_kv == nullptr) {
        panel_product<V, MR, STORE>(A.memory, mrows, c, p[CT_DEC_CROSS_KV_P], p[CT_DEC_CROSS_IN_B] + c, kv, 2 * c,
                                    th, nth);
    }
    norm_rows(x, p[CT_DEC_NORM1_W], p[CT_DEC_NORM1_B], ln.data(), rows, c, A.eps, 0, 1);
    panel_product<V, MR, STORE>(ln.data(), rows, c, p[CT_DEC_SELF_IN_P], p[CT_DEC_SELF_IN_B], qkv, 3 * c, th, nth);
#pragma omp barrier
    // 2. self-attention, one (b, h, i) row at a time
    for (int64_t r = a0; r < a1; r++) {
        const int bi = (int)(r / ((int64_t)A.nh * A.t)), h = (int)(r / A.t % A.nh), i = (int)(r % A.t);
        const float* base = qkv + (int64_t)bi * A.t * 3 * c + h * hs;
        const int jend = A.causal ? (i + 1 < A.t ? i + 1 : A.t) : A.t;
        attend_row(base + (int64_t)i * 3 * c, base + c, base + 4 * c, base + 2 * c, base + 5 * c, 3 * c, nullptr,
                   jend, hs, scale, scores.data(), att + ((int64_t)bi * A.t + i) * c + h * hs);
    }
#pragma omp barrier
    // 3. x += out_proj(attention)
    panel_product<V, MR, ADD>(att, rows, c, p[CT_DEC_SELF_OUT_P], p[CT_DEC_SELF_OUT_B], x, c, th, nth);
#pragma omp barrier
    // 4. q of the cross-attention, from norm2(x)
    norm_rows(x, p[CT_DEC_NORM2_W], p[CT_DEC_NORM2_B], ln.data(), rows, c, A.eps, 0, 1);
    panel_product<V, MR, STORE>(ln.data(), rows, c, p[CT_DEC_CROSS_Q_P], p[CT_DEC_CROSS_IN_B], q, c, th, nth);
#pragma omp barrier
    // 5. cross-attention to the memory
    for (int64_t r = a0; r < a1; r++) {
        const int bi = (int)(r / ((int64_t)A.nh * A.t)), h = (int)(r / A.t % A.nh), i = (int)(r % A.t);
        const float* kb = mkv + (int64_t)bi * A.s * 2 * c + h * hs;
        const float* k_first = A.step_kv ? A.step_kv + h * hs : kb;
        attend_row(q + ((int64_t)bi * A.t + i) * c + h * hs, k_first, kb + 2 * c, k_first + c, kb + 3 * c, 2 * c,
                   A.mask ? A.mask + (int64_t)i * A.s : nullptr, A.s, hs, scale, scores.data(),
                   att + ((int64_t)bi * A.t + i) * c + h * hs);
    }
#pragma omp barrier
    // 6. x += out_proj(cross-attention)
    panel_product<V, MR, ADD>(att, rows, c, p[CT_DEC_CROSS_OUT_P], p[CT_DEC_CROSS_OUT_B], x, c, th, nth);
#pragma omp barrier
    // 7. hidden = gelu(linear1(norm3(x)))
    norm_rows(x, p[CT_DEC_NORM3_W], p[CT_DEC_NORM3_B], ln.data(), rows, c, A.eps, 0, 1);
    panel_product<V, MR, GELU>(ln.data(), rows, c, p[CT_DEC_LINEAR1_P], p[CT_DEC_LINEAR1_B], hidden, 4 * c, th,
                               nth);
#pragma omp barrier
    // 8. x += linear2(hidden)
    panel_product<V, MR, ADD>(hidden, rows, 4 * c, p[CT_DEC_LINEAR2_P], p[CT_DEC_LINEAR2_B], x, c, th, nth);
}

// The region sits in each target-specific function, so that its outlined body is compiled for that target.
#define CT_LAYER_REGION(V, MR)                                                  \
    _Pragma("omp parallel") {                                                   \
        layer_body<V, MR>(args, omp_get_thread_num(), omp_get_num_threads());   \
    }

__attribute__((target("avx512f,avx512vl,avx512dq,fma"))) void layer_avx512(const LayerArgs& args) {
    CT_LAYER_REGION(v16sf, 8)
}

__attribute__((target("avx2,fma"))) void layer_avx2(const LayerArgs& args) {
    CT_LAYER_REGION(v8sf, 2)
}

void layer_baseline(const LayerArgs& args) {
    CT_LAYER_REGION(v8sf, 2)
}

}  // namespace

CT_API int64_t ct_decoder_layer_workspace_size(int b, int t, int s, int c) {
    return 9 * (int64_t)b * t * c + 2 * (int64_t)b * s * c;
}

CT_API void ct_decoder_layer_inference_cpu(float* x, const float* memory, const float* memory_kv, const float* step_kv,
                                           const float* const* params, const float* memory_mask, int causal, int b,
                                           int t, int s, int c, int nh, float eps, float* workspace) {
    if (b <= 0 || t <= 0 || c <= 0) return;
    const LayerArgs args{x, memory, memory_kv, step_kv, params, memory_mask, causal, b, t, s, c, nh, eps, workspace};
    switch (ct_matmul_skinny_isa()) {
        case 2: layer_avx512(args); break;
        case 1: layer_avx2(args); break;
        default: layer_baseline(args);
    }
}
