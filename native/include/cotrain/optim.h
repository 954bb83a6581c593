// optim.h: the fused AdamW step and the EMA update, one pass over a flat parameter buffer each.
//
// AdamW as torch.optim.AdamW (decoupled weight decay, applied before the moment update):
//   g = grad * grad_scale                     (grad_scale < 1 implements gradient-norm clipping)
//   p = p * (1 - lr * weight_decay)
//   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
//   p = p - lr * (m / bias_correction1) / (sqrt(v / bias_correction2) + eps)
// with bias_correction1 = 1 - beta1^step and bias_correction2 = 1 - beta2^step (step counted from 1),
// computed by the caller in double. param, grad, m, v: (n).
//
// EMA as Diffusion Policy's EMAModel: ema = decay * ema + (1 - decay) * param.            ema, param: (n)
#ifndef COTRAIN_OPTIM_H
#define COTRAIN_OPTIM_H

#include "common.h"

CT_API void ct_adamw_step_cpu(float* param, const float* grad, float* m, float* v, int64_t n, float lr,
                              float beta1, float beta2, float eps, float weight_decay, float bias_correction1,
                              float bias_correction2, float grad_scale);
CT_API int ct_adamw_step_cuda(float* param, const float* grad, float* m, float* v, int64_t n, float lr,
                              float beta1, float beta2, float eps, float weight_decay, float bias_correction1,
                              float bias_correction2, float grad_scale, void* stream);

CT_API void ct_ema_update_cpu(float* ema, const float* param, int64_t n, float decay);
CT_API int ct_ema_update_cuda(float* ema, const float* param, int64_t n, float decay, void* stream);

#endif
