// optim.cu: CUDA AdamW step and EMA update (optim.h). Memory-bound pointwise passes: one thread per element in a
// grid-stride loop (consecutive threads touch consecutive floats, so every load is coalesced), the same float
// arithmetic as the CPU reference in native/src/optim.cpp.
#include "cotrain/optim.h"
#include "cuda_common.cuh"

#define CT_OPTIM_BLOCK 256

static __global__ void adamw_step_kernel(float* __restrict__ param, const float* __restrict__ grad,
                                         float* __restrict__ m, float* __restrict__ v, int64_t n, float beta1,
                                         float beta2, float eps, float decay, float step_size, float bc2_sqrt,
                                         float grad_scale) {
    // param, grad, m, v: (n)
    const float one_minus_beta1 = 1.0f - beta1;
    const float one_minus_beta2 = 1.0f - beta2;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        float g = grad[i] * grad_scale;
        float p = param[i] * decay;  // decoupled weight decay first (torch order)
        float mi = beta1 * m[i] + one_minus_beta1 * g;
        float vi = beta2 * v[i] + one_minus_beta2 * (g * g);
        m[i] = mi;
        v[i] = vi;
        float denom = sqrtf(vi) / bc2_sqrt + eps;
        param[i] = p - step_size * (mi / denom);
    }
}

CT_API int ct_adamw_step_cuda(float* param, const float* grad, float* m, float* v, int64_t n, float lr, float beta1,
                              float beta2, float eps, float weight_decay, float bias_correction1,
                              float bias_correction2, float grad_scale, void* stream) {
    if (n == 0) return 0;
    // Per-step constants folded on the host exactly as in the CPU reference.
    const float decay = 1.0f - lr * weight_decay;
    const float step_size = lr / bias_correction1;
    const float bc2_sqrt = sqrtf(bias_correction2);
    adamw_step_kernel<<<ct_grid_for(n, CT_OPTIM_BLOCK), CT_OPTIM_BLOCK, 0, CT_STREAM(stream)>>>(
        param, grad, m, v, n, beta1, beta2, eps, decay, step_size, bc2_sqrt, grad_scale);
    return ct_launch_status();
}

static __global__ void ema_update_kernel(float* __restrict__ ema, const float* __restrict__ param, int64_t n,
                                         float decay) {
    // ema, param: (n)
    const float one_minus_decay = 1.0f - decay;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        ema[i] = ema[i] * decay + one_minus_decay * param[i];
}

CT_API int ct_ema_update_cuda(float* ema, const float* param, int64_t n, float decay, void* stream) {
    if (n == 0) return 0;
    ema_update_kernel<<<ct_grid_for(n, CT_OPTIM_BLOCK), CT_OPTIM_BLOCK, 0, CT_STREAM(stream)>>>(ema, param, n,
                                                                                                decay);
    return ct_launch_status();
}
