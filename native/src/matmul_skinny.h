// matmul_skinny.h: the few-row product behind ct_matmul_cpu (see matmul_skinny.cpp for why it exists).
#ifndef COTRAIN_MATMUL_SKINNY_H
#define COTRAIN_MATMUL_SKINNY_H

// C (M, N) = alpha A (M, K) W^T + beta C (+ bias (N) on every row when bias is not NULL), W stored (N, K); every
// matrix dense row-major. parallel: split the rows of W over the OpenMP threads.
void ct_matmul_skinny_nt(const float* a, const float* w, const float* bias, float* c, int m, int n, int k,
                         float alpha, float beta, bool parallel);

// The instruction set the kernel uses: 2 AVX-512, 1 AVX2+FMA, 0 baseline x86-64. Set to min(max_level, what the CPU
// has), or to what the CPU has when max_level < 0; returns the level now in use (see ct_matmul_set_isa).
int ct_matmul_skinny_set_isa(int max_level);

// The level in use (also by decoder_inference.cpp's products).
int ct_matmul_skinny_isa();

#endif
