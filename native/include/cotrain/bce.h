// bce.h: binary cross-entropy on logits (torch.nn.BCEWithLogitsLoss), the loss of the noise-level classifier of
// ambient diffusion. Element-wise, so the reduction stays the deterministic ct_sum (reduce.h):
//   forward:  out[i] = max(x, 0) - x y + log(1 + exp(-|x|))     (= -y log s(x) - (1 - y) log(1 - s(x)), s the
//             sigmoid, in a form that neither overflows nor loses the small probabilities)
//             the mean loss is then ct_sum(out, loss, n, 1/n)
//   backward: dx[i] += scale * dloss[0] * (s(x[i]) - y[i])      (scale 1/n for the mean)
// x (logits), y (targets in [0, 1]), out, dx: (n); dloss: (1), in the op's memory space.
#ifndef COTRAIN_BCE_H
#define COTRAIN_BCE_H

#include "common.h"

CT_API void ct_bce_logits_forward_cpu(const float* x, const float* y, float* out, int64_t n);
CT_API void ct_bce_logits_backward_cpu(const float* x, const float* y, const float* dloss, float* dx, int64_t n,
                                       float scale);
CT_API int ct_bce_logits_forward_cuda(const float* x, const float* y, float* out, int64_t n, void* stream);
CT_API int ct_bce_logits_backward_cuda(const float* x, const float* y, const float* dloss, float* dx, int64_t n,
                                       float scale, void* stream);

#endif
