// maxpool.cpp: CPU reference of maxpool.h. Planes (N C of them) are independent, so both passes run in parallel
// over planes; within a plane the backward adds in output order, so results do not depend on the thread count.
#include <limits>

#include "cotrain/maxpool.h"
#include "cpu_common.h"

CT_API void ct_maxpool2d_forward_cpu(const float* x, float* y, int32_t* argmax, int64_t planes, int h, int w,
                                     int kh, int kw, int sh, int sw, int ph, int pw) {
    // x: (planes, H, W) -> y, argmax: (planes, Ho, Wo)
    const int ho = (h + 2 * ph - kh) / sh + 1, wo = (w + 2 * pw - kw) / sw + 1;
    if (planes <= 0 || ho <= 0 || wo <= 0) return;
    const int64_t in_plane = (int64_t)h * w, out_plane = (int64_t)ho * wo;
#pragma omp parallel for schedule(static) if (planes * out_plane * kh * kw > CT_PARALLEL_GRAIN)
    for (int64_t p = 0; p < planes; p++) {
        const float* xp = x + p * in_plane;
        float* yp = y + p * out_plane;
        int32_t* ap = argmax + p * out_plane;
        for (int i = 0; i < ho; i++) {
            const int r0 = i * sh - ph;
            const int r_lo = r0 < 0 ? 0 : r0, r_hi = r0 + kh < h ? r0 + kh : h;
            for (int j = 0; j < wo; j++) {
                const int c0 = j * sw - pw;
                const int c_lo = c0 < 0 ? 0 : c0, c_hi = c0 + kw < w ? c0 + kw : w;
                // PyTorch: start from -inf at the window's first pixel; take v when v > max or v is NaN
                float best = -std::numeric_limits<float>::infinity();
                int32_t best_i = r_lo * w + c_lo;
                for (int r = r_lo; r < r_hi; r++) {
                    const float* xr = xp + (int64_t)r * w;
                    for (int c = c_lo; c < c_hi; c++) {
                        // selects, not branches: on activations the winner is unpredictable, and a mispredicted
                        // branch per comparison cost more than the comparisons
                        const float v = xr[c];
                        const bool take = v > best || v != v;
                        best = take ? v : best;
                        best_i = take ? r * w + c : best_i;
                    }
                }
                yp[(int64_t)i * wo + j] = best;
                ap[(int64_t)i * wo + j] = best_i;
            }
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
