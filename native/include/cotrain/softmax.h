// softmax.h: softmax over the last dimension (numerically stable: the row max is subtracted first).
//   forward:  y[r,:] = softmax(x[r,:])
//   backward: dx[r,c] += y[r,c] * (dy[r,c] - sum_c' dy[r,c'] y[r,c'])
// x, y, dy, dx: (rows, cols).
#ifndef COTRAIN_SOFTMAX_H
#define COTRAIN_SOFTMAX_H

#include "common.h"

CT_API void ct_softmax_forward_cpu(const float* x, float* y, int64_t rows, int cols);
CT_API void ct_softmax_backward_cpu(const float* y, const float* dy, float* dx, int64_t rows, int cols);
CT_API int ct_softmax_forward_cuda(const float* x, float* y, int64_t rows, int cols, void* stream);
CT_API int ct_softmax_backward_cuda(const float* y, const float* dy, float* dx, int64_t rows, int cols,
                                    void* stream);

#endif
