// film.h: the FiLM of Diffusion Policy's ConditionalResidualBlock1D (conditional_unet1d.py): the condition's
// embedding e = cond_encoder(cond) modulates the block's first output h per (sample, channel), broadcast over T.
//
//   has_scale (cond_predict_scale=True): cond (B, 2C), read as DP's embed.reshape(B, 2, C, 1):
//             scale[b, c] = cond[b, c], bias[b, c] = cond[b, C + c]
//             forward:  y[b, c, t] = scale[b, c] x[b, c, t] + bias[b, c]
//             backward: dx[b, c, t] = scale[b, c] dy[b, c, t]
//                       dcond[b, c] = sum_t dy[b, c, t] x[b, c, t],  dcond[b, C + c] = sum_t dy[b, c, t]
//   no scale: cond (B, C):  y = x + cond[b, c];  dx = dy;  dcond[b, c] = sum_t dy[b, c, t]
//
// x, y, dy, dx: (B, C, T) contiguous; cond, dcond: (B, 2C) with has_scale, else (B, C).
// Every output is written (=), not accumulated: the block's FiLM gradients go to fresh buffers (dx is the
// gradient of blocks.0's output, dcond that of the cond encoder's output, each with no other contribution).
// dx may be NULL: then only dcond is computed (without a scale dx = dy, which the caller can use as it is).
// y must not overlap cond; y may be x (in place) since each element is read once before it is written; dx and
// dcond must not overlap any input (checked in Ops).
// NaN/Inf: propagate as the arithmetic does (a NaN in x reaches y and, with a scale, dcond's scale part).
#ifndef COTRAIN_FILM_H
#define COTRAIN_FILM_H

#include "common.h"

CT_API void ct_film_forward_cpu(const float* x, const float* cond, float* y, int b, int c, int64_t t, int has_scale);
CT_API void ct_film_backward_cpu(const float* dy, const float* x, const float* cond, float* dx, float* dcond, int b,
                                 int c, int64_t t, int has_scale);
CT_API int ct_film_forward_cuda(const float* x, const float* cond, float* y, int b, int c, int64_t t, int has_scale,
                                void* stream);
CT_API int ct_film_backward_cuda(const float* dy, const float* x, const float* cond, float* dx, float* dcond, int b,
                                 int c, int64_t t, int has_scale, void* stream);

#endif
