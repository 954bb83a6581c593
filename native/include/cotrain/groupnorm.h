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

// ---- GroupNorm + Mish, fused: Diffusion Policy's Conv1dBlock tail (GroupNorm(n_groups, C) then Mish) ------------
// forward:  z = groupnorm(x) as above (z is not stored), y = mish(z) = z tanh(softplus(z)); mean, rstd saved.
// backward: z is recomputed from x, mean and rstd exactly as the forward computed it (same float expression), then
//           dz = dy mish'(z) and the GroupNorm backward above runs on dz:
//             dx = rstd (dz weight - avg_group(dz weight) - xhat avg_group(dz weight xhat))        (written, =)
//             dweight[c] += sum_{n, p} dz xhat,  dbias[c] += sum_{n, p} dz                          (accumulated)
//           dx is written, not accumulated: Conv1dBlock hands it straight to the convolution's backward, so the
//           unfused path's zero-fill of that buffer goes away (and the CPU uses dx as its scratch for z and dz).
// What to save: the forward already keeps x (the convolution's output, alive until the next forward) and the
// (N, G) statistics. Storing z as well would cost 4 bytes an element written in the forward and read in the
// backward; recomputing it costs no memory traffic (the backward reads x anyway for xhat), only the affine and
// Mish's derivative (one exp and a division an element), cheaper than the 8 bytes on both backends.
// Bytes an element, counting each input read once and each output written once (the statistics aside): the unfused
// GroupNorm then Mish moved 16 forward (x read, z written; z read, y written) and 40 backward (dz zero-filled;
// Mish's backward reads z, dy, dz and writes dz; dx zero-filled; GroupNorm's reads dz, x, dx and writes dx); fused
// it is 8 forward (x read, y written) and 12 backward (dy, x read, dx written; the CPU adds a (N, C, 2) float64
// table of per-(sample, channel) sums, 16 / T bytes an element, and the GPU reads dy and x once more for the
// per-channel sums).
// x, y, dy, dx: (N, C, HW); weight, bias, dweight, dbias: (C); mean, rstd: (N, G). dx must not overlap dy or x.
CT_API void ct_groupnorm_mish_forward_cpu(const float* x, const float* weight, const float* bias, float* y,
                                          float* mean, float* rstd, int n, int c, int64_t hw, int groups, float eps);
CT_API void ct_groupnorm_mish_backward_cpu(const float* dy, const float* x, const float* weight, const float* bias,
                                           const float* mean, const float* rstd, float* dx, float* dweight,
                                           float* dbias, int n, int c, int64_t hw, int groups);
CT_API int ct_groupnorm_mish_forward_cuda(const float* x, const float* weight, const float* bias, float* y,
                                          float* mean, float* rstd, int n, int c, int64_t hw, int groups, float eps,
                                          void* stream);
CT_API int ct_groupnorm_mish_backward_cuda(const float* dy, const float* x, const float* weight, const float* bias,
                                           const float* mean, const float* rstd, float* dx, float* dweight,
                                           float* dbias, int n, int c, int64_t hw, int groups, void* stream);

#endif
