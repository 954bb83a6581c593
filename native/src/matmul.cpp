// matmul.cpp: CPU batched matrix product (matmul.h). cblas_sgemm does the work, except for the few-row products of
// batch-1 inference (matmul_skinny.cpp); this file maps our row-major, strided-batch convention onto them, adds the
// bias, and chooses OpenBLAS's kernel set.
#include <cblas.h>
#include <strings.h>

#include "cotrain/matmul.h"
#include "cpu_common.h"
#include "matmul_skinny.h"
#include "cpu_gemm.h"

// One thread pool: OpenBLAS is kept single-threaded (ct_blas_set_num_threads) and every parallel GEMM is split
// by us over OpenMP threads, each thread calling cblas_sgemm on its own block of C. Two pools (OpenMP for our
// kernels, OpenBLAS's pthreads for GEMMs) alternating ~100 times per forward pass spin-wait against each other;
// on a 2-core machine that made a denoising step at batch 64 run 100x slower than its FLOPs. With one pool the
// threads that run the elementwise kernels also run the GEMMs.
//
// A product below CT_GEMM_PARALLEL_FLOPS runs on the calling thread: splitting it costs more than it saves.
#define CT_GEMM_PARALLEL_FLOPS (1LL << 20)
// At most this many rows (of A, with the batch folded in) against a weight stored (N, K) go to the skinny kernel of
// matmul_skinny.cpp instead of OpenBLAS: batch-1 inference.
#define CT_SKINNY_ROWS 32
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

// The same for a whole (M, N) product, split into parts when it is large: into row blocks of C (rows of op(A)) when M
// is tall enough, else into column blocks (columns of op(B)), each a multiple of 16 so that OpenBLAS's kernels see
// whole panels. The parts run on the OpenMP threads.
//
// The partition depends on the shape and the machine's core count, never on the number of threads in use: OpenBLAS
// can round an element differently when it gets a block of another size (its small-matrix path, its tail kernels),
// so a thread-dependent partition made a policy's actions differ in the last bits between 1 and 2 threads. With a
// fixed partition, a sweep point trained on 1 thread gives the same result as on all of them.
static void gemm_one(const float* a, const float* b, float* c, int m, int n, int k, int trans_a, int trans_b,
                     float alpha, float beta) {
    const int lda = trans_a ? m : k;  // A stored (M, K), or (K, M) when trans_a
    const int ldb = trans_b ? k : n;  // B stored (K, N), or (N, K) when trans_b
    static const int parts = omp_get_num_procs() > 1 ? omp_get_num_procs() : 1;
    if (parts == 1 || 2LL * m * n * k < CT_GEMM_PARALLEL_FLOPS) {
        gemm_block(a, b, c, m, n, k, trans_a, trans_b, lda, ldb, n, alpha, beta);
        return;
    }
    const bool by_rows = m >= 16 * parts || m >= n;
    const int extent = by_rows ? m : n;
    int block = (extent + parts - 1) / parts;
    block = (block + 15) / 16 * 16;
#pragma omp parallel for schedule(static) if (!omp_in_parallel())
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

    const bool rows_contiguous = batch == 1 || (stride_b == 0 && !trans_a && stride_a == (int64_t)m * k &&
                                                 stride_c == (int64_t)m * n);
    if (k > 0 && !trans_a && trans_b && rows_contiguous && (int64_t)batch * m <= CT_SKINNY_ROWS) {
        // Few rows against a Linear's weight (batch-1 inference): W read in place, bias in the same pass.
        const int rows = batch * m;
        ct_matmul_skinny_nt(a, b, bias, c, rows, n, k, alpha, beta,
                            2LL * rows * n * k >= CT_GEMM_PARALLEL_FLOPS && !omp_in_parallel());
        return;
    }

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

// ---- OpenBLAS's kernel set -------------------------------------------------------------------------------------
// The OpenBLAS jar is a DYNAMIC_ARCH build: it picks its kernels (sgemm among them) for the CPU when it loads, unless
// OPENBLAS_CORETYPE names a set. Forcing an AVX2 set (Haswell, Zen) on a CPU with AVX-512 costs a lot (measured on an
// AMD EPYC with AVX-512: sgemm 2048^3 at 105 GFLOP/s per core with the Haswell kernels, 187 with the SkylakeX ones),
// so the backend reports the set in use (cotrain info, bench) and says when AVX-512 goes unused.
extern "C" char* openblas_get_corename(void) __attribute__((weak));  // exported by DYNAMIC_ARCH builds

CT_API int ct_blas_avx512_unused(void) {
    __builtin_cpu_init();
    const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
                        __builtin_cpu_supports("avx512cd");
    const char* core = openblas_get_corename ? openblas_get_corename() : nullptr;
    return avx512 && core != nullptr && (strcasecmp(core, "haswell") == 0 || strcasecmp(core, "zen") == 0);
}

CT_API int ct_matmul_set_isa(int max_level) {
    return ct_matmul_skinny_set_isa(max_level);
}

CT_API const char* ct_blas_core(void) {
    return openblas_get_corename ? openblas_get_corename() : "unknown";
}

CT_API void ct_blas_set_num_threads(int n) {
    // OpenBLAS stays on the calling thread; the parallelism is ours (see the top of this file), so n is the
    // OpenMP thread count and OpenBLAS always gets 1.
    (void)n;
    openblas_set_num_threads(1);
}
