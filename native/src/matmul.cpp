// matmul.cpp: CPU batched matrix product through OpenBLAS (matmul.h). No handwritten GEMM: cblas_sgemm does the
// work; this file maps our row-major, strided-batch convention onto it and adds the bias.
#include <cblas.h>

#include "cotrain/matmul.h"
#include "cpu_common.h"
#include "cpu_gemm.h"

// One thread pool: OpenBLAS is kept single-threaded (ct_blas_set_num_threads) and every parallel GEMM is split
// by us over OpenMP threads, each thread calling cblas_sgemm on its own block of C. Two pools (OpenMP for our
// kernels, OpenBLAS's pthreads for GEMMs) alternating ~100 times per forward pass spin-wait against each other;
// on a 2-core machine that made a denoising step at batch 64 run 100x slower than its FLOPs. With one pool the
// threads that run the elementwise kernels also run the GEMMs.
//
// A product below CT_GEMM_PARALLEL_FLOPS runs on the calling thread: splitting it costs more than it saves.
#define CT_GEMM_PARALLEL_FLOPS (1LL << 20)
// Many small products of a batch (attention-sized blocks) go one whole product per thread instead.
#define CT_SMALL_GEMM_FLOPS (65536LL * 4)
// A column-split product (few rows: batch-1 inference, M = tokens) goes to OpenBLAS in slices of 16 columns: at
// that size OpenBLAS takes its small-matrix path, which reads the weights in place instead of repacking the whole
// matrix on every call (repacking was half the time of a batch-1 denoising step; measured 16 < 32 < 64 columns).
#define CT_SKINNY_COLS 16

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

// One product C = alpha op(A) op(B) + beta C, row-major, on the calling thread. lda/ldb are the stored row
// lengths of A and B, ldc of C; BLAS wants them at least 1 even for empty matrices.
static void gemm_block(const float* a, const float* b, float* c, int m, int n, int k, int trans_a, int trans_b,
                       int lda, int ldb, int ldc, float alpha, float beta) {
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k,
                alpha, a, lda > 0 ? lda : 1, b, ldb > 0 ? ldb : 1, beta, c, ldc > 0 ? ldc : 1);
}

// The same for a whole (M, N) product, split over the OpenMP threads when it is large: into row blocks of C
// (rows of op(A)) when M is tall enough, else into column blocks (columns of op(B)), each a multiple of 16 so
// that OpenBLAS's kernels see whole panels.
static void gemm_one(const float* a, const float* b, float* c, int m, int n, int k, int trans_a, int trans_b,
                     float alpha, float beta) {
    const int lda = trans_a ? m : k;  // A stored (M, K), or (K, M) when trans_a
    const int ldb = trans_b ? k : n;  // B stored (K, N), or (N, K) when trans_b
    const int threads = omp_get_max_threads();
    if (threads <= 1 || 2LL * m * n * k < CT_GEMM_PARALLEL_FLOPS || omp_in_parallel()) {
        gemm_block(a, b, c, m, n, k, trans_a, trans_b, lda, ldb, n, alpha, beta);
        return;
    }
    const bool by_rows = m >= 16 * threads || m >= n;
    const int extent = by_rows ? m : n;
    const int parts = threads;
    int block = (extent + parts - 1) / parts;
    block = (block + 15) / 16 * 16;
#pragma omp parallel for schedule(static) num_threads(parts)
    for (int p = 0; p < parts; p++) {
        const int lo = p * block;
        const int hi = lo + block < extent ? lo + block : extent;
        if (lo >= hi) continue;
        if (by_rows) {
            // rows lo..hi of op(A): rows of stored A, or its columns when transposed
            const float* ap = trans_a ? a + lo : a + (int64_t)lo * lda;
            gemm_block(ap, b, c + (int64_t)lo * n, hi - lo, n, k, trans_a, trans_b, lda, ldb, n, alpha, beta);
        } else {
            // columns lo..hi of op(B): columns of stored B, or its rows when transposed
            for (int c0 = lo; c0 < hi; c0 += CT_SKINNY_COLS) {
                const int c1 = c0 + CT_SKINNY_COLS < hi ? c0 + CT_SKINNY_COLS : hi;
                const float* bp = trans_b ? b + (int64_t)c0 * ldb : b + c0;
                gemm_block(a, bp, c + c0, m, c1 - c0, k, trans_a, trans_b, lda, ldb, n, alpha, beta);
            }
        }
    }
}

void ct_gemm_cpu(const float* a, const float* b, float* c, int m, int n, int k, int trans_a, int trans_b,
                 float alpha, float beta) {
    if (m <= 0 || n <= 0 || k <= 0) return;  // the callers never need the k == 0 case of ct_matmul_cpu
    gemm_one(a, b, c, m, n, k, trans_a, trans_b, alpha, beta);
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
        // Many small products: one per OpenMP thread, each adding its bias while its C is still in cache.
#pragma omp parallel for schedule(static)
        for (int bi = 0; bi < batch; bi++) {
            float* cb = c + bi * stride_c;
            gemm_one(a + bi * stride_a, b + bi * stride_b, cb, m, n, k, trans_a, trans_b, alpha, beta);
            if (bias != nullptr) add_bias_rows(cb, bias, m, n);
        }
        return;
    } else {
        // Few large products: one after the other, each split over the threads.
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
    // OpenBLAS stays on the calling thread; the parallelism is ours (see the top of this file), so n is the
    // OpenMP thread count and OpenBLAS always gets 1.
    (void)n;
    openblas_set_num_threads(1);
}
