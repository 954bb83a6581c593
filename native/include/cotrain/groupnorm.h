// groupnorm.h: GroupNorm over NCHW float32 as torch.nn.GroupNorm(G, C, eps) (biased variance, eps inside the root,
// per-channel affine weight and bias). Diffusion Policy's image encoder replaces every BatchNorm of ResNet18 by
// GroupNorm(C / 16, C).
//
// Group (n, g) holds channels [g C/G, (g + 1) C/G) of sample n over all HW pixels: M = (C / G) HW values.
//   forward:  mean[n, g] = avg over the group of x;  rstd[n, g] = 1 / sqrt(avg (x - mean)^2 + eps)
//             y[n, c, p] = (x[n, c, p] - mean[n, g(c)]) rstd[n, g(c)] weight[c] + bias[c]
//   backward: with xhat = (x - mean) rstd and g = dy weight[c], per group:
//             dx += rstd (g - avg_group(g) - xhat avg_group(g xhat))
//             dweight[c] += sum_{n, p} dy xhat,  dbias[c] += sum_{n, p} dy
// x, y, dy, dx: (N, C, HW); weight, bias, dweight, dbias: (C); mean, rstd: (N, G), saved by the forward.
// C must be a multiple of G (checked in Ops).
#ifndef COTRAIN_GROUPNORM_H
#define COTRAIN_GROUPNORM_H

#include "common.h"

CT_API void ct_groupnorm_forward_cpu(const float* x, const float* weight, const float* bias, float* y, float* mean,
                                     float* rstd, int n, int c, int64_t hw, int groups, float eps);
CT_API void ct_groupnorm_backward_cpu(const float* dy, const float* x, const float* weight, const float* mean,
                                      const float* rstd, float* dx, float* dweight, float* dbias, int n, int c,
                                      int64_t hw, int groups);
CT_API int ct_groupnorm_forward_cuda(const float* x, const float* weight, const float* bias, float* y, float* mean,
                                     float* rstd, int n, int c, int64_t hw, int groups, float eps, void* stream);
CT_API int ct_groupnorm_backward_cuda(const float* dy, const float* x, const float* weight, const float* mean,
                                      const float* rstd, float* dx, float* dweight, float* dbias, int n, int c,
                                      int64_t hw, int groups, void* stream);

#endif
