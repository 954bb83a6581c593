// decoder_inference.cu: CUDA version of decoder_inference.h (the math and the packed layout are described there and
// in native/src/decoder_inference.cpp). One launch per phase on the caller's stream, 12 in all, no host
// synchronisation, so a sampling loop of these layers can be captured in a CUDA graph.
//
// products: those of packed_linear.cu (panel_product.cuh).
// norms: one warp per row, as layernorm.cu.
// attention: one warp per (b, h, i) query row, lanes over the head's HS <= 256 columns (8 per lane), an online
//   softmax over the keys (running max and sum, rescaled as each key comes), so nothing of size Tk is stored.
#include "cotrain/decoder_inference.h"
#include "cuda_common.cuh"
#include "panel_product.cuh"

#include <math.h>

namespace {

constexpr int kMaxLanes = 8;  // HS <= 32 * 8

// y = layer_norm(x) * w + b, one warp per row; block of 8 warps
__global__ void norm_kernel(const float* x, const float* w, const float* b, float* y, int rows, int c, float eps) {
    const int lane = threadIdx.x % 32;
    const int r = blockIdx.x * 8 + threadIdx.x / 32;
    if (r >= rows) return;
    const float* xr = x + (int64_t)r * c;
    float* yr = y + (int64_t)r * c;
    float sum = 0.0f;
    for (int i = lane; i < c; i += 32) sum += xr[i];
    const float mean = ct_warp_sum(sum) / c;
    float sq = 0.0f;
    for (int i = lane; i < c; i += 32) {
        const float d = xr[i] - mean;
        sq += d * d;
    }
    const float s = 1.0f / sqrtf(ct_warp_sum(sq) / c + eps);
    for (int i = lane; i < c; i += 32) yr[i] = (xr[i] - mean) * s * w[i] + b[i];
}

// out[(bi T + i) C + h HS + d] = attention of query row (bi, h, i) over keys j < jend: q at
// q + (bi T + i) q_ld + h HS; key j >= 1 at k + (bi Tk + j) kv_ld + h HS, value j at v + the same offset; key and
// value 0 the same, or at k0 and k0 + v - k when k0 is given (a token shared by the batch).
// One warp per row, blocks of 8 warps.
__global__ void attention_kernel(const float* q, int q_ld, const float* k, const float* v, int kv_ld, const float* k0,
                                 const float* mask, float* out, int b, int nh, int t, int tk, int hs, int c,
                                 int causal, float scale) {
    const int lane = threadIdx.x % 32;
    const int64_t r = (int64_t)blockIdx.x * 8 + threadIdx.x / 32;
    if (r >= (int64_t)b * nh * t) return;
    const int bi = (int)(r / ((int64_t)nh * t)), h = (int)(r / t % nh), i = (int)(r % t);
    const float* qi = q + ((int64_t)bi * t + i) * q_ld + h * hs;
    float qv[kMaxLanes], acc[kMaxLanes];
    for (int u = 0; u < kMaxLanes; u++) {
        const int d = lane + 32 * u;
        qv[u] = d < hs ? qi[d] : 0.0f;
        acc[u] = 0.0f;
    }
    const int jend = causal ? min(i + 1, tk) : tk;
    float running_max = -INFINITY, running_sum = 0.0f;
    for (int j = 0; j < jend; j++) {
        const int64_t off = ((int64_t)bi * tk + j) * kv_ld + h * hs;
        const float* kj = (j == 0 && k0) ? k0 + h * hs : k + off;
        const float* vj = (j == 0 && k0) ? k0 + (v - k) + h * hs : v + off;
        float dot = 0.0f;
        for (int u = 0; u < kMaxLanes; u++) {
            const int d = lane + 32 * u;
            if (d < hs) dot += qv[u] * kj[d];
        }
        float sj = scale * ct_warp_sum(dot);
        if (mask) sj += mask[(int64_t)i * tk + j];
        if (sj == -INFINITY) continue;  // a masked key adds nothing
        const float new_max = fmaxf(running_max, sj);
        const float correction = expf(running_max - new_max);  // 0 on the first visible key
        const float p = expf(sj - new_max);
        running_sum = running_sum * correction + p;
        for (int u = 0; u < kMaxLanes; u++) {
            const int d = lane + 32 * u;
            acc[u] = acc[u] * correction + (d < hs ? p * vj[d] : 0.0f);
        }
        running_max = new_max;
    }
    float* oi = out + ((int64_t)bi * t + i) * c + h * hs;
    const float inv = running_sum > 0.0f ? 1.0f / running_sum : 0.0f;  // every key masked: output 0
    for (int u = 0; u < kMaxLanes; u++) {
        const int d = lane + 32 * u;
        if (d < hs) oi[d] = acc[u] * inv;
    }
}

int launch_norm(const float* x, const float* w, const float* b, float* y, int rows, int c, float eps,
                cudaStream_t stream) {
    norm_kernel<<<(rows + 7) / 8, 256, 0, stream>>>(x, w, b, y, rows, c, eps);
    return ct_launch_status();
}

}  // namespace

