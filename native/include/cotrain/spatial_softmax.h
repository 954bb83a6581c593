// spatial_softmax.h: the keypoint head of the Diffusion Policy image encoder (robomimic's SpatialSoftmax).
//
// For each of the n = B * K keypoint maps x[n] of size (H, W):
//   P = softmax over all H * W positions of x[n] / temperature
//   out[n, 0] = sum_{h,w} P[h, w] * gx[w]   with gx = linspace(-1, 1, W)   (expected x)
//   out[n, 1] = sum_{h,w} P[h, w] * gy[h]   with gy = linspace(-1, 1, H)   (expected y)
// (for W == 1 or H == 1 the single grid value is -1, as torch.linspace(-1, 1, 1)).
// Backward (recomputes P from x): dx[n, h, w] += P[h, w] * (dout[n,0] (gx[w] - out[n,0])
//                                                          + dout[n,1] (gy[h] - out[n,1])) / temperature
// x, dx: (B, K, H, W); out, dout: (B, K, 2).
#ifndef COTRAIN_SPATIAL_SOFTMAX_H
#define COTRAIN_SPATIAL_SOFTMAX_H

#include "common.h"

CT_API void ct_spatial_softmax_forward_cpu(const float* x, float* out, int64_t n, int h, int w,
                                           float temperature);
CT_API void ct_spatial_softmax_backward_cpu(const float* x, const float* out, const float* dout, float* dx,
                                            int64_t n, int h, int w, float temperature);
CT_API int ct_spatial_softmax_forward_cuda(const float* x, float* out, int64_t n, int h, int w,
                                           float temperature, void* stream);
CT_API int ct_spatial_softmax_backward_cuda(const float* x, const float* out, const float* dout, float* dx,
                                            int64_t n, int h, int w, float temperature, void* stream);

#endif
