// matmul.h: batched matrix products, C[b] = alpha * op(A[b]) op(B[b]) + beta * C[b] (+ bias broadcast over rows).
//
// op(X) is X or X^T. A[b] starts at A + b * stride_a, and so on; a stride of 0 broadcasts one matrix over the
// batch (e.g. a weight). Row-major: op(A) is (M, K), op(B) is (K, N), C is (M, N); A is stored (M, K) or, when
// trans_a, (K, M); B is stored (K, N) or, when trans_b, (N, K). bias is (N) or NULL.
// The CPU implementation calls OpenBLAS's cblas_sgemm, except for products of at most 32 rows against a weight
// stored (N, K) (batch-1 inference), which a small kernel of ours computes with W read in place (matmul_skinny.cpp). On the GPU the product goes
// through cuBLAS from Java (org.cotrain.backend.CudaBackend), and the bias through ct_add_broadcast_cuda
// (elementwise.h); the backward of a matmul is two more matmuls plus ct_sum_rows (reduce.h) for the bias.
#ifndef COTRAIN_MATMUL_H
#define COTRAIN_MATMUL_H

#include "common.h"

CT_API void ct_matmul_cpu(const float* a, const float* b, const float* bias, float* c,
                          int batch, int m, int n, int k, int trans_a, int trans_b,
                          int64_t stride_a, int64_t stride_b, int64_t stride_c, float alpha, float beta);

// Caps the instruction set of cotrain's own GEMM kernel (the few-row products): 2 AVX-512, 1 AVX2+FMA, 0 baseline
// x86-64; max_level < 0 restores what the CPU has. Returns the level now in use. For tests and benchmarks that
// compare the code paths on one machine; not thread-safe against running products.
CT_API int ct_matmul_set_isa(int max_level);

// The OpenBLAS kernel set in use ("SkylakeX", "Haswell", ...), and 1 when it is an AVX2 one on a CPU with the
// AVX-512 that OpenBLAS's SkylakeX kernels need (e.g. because OPENBLAS_CORETYPE forces it; matmul.cpp).
CT_API const char* ct_blas_core(void);
CT_API int ct_blas_avx512_unused(void);

// OpenBLAS's own thread count (separate from OpenMP's); set equal to ct_cpu_set_num_threads by the backend.
CT_API void ct_blas_set_num_threads(int n);

#endif
