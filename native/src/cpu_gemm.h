// cpu_gemm.h: the row-major GEMM of matmul.cpp, for other CPU ops that are built on matrix products (conv2d.cpp).
// Internal to libcotrain_cpu, not part of the C API.
#ifndef COTRAIN_CPU_GEMM_H
#define COTRAIN_CPU_GEMM_H

// C (M, N) = alpha op(A) op(B) + beta C, row-major and contiguous: A stored (M, K), or (K, M) when trans_a; B stored
// (K, N), or (N, K) when trans_b. Split over the OpenMP threads when it is large and the caller is not already in
// a parallel region; inside one it runs on the calling thread. OpenBLAS itself stays single-threaded (matmul.cpp).
void ct_gemm_cpu(const float* a, const float* b, float* c, int m, int n, int k, int trans_a, int trans_b,
                 float alpha, float beta);

#endif
