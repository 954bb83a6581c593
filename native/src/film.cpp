// film.cpp: CPU reference of film.h, the per-(sample, channel) scale and bias of ConditionalResidualBlock1D.
//
// One row (b, c) of T values per iteration, rows in parallel (they are independent). The sums over T for dcond are
// accumulated in double, in a fixed order (the simd lanes' partial sums, then their sum), by the one thread that owns
// the row: the result does not depend on the thread count, and its error is the final float rounding (T is 4 to 16
// in DP-C, but nothing here relies on that).
#include "cotrain/film.h"
#include "cpu_common.h"

CT_API CT_MULTIVERSION void ct_film_forward_cpu(const float* x, const float* cond, float* y, int b, int c, int64_t t,
                                                int has_scale) {
    // x, y: (B, C, T); cond: (B, 2C) or (B, C)
    if (b <= 0 || c <= 0 || t <= 0) return;
    const int64_t rows = (int64_t)b * c;
    const int64_t stride = has_scale ? 2 * (int64_t)c : (int64_t)c;  // cond's row length
#pragma omp parallel for schedule(static) if (rows * t > CT_PARALLEL_GRAIN)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t bi = r / c, ci = r % c;
        const float* xr = x + r * t;
        float* yr = y + r * t;
        if (has_scale) {
            const float s = cond[bi * stride + ci], bb = cond[bi * stride + c + ci];
#pragma omp simd
            for (int64_t i = 0; i < t; i++) yr[i] = s * xr[i] + bb;
        } else {
            const float bb = cond[bi * stride + ci];
#pragma omp simd
            for (int64_t i = 0; i < t; i++) yr[i] = xr[i] + bb;
        }
    }
}

CT_API CT_MULTIVERSION void ct_film_backward_cpu(const float* dy, const float* x, const float* cond, float* dx,
                                                 float* dcond, int b, int c, int64_t t, int has_scale) {
    // dy, x, dx: (B, C, T); cond, dcond: (B, 2C) or (B, C); dx may be NULL
    if (b <= 0 || c <= 0) return;
    const int64_t rows = (int64_t)b * c;
    const int64_t stride = has_scale ? 2 * (int64_t)c : (int64_t)c;
#pragma omp parallel for schedule(static) if (rows * (t > 0 ? t : 1) > CT_PARALLEL_GRAIN)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t bi = r / c, ci = r % c;
        const float* dyr = dy + r * t;
        const float* xr = x + r * t;
        double sb = 0.0;
        if (has_scale) {
            const float s = cond[bi * stride + ci];
            double ss = 0.0;
#pragma omp simd reduction(+ : ss, sb)
            for (int64_t i = 0; i < t; i++) {
                ss += (double)dyr[i] * xr[i];
                sb += dyr[i];
            }
            if (dx) {
                float* dxr = dx + r * t;
#pragma omp simd
                for (int64_t i = 0; i < t; i++) dxr[i] = s * dyr[i];
            }
            dcond[bi * stride + ci] = (float)ss;
            dcond[bi * stride + c + ci] = (float)sb;
        } else {
#pragma omp simd reduction(+ : sb)
            for (int64_t i = 0; i < t; i++) sb += dyr[i];
            if (dx) {
                float* dxr = dx + r * t;
                for (int64_t i = 0; i < t; i++) dxr[i] = dyr[i];
            }
            dcond[bi * stride + ci] = (float)sb;
        }
    }
}
