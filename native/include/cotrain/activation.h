// activation.h: GELU (exact, with erf, as torch.nn.GELU()), Mish (x * tanh(softplus(x))), ReLU, and the fused
// add + ReLU of residual blocks.
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

// The residual join of a ResNet block, relu(a + b), in one pass (instead of an add and a ReLU: 3 tensor passes
// instead of 5). Its backward is ct_relu_backward with x = y: y > 0 exactly where a + b > 0, and the gradient then
// flows unchanged to both a and b.                                                 a, b, y: (n)
CT_API void ct_add_relu_forward_cpu(const float* a, const float* b, float* y, int64_t n);
CT_API int ct_add_relu_forward_cuda(const float* a, const float* b, float* y, int64_t n, void* stream);

#endif
