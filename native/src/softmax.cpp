// softmax.cpp: CPU reference of softmax.h, softmax over the last dimension. Rows are independent (OpenMP over
// rows); within a row the max is subtracted before exp so that nothing overflows, and the denominator is summed
// in double.
//
// glibc's expf is a scalar call (about 10 ns, and it keeps the loop from vectorising); every argument here is
// x - max <= 0, so the branch-free exp of activation.cpp serves (copied: the two files share no private header).
#include "cotrain/softmax.h"
#include "cpu_common.h"

#include <math.h>
#include <string.h>

CT_API CT_MULTIVERSION void ct_softmax_forward_cpu(const float* x, float* y, int64_t rows, int cols) {
    // x, y: (rows, cols). y may be x: each row is read (max, exp) before its values are replaced.
    if (rows <= 0 || cols <= 0) return;
#pragma omp parallel for if (rows * cols > CT_PARALLEL_GRAIN / 8)
    for (int64_t r = 0; r < rows; r++) {
        const float* xr = x + r * cols;
        float* yr = y + r * cols;
        float m = -INFINITY;
#pragma omp simd reduction(max : m)
        for (int i = 0; i < cols; i++) m = fmaxf(m, xr[i]);
        double sum = 0.0;
#pragma omp simd reduction(+ : sum)
        for (int i = 0; i < cols; i++) {
            float e = ct_expf_nonpos(xr[i] - m);
            yr[i] = e;
            sum += e;
        }
        float inv = (float)(1.0 / sum);
        for (int i = 0; i < cols; i++) yr[i] *= inv;
    }
}

CT_API CT_MULTIVERSION void ct_softmax_backward_cpu(const float* y, const float* dy, float* dx, int64_t rows,
                                                    int cols) {
    // y, dy, dx: (rows, cols). The Jacobian of softmax is diag(y) - y y^T, so
    // dx = y * (dy - <dy, y>) with one dot product per row.
    if (rows <= 0 || cols <= 0) return;
#pragma omp parallel for if (rows * cols > CT_PARALLEL_GRAIN)
    for (int64_t r = 0; r < rows; r++) {
        const float* yr = y + r * cols;
        const float* dyr = dy + r * cols;
        float* dxr = dx + r * cols;
        double dot = 0.0;
#pragma omp simd reduction(+ : dot)
        for (int i = 0; i < cols; i++) dot += (double)dyr[i] * yr[i];
        float d = (float)dot;
        for (int i = 0; i < cols; i++) dxr[i] += yr[i] * (dyr[i] - d);
    }
}
