// activation.h: GELU (exact, with erf, as torch.nn.GELU()), Mish (x * tanh(softplus(x))) and ReLU.
// forward: y = f(x). backward: dx += dy * f'(x), recomputed from x.                   x, y, dx, dy: (n)
#ifndef COTRAIN_ACTIVATION_H
#define COTRAIN_ACTIVATION_H

#include "common.h"

CT_API void ct_gelu_forward_cpu(const float* x, float* y, int64_t n);
CT_API void ct_gelu_backward_cpu(const float* x, const float* dy, float* dx, int64_t n);
CT_API int ct_gelu_forward_cuda(const float* x, float* y, int64_t n, void* stream);
CT_API int ct_gelu_backward_cuda(const float* x, const float* dy, float* dx, int64_t n, void* stream);

CT_API void ct_mish_forward_cpu(const float* x, float* y, int64_t n);
CT_API void ct_mish_backward_cpu(const float* x, const float* dy, float* dx, int64_t n);
CT_API int ct_mish_forward_cuda(const float* x, float* y, int64_t n, void* stream);
CT_API int ct_mish_backward_cuda(const float* x, const float* dy, float* dx, int64_t n, void* stream);

CT_API void ct_relu_forward_cpu(const float* x, float* y, int64_t n);
CT_API void ct_relu_backward_cpu(const float* x, const float* dy, float* dx, int64_t n);
CT_API int ct_relu_forward_cuda(const float* x, float* y, int64_t n, void* stream);
CT_API int ct_relu_backward_cuda(const float* x, const float* dy, float* dx, int64_t n, void* stream);

#endif
