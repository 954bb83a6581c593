// permute.cpp: CPU reference of permute.h. One (b, t) row of x at a time: its NH head slices of HS contiguous
// floats go to (or come from) NH places of the head-major tensor, HS floats each.
#include "cotrain/permute.h"
#include "cpu_common.h"

#include <string.h>

namespace {

// dst[d] (+)= src[d] for d < n.
CT_MULTIVERSION void copy_or_add(const float* src, float* dst, int64_t n, int accumulate) {
    if (accumulate) {
#pragma omp simd
        for (int64_t d = 0; d < n; d++) dst[d] += src[d];
    } else {
        memcpy(dst, src, (size_t)n * sizeof(float));
    }
}

}  // namespace

// x: (B, T, W) read at columns [col, col + NH * HS); out: (B, NH, T, HS)
CT_API void ct_split_heads_cpu(const float* x, float* out, int b, int t, int nh, int hs, int64_t w, int64_t col,
                               int accumulate) {
    const int64_t rows = (int64_t)b * t;
    if (rows <= 0 || nh <= 0 || hs <= 0) return;
#pragma omp parallel for schedule(static) if (rows * nh * hs > CT_PARALLEL_GRAIN)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t bi = r / t;
        const int64_t ti = r % t;
        const float* xr = x + r * w + col;
        for (int h = 0; h < nh; h++) {
            float* o = out + ((bi * nh + h) * t + ti) * hs;
            copy_or_add(xr + (int64_t)h * hs, o, hs, accumulate);
        }
    }
}

// y: (B, NH, T, HS); x: (B, T, W) written at columns [col, col + NH * HS) only
CT_API void ct_merge_heads_cpu(const float* y, float* x, int b, int t, int nh, int hs, int64_t w, int64_t col,
                               int accumulate) {
    const int64_t rows = (int64_t)b * t;
    if (rows <= 0 || nh <= 0 || hs <= 0) return;
#pragma omp parallel for schedule(static) if (rows * nh * hs > CT_PARALLEL_GRAIN)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t bi = r / t;
        const int64_t ti = r % t;
        float* xr = x + r * w + col;
        for (int h = 0; h < nh; h++) {
            const float* yi = y + ((bi * nh + h) * t + ti) * hs;
            copy_or_add(yi, xr + (int64_t)h * hs, hs, accumulate);
        }
    }
}
