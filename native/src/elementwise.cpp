// elementwise.cpp: CPU reference of elementwise.h: fill, axpby, mul and the row broadcast add.
//
// Every output element depends only on the inputs at the same index (or, for the broadcast, on b at the same
// column), and is written after they are read, so out may be the same array as a or b. The pointers are therefore
// not declared __restrict; GCC vectorises the loops anyway and checks for partial overlap at run time.
#include "cotrain/elementwise.h"
#include "cpu_common.h"

CT_API CT_MULTIVERSION void ct_fill_cpu(float* out, float value, int64_t n) {
    // out: (n)
#pragma omp parallel for if (n > CT_PARALLEL_GRAIN)
    for (int64_t i = 0; i < n; i++) out[i] = value;
}

CT_API CT_MULTIVERSION void ct_axpby_cpu(const float* a, const float* b, float* out, float alpha, float beta,
                                         int64_t n) {
    // a, b, out: (n). b is read even when beta == 0 (0 * NaN is NaN), which is why scale passes b == a.
#pragma omp parallel for if (n > CT_PARALLEL_GRAIN)
    for (int64_t i = 0; i < n; i++) out[i] = alpha * a[i] + beta * b[i];
}

CT_API CT_MULTIVERSION void ct_mul_cpu(const float* a, const float* b, float* out, int64_t n) {
    // a, b, out: (n)
#pragma omp parallel for if (n > CT_PARALLEL_GRAIN)
    for (int64_t i = 0; i < n; i++) out[i] = a[i] * b[i];
}

CT_API CT_MULTIVERSION void ct_add_broadcast_cpu(const float* a, const float* b, float* out, int64_t rows,
                                                 int64_t cols) {
    // a, out: (rows, cols); b: (cols). Parallel over rows, contiguous over columns.
#pragma omp parallel for if (rows * cols > CT_PARALLEL_GRAIN)
    for (int64_t r = 0; r < rows; r++) {
        const float* ar = a + r * cols;
        float* outr = out + r * cols;
        for (int64_t c = 0; c < cols; c++) outr[c] = ar[c] + b[c];
    }
}
