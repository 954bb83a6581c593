// matmul.cpp: CPU batched matrix product through OpenBLAS (matmul.h). No handwritten GEMM: cblas_sgemm does the
// work; this file maps our row-major, strided-batch convention onto it and adds the bias.
#include <cblas.h>

#include "cotrain/matmul.h"
#include "cpu_common.h"

// OpenBLAS runs a GEMM on one thread (the caller's) when m * n * k is below
// SMP_THRESHOLD_MIN (65536) * GEMM_MULTITHREAD_THRESHOLD (4 in the shipped build, openblas_config.h). A batch of
// such small products (attention-sized (T, T) x (T, HS) blocks) is better spread over the batch with OpenMP, one
// whole product per thread, than run one after the other. Because every call then stays single-threaded inside
// OpenBLAS, concurrent calls from our OpenMP threads never start nested OpenBLAS thread pools, whichever
// threading build (pthreads or OpenMP) the jar ships; larger products run one after the other and let OpenBLAS
// use its own threads.
#define CT_SMALL_GEMM_FLOPS (65536LL * 4)

// c (rows, n) += bias (n) on every row; the caller decides whether this runs in parallel.
CT_MULTIVERSION static void add_bias_rows(float* c, const float* bias, int64_t rows, int n) {
    for (int64_t r = 0; r < rows; r++) {
        float* cr = c + r * n;
        for (int j = 0; j < n; j++) cr[j] += bias[j];
    }
}

// The same over many rows, in parallel over blocks of 64 rows.
static void add_bias_rows_parallel(float* c, const float* bias, int64_t rows, int n) {
    const int64_t blocks = (rows + 63) / 64;
#pragma omp parallel for schedule(static) if (rows * n > CT_PARALLEL_GRAIN)
    for (int64_t bl = 0; bl < blocks; bl++) {
        int64_t r0 = bl * 64;
        add_bias_rows(c + r0 * n, bias, rows - r0 < 64 ? rows - r0 : 64, n);
    }
}

// One product C = alpha op(A) op(B) + beta C, row-major. Leading dimensions are the stored row lengths, at
// least 1 as BLAS demands even for empty matrices.
static void gemm_one(const float* a, const float* b, float* c, int m, int n, int k, int trans_a, int trans_b,
                     float alpha, float beta) {
    int lda = trans_a ? m : k;  // A stored (M, K), or (K, M) when trans_a
    int ldb = trans_b ? k : n;  // B stored (K, N), or (N, K) when trans_b
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k,
                alpha, a, lda > 0 ? lda : 1, b, ldb > 0 ? ldb : 1, beta, c, n > 0 ? n : 1);
}

CT_API void ct_matmul_cpu(const float* a, const float* b, const float* bias, float* c, int batch, int m, int n,
                          int k, int trans_a, int trans_b, int64_t stride_a, int64_t stride_b, int64_t stride_c,
                          float alpha, float beta) {
    // a: (batch, M, K) or (batch, K, M) [stride_a], b: (batch, K, N) or (batch, N, K) [stride_b, 0 = shared],
    // bias: (N) or NULL, c: (batch, M, N) [stride_c]
    if (batch <= 0 || m <= 0 || n <= 0) return;

    if (k == 0) {
        // An empty sum: C = beta C, with beta == 0 overwriting whatever C held (NaN included), as BLAS does.
        for (int bi = 0; bi < batch; bi++) {
            float* cb = c + bi * stride_c;
            for (int64_t i = 0; i < (int64_t)m * n; i++) cb[i] = beta == 0.0f ? 0.0f : beta * cb[i];
        }
    } else if (batch > 1 && stride_b == 0 && !trans_a && stride_a == (int64_t)m * k &&
               stride_c == (int64_t)m * n && (int64_t)batch * m <= 0x7fffffffLL) {
        // Contiguous (batch, M, K) activations times one shared weight: the batch is just more rows, so one
        // (batch * M, K) x (K, N) GEMM, which OpenBLAS blocks and threads far better than batch small ones.
        gemm_one(a, b, c, batch * m, n, k, 0, trans_b, alpha, beta);
    } else if (batch > 1 && (int64_t)m * n * k < CT_SMALL_GEMM_FLOPS) {
        // Many small products: one per OpenMP thread (see CT_SMALL_GEMM_FLOPS), each adding its bias while its
        // C is still in cache.
#pragma omp parallel for schedule(static)
        for (int bi = 0; bi < batch; bi++) {
            float* cb = c + bi * stride_c;
            gemm_one(a + bi * stride_a, b + bi * stride_b, cb, m, n, k, trans_a, trans_b, alpha, beta);
            if (bias != nullptr) add_bias_rows(cb, bias, m, n);
        }
        return;
    } else {
        for (int bi = 0; bi < batch; bi++)
            gemm_one(a + bi * stride_a, b + bi * stride_b, c + bi * stride_c, m, n, k, trans_a, trans_b, alpha, beta);
    }

    // The bias after the GEMM, in one parallel pass over C (cblas has no bias epilogue).
    if (bias != nullptr) {
        if (stride_c == (int64_t)m * n) {
            add_bias_rows_parallel(c, bias, (int64_t)batch * m, n);
        } else {
            for (int bi = 0; bi < batch; bi++) add_bias_rows_parallel(c + bi * stride_c, bias, m, n);
        }
    }
}

CT_API void ct_blas_set_num_threads(int n) {
    // OpenBLAS keeps its own thread count (its pthreads pool ignores omp_set_num_threads).
    openblas_set_num_threads(n > 0 ? n : openblas_get_num_procs());
}
