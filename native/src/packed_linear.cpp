// packed_linear.cpp: CPU version of packed_linear.h: packing, and the product on the panel kernel of
// panel_product.h, one parallel region per call with whole panels per thread. Builds for AVX-512, AVX2+FMA and
// baseline x86-64, picked at run time by the switch of the skinny kernel (ct_matmul_set_isa).
#include "cotrain/packed_linear.h"
#include "matmul_skinny.h"
#include "panel_product.h"

CT_API int64_t ct_packed_panels_size(int rows, int k) {
    return (int64_t)((rows + CT_PANEL - 1) / CT_PANEL) * CT_PANEL * k;
}

CT_API void ct_pack_panels_cpu(const float* w, float* packed, int row0, int rows, int k) {
    // w: (row0 + rows or more, K); packed: ct_packed_panels_size(rows, k)
    const int panels = (rows + CT_PANEL - 1) / CT_PANEL;
#pragma omp parallel for if ((int64_t)rows * k > CT_PARALLEL_GRAIN)
    for (int p = 0; p < panels; p++) {
        float* dst = packed + (int64_t)p * k * CT_PANEL;
        for (int j = 0; j < CT_PANEL; j++) {
            const int r = p * CT_PANEL + j;
            if (r < rows) {
                const float* src = w + (int64_t)(row0 + r) * k;
                for (int kk = 0; kk < k; kk++) dst[(int64_t)kk * CT_PANEL + j] = src[kk];
            } else {
                for (int kk = 0; kk < k; kk++) dst[(int64_t)kk * CT_PANEL + j] = 0.0f;
            }
        }
    }
}

namespace {

// The region sits in each target-specific function, so that its outlined body is compiled for that target.
#define CT_PACKED_LINEAR_REGION(V, MR)                                                                        \
    _Pragma("omp parallel if ((int64_t)m * n * k > CT_PARALLEL_GRAIN)")                                    \
    panel_product<V, MR, STORE>(a, m, k, packed, bias, c, n, omp_get_thread_num(), omp_get_num_threads());

__attribute__((target("avx512f,avx512vl,avx512dq,fma"))) void packed_linear_avx512(
        const float* a, const float* packed, const float* bias, float* c, int m, int n, int k) {
    CT_PACKED_LINEAR_REGION(v16sf, 8)
}

__attribute__((target("avx2,fma"))) void packed_linear_avx2(const float* a, const float* packed, const float* bias,
                                                            float* c, int m, int n, int k) {
    CT_PACKED_LINEAR_REGION(v8sf, 2)
}

void packed_linear_baseline(const float* a, const float* packed, const float* bias, float* c, int m, int n, int k) {
    CT_PACKED_LINEAR_REGION(v8sf, 2)
}

}  // namespace

CT_API void ct_packed_linear_cpu(const float* a, const float* packed, const float* bias, float* c, int m, int n,
                                 int k) {
    // a: (M, K); packed: ct_packed_panels_size(N, K); bias: (N); c: (M, N)
    if (m <= 0 || n <= 0) return;
    switch (ct_matmul_skinny_isa()) {
        case 2: packed_linear_avx512(a, packed, bias, c, m, n, k); break;
        case 1: packed_linear_avx2(a, packed, bias, c, m, n, k); break;
        default: packed_linear_baseline(a, packed, bias, c, m, n, k);
    }
}
