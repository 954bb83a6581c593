// permute.h: moving attention heads between the token-major layout of the linear layers, (B, T, ..., C) with the
// heads side by side in C, and the head-major layout of the fused attention (attention.h), (B, NH, T, HS).
//
// x is (B, T, W) and the heads occupy the column block [col, col + NH * HS) of each row, so that one packed
// in-projection (B, T, 3C) yields q, k and v with col = 0, C and 2C, and a plain (B, T, C) tensor is the case
// W = C, col = 0:
//   split:  out[b, h, t, d]  = x[b, t, col + h * HS + d]        (accumulate: out += ...)
//   merge:  x[b, t, col + h * HS + d] = y[b, h, t, d]           (accumulate: x += ...; columns outside the block
//                                                                are never touched)
// Each is the other's backward: d(split)/dx is merge(dout) with accumulate = 1, d(merge)/dy is split(dx). Both
// are exact copies (or one float addition per element), so the CPU and CUDA results are bit-identical.
//
// With T = NH = 1 the same ops concatenate and slice along a sequence dimension: the rows of x are then whole
// (T' * C) token blocks, e.g. the condition tokens [time; obs] of the denoiser, or x[:, 1:, :].
//
// x: (B, T, W); out, y: (B, NH, T, HS); 0 <= col and col + NH * HS <= W (checked in Java). x and out/y must not
// overlap.
#ifndef COTRAIN_PERMUTE_H
#define COTRAIN_PERMUTE_H

#include "common.h"

CT_API void ct_split_heads_cpu(const float* x, float* out, int b, int t, int nh, int hs, int64_t w, int64_t col,
                               int accumulate);
CT_API void ct_merge_heads_cpu(const float* y, float* x, int b, int t, int nh, int hs, int64_t w, int64_t col,
                               int accumulate);
CT_API int ct_split_heads_cuda(const float* x, float* out, int b, int t, int nh, int hs, int64_t w, int64_t col,
                               int accumulate, void* stream);
CT_API int ct_merge_heads_cuda(const float* y, float* x, int b, int t, int nh, int hs, int64_t w, int64_t col,
                               int accumulate, void* stream);

#endif
