// elementwise.h: pointwise arithmetic over flat arrays of n elements, and the row broadcast used by biases and
// position embeddings. out may alias an input. Their backward passes are themselves elementwise ops
// (d(a*b)/da = dout * b, ...), so there is no separate backward here.
#ifndef COTRAIN_ELEMENTWISE_H
#define COTRAIN_ELEMENTWISE_H

#include "common.h"

// out = value                                                                      out: (n)
CT_API void ct_fill_cpu(float* out, float value, int64_t n);
CT_API int ct_fill_cuda(float* out, float value, int64_t n, void* stream);

// out = alpha * a + beta * b   (add: 1, 1; subtract: 1, -1; scale: alpha, 0 with b == a; accumulate: out == b)
CT_API void ct_axpby_cpu(const float* a, const float* b, float* out, float alpha, float beta, int64_t n);
CT_API int ct_axpby_cuda(const float* a, const float* b, float* out, float alpha, float beta, int64_t n,
                         void* stream);

// out = a * b (Hadamard product)
CT_API void ct_mul_cpu(const float* a, const float* b, float* out, int64_t n);
CT_API int ct_mul_cuda(const float* a, const float* b, float* out, int64_t n, void* stream);

// out[r, c] = a[r, c] + b[c] for a, out: (rows, cols), b: (cols). Bias add (rows = B*T, cols = C) and position
// embedding add (rows = B, cols = T*C). Backward of b: ct_sum_rows (reduce.h).
CT_API void ct_add_broadcast_cpu(const float* a, const float* b, float* out, int64_t rows, int64_t cols);
CT_API int ct_add_broadcast_cuda(const float* a, const float* b, float* out, int64_t rows, int64_t cols,
                                 void* stream);

#endif
