// maxpool.cpp: CPU reference of maxpool.h. Planes (N C of them) are independent, so both passes run in parallel
// over planes; within a plane the backward adds in output order, so results do not depend on the thread count.
#include <limits>

#include "cotrain/maxpool.h"
#include "cpu_common.h"

// Output columns j whose input column j S - P + off lies in [0, size): [lo, hi).
static inline int valid_lo(int pad, int off, int stride) {
    const int t = pad - off;
    return t <= 0 ? 0 : (t + stride - 1) / stride;
}
static inline int valid_hi(int size, int pad, int off, int stride, int out) {
    const int t = size - 1 + pad - off;
    if (t < 0) return 0;
    return t / stride + 1 < out ? t / stride + 1 : out;
}

// One output row i of a plane: the window taps are visited in row-major order (u, then v), each tap updating all
// the row's outputs at once. Per output that is the same sequence of comparisons as a window-by-window loop (so the
// same ties and NaN rule), but the running maxima of different outputs are independent, so the j loop vectorises;
// a window-by-window loop is one long dependency chain through the running maximum, latency-bound at ~5 cycles per
// comparison.
CT_MULTIVERSION static void pool_row(const float* xp, float* yr, int32_t* ar, int i, int h, int w, int wo, int kh,
                                     int kw, int sh, int sw, int ph, int pw) {
    const int r0 = i * sh - ph;
    const int r_lo = r0 < 0 ? 0 : r0, r_hi = r0 + kh < h ? r0 + kh : h;
    // start: -inf at each window's first in-image pixel, as PyTorch
    for (int j = 0; j < wo; j++) {
        const int c0 = j * sw - pw;
        yr[j] = -std::numeric_limits<float>::infinity();
        ar[j] = r_lo * w + (c0 < 0 ? 0 : c0);
    }
    for (int r = r_lo; r < r_hi; r++) {
        const float* xr = xp + (int64_t)r * w;
        for (int v = 0; v < kw; v++) {
            const int j0 = valid_lo(pw, v, sw);
            const int j1 = valid_hi(w, pw, v, sw, wo);
            const int base = r * w - pw + v;  // input index of output column j: base + j sw
            for (int j = j0; j < j1; j++) {
                const float x = xr[j * sw - pw + v];
                const bool take = x > yr[j] || x != x;  // PyTorch: take v when v > max or v is NaN
                yr[j] = take ? x : yr[j];
                ar[j] = take ? base + j * sw : ar[j];
            }
        }
    }
}

CT_API void ct_maxpool2d_forward_cpu(const float* x, float* y, int32_t* argmax, int64_t planes, int h, int w,
                                     int kh, int kw, int sh, int sw, int ph, int pw) {
    // x: (planes, H, W) -> y, argmax: (planes, Ho, Wo)
    const int ho = (h + 2 * ph - kh) / sh + 1, wo = (w + 2 * pw - kw) / sw + 1;
    if (planes <= 0 || ho <= 0 || wo <= 0) return;
    const int64_t in_plane = (int64_t)h * w, out_plane = (int64_t)ho * wo;
#pragma omp parallel for schedule(static) if (planes * out_plane * kh * kw > CT_PARALLEL_GRAIN)
    for (int64_t p = 0; p < planes; p++) {
        for (int i = 0; i < ho; i++) {
            pool_row(x + p * in_plane, y + p * out_plane + (int64_t)i * wo, argmax + p * out_plane + (int64_t)i * wo,
                     i, h, w, wo, kh, kw, sh, sw, ph, pw);
        }
    }
}

CT_API void ct_maxpool2d_backward_cpu(const float* dy, const int32_t* argmax, float* dx, int64_t planes, int h,
                                      int w, int kh, int kw, int sh, int sw, int ph, int pw) {
    // dy, argmax: (planes, Ho, Wo); dx: (planes, H, W) accumulated
    const int ho = (h + 2 * ph - kh) / sh + 1, wo = (w + 2 * pw - kw) / sw + 1;
    if (planes <= 0 || ho <= 0 || wo <= 0) return;
    const int64_t in_plane = (int64_t)h * w, out_plane = (int64_t)ho * wo;
#pragma omp parallel for schedule(static) if (planes * out_plane > CT_PARALLEL_GRAIN)
    for (int64_t p = 0; p < planes; p++) {
        const float* dyp = dy + p * out_plane;
        const int32_t* ap = argmax + p * out_plane;
        float* dxp = dx + p * in_plane;
        for (int64_t o = 0; o < out_plane; o++) {
            const int32_t idx = ap[o];
            if (idx >= 0 && idx < in_plane) dxp[idx] += dyp[o];  // a corrupt index is skipped, never written through
        }
    }
}
