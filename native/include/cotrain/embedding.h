// embedding.h: embedding lookup and the sinusoidal diffusion-step embedding.
//
// Lookup:   out[i, :] = table[index[i], :]                 table: (V, C), index: (n) int32 in [0, V), out: (n, C)
//           An index outside [0, V) is never dereferenced: its row of out is NaN.
// Backward: dtable[v, :] += sum over i with index[i] == v of dout[i, :]. Deterministic on both backends (no
//           floating-point atomics): each output row sums its contributions in index order.
// Learned position embeddings are a broadcast add (elementwise.h), not a lookup.
//
// Sinusoidal embedding, as Diffusion Policy's SinusoidalPosEmb(dim): half = dim / 2,
//   freq[j] = exp(-j * ln(10000) / (half - 1)), out[b, j] = sin(t[b] * freq[j]), out[b, half + j] = cos(...)
// t: (n) float (diffusion steps), out: (n, dim), dim even and >= 4. No backward: t is not learned.
#ifndef COTRAIN_EMBEDDING_H
#define COTRAIN_EMBEDDING_H

#include "common.h"

CT_API void ct_embedding_forward_cpu(const float* table, const int32_t* index, float* out, int64_t n, int v,
                                     int c);
CT_API void ct_embedding_backward_cpu(const float* dout, const int32_t* index, float* dtable, int64_t n, int v,
                                      int c);
CT_API int ct_embedding_forward_cuda(const float* table, const int32_t* index, float* out, int64_t n, int v, int c,
                                     void* stream);
CT_API int ct_embedding_backward_cuda(const float* dout, const int32_t* index, float* dtable, int64_t n, int v,
                                      int c, void* stream);

CT_API void ct_sinusoidal_embedding_cpu(const float* t, float* out, int64_t n, int dim);
CT_API int ct_sinusoidal_embedding_cuda(const float* t, float* out, int64_t n, int dim, void* stream);

#endif
