// reduce.h: reductions and the MSE loss. Deterministic on both backends: fixed reduction trees, no
// floating-point atomics, double accumulators on the CPU, so one seed gives one loss curve.
//
// Scalars are written to a one-element array in the op's memory space (device memory on the GPU), so a training
// step never waits for the host.
#ifndef COTRAIN_REDUCE_H
#define COTRAIN_REDUCE_H

#include "common.h"

// out[0] = scale * sum_i x[i]    (sum: scale 1, mean: scale 1/n)                       x: (n), out: (1)
CT_API void ct_sum_cpu(const float* x, float* out, int64_t n, float scale);
CT_API int ct_sum_cuda(const float* x, float* out, int64_t n, float scale, void* stream);
// Backward of ct_sum: dx[i] += scale * dout[0].
CT_API void ct_sum_backward_cpu(const float* dout, float* dx, int64_t n, float scale);
CT_API int ct_sum_backward_cuda(const float* dout, float* dx, int64_t n, float scale, void* stream);

// out[c] += sum_r x[r, c]: the gradient of a broadcast bias or position embedding.   x: (rows, cols), out: (cols)
CT_API void ct_sum_rows_cpu(const float* x, float* out, int64_t rows, int64_t cols);
CT_API int ct_sum_rows_cuda(const float* x, float* out, int64_t rows, int64_t cols, void* stream);

// out[c] += sum_{n, p} x[n, c, p]: the gradient of a per-channel bias of NCHW maps (a convolution's).
//                                                                           x: (N, C, HW), out: (C)
CT_API void ct_sum_channels_cpu(const float* x, float* out, int64_t n, int64_t c, int64_t hw);
CT_API int ct_sum_channels_cuda(const float* x, float* out, int64_t n, int64_t c, int64_t hw, void* stream);

// out[0] = sum_i x[i]^2, for gradient-norm clipping.                                  x: (n), out: (1)
CT_API void ct_sum_squares_cpu(const float* x, float* out, int64_t n);
CT_API int ct_sum_squares_cuda(const float* x, float* out, int64_t n, void* stream);

// Mean squared error, optionally weighted per element (weight NULL means all ones):
//   forward:  loss[0] = (1/n) sum_i w[i] (pred[i] - target[i])^2
//   backward: dpred[i] += dloss[0] * (2/n) w[i] (pred[i] - target[i])
// pred, target, weight, dpred: (n); loss, dloss: (1).
CT_API void ct_mse_forward_cpu(const float* pred, const float* target, const float* weight, float* loss,
                               int64_t n);
CT_API void ct_mse_backward_cpu(const float* pred, const float* target, const float* weight, const float* dloss,
                                float* dpred, int64_t n);
CT_API int ct_mse_forward_cuda(const float* pred, const float* target, const float* weight, float* loss,
                               int64_t n, void* stream);
CT_API int ct_mse_backward_cuda(const float* pred, const float* target, const float* weight, const float* dloss,
                                float* dpred, int64_t n, void* stream);

#endif
