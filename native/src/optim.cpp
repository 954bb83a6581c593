// optim.cpp: CPU AdamW step and EMA update (optim.h). One pass over flat buffers, every element independent.
#include <math.h>

#include "cotrain/optim.h"
#include "cpu_common.h"

CT_API CT_MULTIVERSION void ct_adamw_step_cpu(float* param, const float* grad, float* m, float* v, int64_t n,
                                              float lr, float beta1, float beta2, float eps, float weight_decay,
                                              float bias_correction1, float bias_correction2, float grad_scale) {
    // param, grad, m, v: (n)
    // The per-step constants are folded once, the way torch.optim.AdamW (single-tensor path) does:
    //   step_size = lr / bias_correction1,  denom = sqrt(v) / sqrt(bias_correction2) + eps,
    // which equals lr * (m / bc1) / (sqrt(v / bc2) + eps) from optim.h up to float rounding.
    const float decay = 1.0f - lr * weight_decay;
    const float step_size = lr / bias_correction1;
    const float bc2_sqrt = sqrtf(bias_correction2);
    const float one_minus_beta1 = 1.0f - beta1;
    const float one_minus_beta2 = 1.0f - beta2;
#pragma omp parallel for if (n > CT_PARALLEL_GRAIN)
    for (int64_t i = 0; i < n; i++) {
        float g = grad[i] * grad_scale;
        // Decoupled weight decay, applied to the parameter before the update (torch order).
        float p = param[i] * decay;
        float mi = beta1 * m[i] + one_minus_beta1 * g;
        float vi = beta2 * v[i] + one_minus_beta2 * (g * g);
        m[i] = mi;
        v[i] = vi;
        float denom = sqrtf(vi) / bc2_sqrt + eps;
        param[i] = p - step_size * (mi / denom);
    }
}

CT_API CT_MULTIVERSION void ct_ema_update_cpu(float* ema, const float* param, int64_t n, float decay) {
    // ema, param: (n). Diffusion Policy's EMAModel: ema.mul_(decay).add_(param, alpha=1 - decay).
    const float one_minus_decay = 1.0f - decay;
#pragma omp parallel for if (n > CT_PARALLEL_GRAIN)
    for (int64_t i = 0; i < n; i++) ema[i] = ema[i] * decay + one_minus_decay * param[i];
}
