// layernorm.h: LayerNorm over the last dimension, as torch.nn.LayerNorm(C, eps) (biased variance).
//   forward:  mean[r] = avg_c x[r,c];  rstd[r] = 1 / sqrt(avg_c (x[r,c] - mean[r])^2 + eps)
//             y[r,c] = (x[r,c] - mean[r]) * rstd[r] * weight[c] + bias[c]
//   backward: dx += ..., dweight += sum_r dy * xhat, dbias += sum_r dy (recomputing xhat from mean and rstd).
// x, y, dy, dx: (rows, C); weight, bias, dweight, dbias: (C); mean, rstd: (rows), saved by the forward.
#ifndef COTRAIN_LAYERNORM_H
#define COTRAIN_LAYERNORM_H

#include "common.h"

CT_API void ct_layernorm_forward_cpu(const float* x, const float* weight, const float* bias, float* y,
                                     float* mean, float* rstd, int64_t rows, int c, float eps);
CT_API void ct_layernorm_backward_cpu(const float* dy, const float* x, const float* weight, const float* mean,
                                      const float* rstd, float* dx, float* dweight, float* dbias,
                                      int64_t rows, int c);
CT_API int ct_layernorm_forward_cuda(const float* x, const float* weight, const float* bias, float* y,
                                     float* mean, float* rstd, int64_t rows, int c, float eps, void* stream);
CT_API int ct_layernorm_backward_cuda(const float* dy, const float* x, const float* weight, const float* mean,
                                      const float* rstd, float* dx, float* dweight, float* dbias,
                                      int64_t rows, int c, void* stream);

#endif