CT_API int ct_decoder_layer_inference_cuda(float* x, const float* memory, const float* memory_kv,
                                           const float* step_kv, const float* const* params,
                                           const float* memory_mask, int causal, int b, int t, int s, int c, int nh,
                                           float eps, float* workspace, void* stream_ptr) {
    if (b <= 0 || t <= 0 || c <= 0) return 0;
    const int hs = c / nh;
    if (hs > 32 * kMaxLanes) return (int)cudaErrorInvalidValue;
    cudaStream_t stream = CT_STREAM(stream_ptr);
    const float* const* p = params;
    const int rows = b * t, mrows = b * s;
    // the CPU version's workspace layout; the normalised rows share att's place (each is read before att is written)
    float* qkv = workspace;
    float* att = qkv + (int64_t)rows * 3 * c;
    float* ln = att;
    float* q = att + (int64_t)rows * c;
    float* hidden = q + (int64_t)rows * c;
    float* kv = hidden + (int64_t)rows * 4 * c;
    const float scale = (float)(1.0 / sqrt((double)hs));
    const int64_t att_rows = (int64_t)b * nh * t;
    const unsigned att_blocks = (unsigned)((att_rows + 7) / 8);
    int e;
#define CT_DEC_STEP(call) \
    if ((e = (call)) != 0) return e
    CT_DEC_STEP(launch_norm(x, p[CT_DEC_NORM1_W], p[CT_DEC_NORM1_B], ln, rows, c, eps, stream));
    if (memory_kv == nullptr) {
        CT_DEC_STEP(launch_panel_product<STORE>(memory, mrows, c, p[CT_DEC_CROSS_KV_P], p[CT_DEC_CROSS_IN_B] + c, kv,
                                                2 * c, stream));
    }
    const float* mkv = memory_kv ? memory_kv : kv;
    CT_DEC_STEP(launch_panel_product<STORE>(ln, rows, c, p[CT_DEC_SELF_IN_P], p[CT_DEC_SELF_IN_B], qkv, 3 * c, stream));
    attention_kernel<<<att_blocks, 256, 0, stream>>>(qkv, 3 * c, qkv + c, qkv + 2 * c, 3 * c, nullptr, nullptr, att,
                                                     b, nh, t, t, hs, c, causal, scale);
    CT_DEC_STEP(ct_launch_status());
    CT_DEC_STEP(launch_panel_product<ADD>(att, rows, c, p[CT_DEC_SELF_OUT_P], p[CT_DEC_SELF_OUT_B], x, c, stream));
    CT_DEC_STEP(launch_norm(x, p[CT_DEC_NORM2_W], p[CT_DEC_NORM2_B], ln, rows, c, eps, stream));
    CT_DEC_STEP(launch_panel_product<STORE>(ln, rows, c, p[CT_DEC_CROSS_Q_P], p[CT_DEC_CROSS_IN_B], q, c, stream));
    attention_kernel<<<att_blocks, 256, 0, stream>>>(q, c, mkv, mkv + c, 2 * c, step_kv, memory_mask, att, b, nh, t,
                                                     s, hs, c, 0, scale);
    CT_DEC_STEP(ct_launch_status());
    CT_DEC_STEP(launch_panel_product<ADD>(att, rows, c, p[CT_DEC_CROSS_OUT_P], p[CT_DEC_CROSS_OUT_B], x, c, stream));
    CT_DEC_STEP(launch_norm(x, p[CT_DEC_NORM3_W], p[CT_DEC_NORM3_B], ln, rows, c, eps, stream));
    CT_DEC_STEP(launch_panel_product<GELU>(ln, rows, c, p[CT_DEC_LINEAR1_P], p[CT_DEC_LINEAR1_B], hidden, 4 * c,
                                           stream));
    CT_DEC_STEP(launch_panel_product<ADD>(hidden, rows, 4 * c, p[CT_DEC_LINEAR2_P], p[CT_DEC_LINEAR2_B], x, c, stream));
#undef CT_DEC_STEP
    return 0;
}
