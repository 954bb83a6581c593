// attention.h: fused multi-head scaled dot-product attention for the denoiser (self- and cross-attention).
//
//   S = scale * Q K^T + mask          (Tq, Tk) per (batch, head); mask is an additive (Tq, Tk) matrix or NULL
//   if causal: S[i, j] = -inf for j > i (key j is visible to query i when j <= i)
//   P = softmax(S) over keys;  lse[i] = log sum_j exp(S[i, j])   (saved for the backward)
//   Pd = dropout(P)                   keep (i, j) when ct_philox_keep(seed, offset + idx, p_drop), scaled by
//                                     1/(1 - p_drop), with idx = ((b * NH + h) * Tq + i) * Tk + j
//   O = Pd V                          (Tq, HS)
// A query row whose keys are all masked (every S = -inf) gets O = 0 and lse = -inf, and no gradient.
// The forward never writes S or P to global memory; the backward recomputes P from Q, K, mask and lse:
//   dV += Pd^T dO;  dPd = dO V^T;  dS = P * (dPd * keep / (1 - p) - D),  D[i] = sum_d dO[i, d] O[i, d]
//   dQ += scale * dS K;  dK += scale * dS^T Q
//
// q, out, dq, dout: (B, NH, Tq, HS); k, v, dk, dv: (B, NH, Tk, HS); mask: (Tq, Tk) or NULL; lse: (B, NH, Tq).
// Causal with Tq != Tk is the same rule, j <= i, with no shift. The CUDA kernels take HS <= 256 (a row of Q, K or V
// lives in one warp's registers) and return cudaErrorInvalidValue above; the CPU takes any HS.
#ifndef COTRAIN_ATTENTION_H
#define COTRAIN_ATTENTION_H

#include "common.h"

CT_API void ct_attention_forward_cpu(const float* q, const float* k, const float* v, const float* mask,
                                     float* out, float* lse, int b, int nh, int tq, int tk, int hs, float scale,
                                     int causal, float p_drop, uint64_t seed, uint64_t offset);
CT_API void ct_attention_backward_cpu(const float* dout, const float* q, const float* k, const float* v,
                                      const float* mask, const float* out, const float* lse, float* dq,
                                      float* dk, float* dv, int b, int nh, int tq, int tk, int hs, float scale,
                                      int causal, float p_drop, uint64_t seed, uint64_t offset);
CT_API int ct_attention_forward_cuda(const float* q, const float* k, const float* v, const float* mask,
                                     float* out, float* lse, int b, int nh, int tq, int tk, int hs, float scale,
                                     int causal, float p_drop, uint64_t seed, uint64_t offset, void* stream);
CT_API int ct_attention_backward_cuda(const float* dout, const float* q, const float* k, const float* v,
                                      const float* mask, const float* out, const float* lse, float* dq,
                                      float* dk, float* dv, int b, int nh, int tq, int tk, int hs, float scale,
                                      int causal, float p_drop, uint64_t seed, uint64_t offset, void* stream);

#endif
