// maxpool.h: 2-D max pooling over NCHW float32 as torch.nn.MaxPool2d(kernel, stride, padding) (dilation 1,
// ceil_mode False), with the argmax kept for the backward (PyTorch's return_indices).
//
//   Ho = (H + 2 PH - KH) / SH + 1, Wo likewise (floor); padding is -infinity, so it never wins. PH <= KH / 2 and
//   PW <= KW / 2 (PyTorch's rule), so every window holds at least one input pixel.
//   forward:  y[p, i, j] = max of x[p, r, c] over the window r in [i SH - PH, i SH - PH + KH), c likewise, inside
//             the image; argmax[p, i, j] = r W + c of the maximum (index within the plane, as PyTorch). Ties go to
//             the first in row-major window order; a NaN wins (and the last NaN of the window is the one kept), as
//             in PyTorch's CPU kernel.
//   backward: dx[p, argmax[p, i, j]] += dy[p, i, j] for every output pixel (an argmax outside [0, H W) is skipped,
//             on both backends: no check in Java, no write out of bounds).
// x, dx: (planes, H, W) with planes = N C; y, dy, argmax (int32): (planes, Ho, Wo).
// ResNet's stem is kernel 3, stride 2, padding 1.
#ifndef COTRAIN_MAXPOOL_H
#define COTRAIN_MAXPOOL_H

#include "common.h"

CT_API void ct_maxpool2d_forward_cpu(const float* x, float* y, int32_t* argmax, int64_t planes, int h, int w,
                                     int kh, int kw, int sh, int sw, int ph, int pw);
CT_API void ct_maxpool2d_backward_cpu(const float* dy, const int32_t* argmax, float* dx, int64_t planes, int h,
                                      int w, int kh, int kw, int sh, int sw, int ph, int pw);
// The CUDA backward gathers instead of scattering (one thread per input pixel sums the outputs whose window holds
// it and whose argmax is that pixel, in a fixed order): deterministic, no atomics.
CT_API int ct_maxpool2d_forward_cuda(const float* x, float* y, int32_t* argmax, int64_t planes, int h, int w,
                                     int kh, int kw, int sh, int sw, int ph, int pw, void* stream);
CT_API int ct_maxpool2d_backward_cuda(const float* dy, const int32_t* argmax, float* dx, int64_t planes, int h,
                                      int w, int kh, int kw, int sh, int sw, int ph, int pw, void* stream);

#endif
