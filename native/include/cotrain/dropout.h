// dropout.h: inverted dropout. Element i is kept when ct_philox_keep(seed, offset + i, p) (philox.h, rng.h), and
// kept elements are scaled by 1 / (1 - p):
//   forward:  y[i] = keep(i) ? x[i] / (1 - p) : 0,                 and mask[i] = keep(i) (0 or 1) when mask != NULL
//   backward: dx[i] = (accumulate ? dx[i] : 0) + (keep(i) ? dy[i] / (1 - p) : 0)
// The backward reads keep(i) from the forward's mask when it is given, else recomputes it from the same seed and
// offset: the mask costs a byte per element; recomputing it costs a Philox block per four elements, which on the CPU
// is most of the backward's time. accumulate = 0 overwrites dx (no zeroed buffer needed), an exception to the
// accumulate-always rule of common.h in the manner of matmul's beta.
// 0 <= p < 1; x, y, dy, dx: (n) float32; mask: (n) bytes.
#ifndef COTRAIN_DROPOUT_H
#define COTRAIN_DROPOUT_H

#include "common.h"

CT_API void ct_dropout_forward_cpu(const float* x, float* y, uint8_t* mask, int64_t n, float p, uint64_t seed,
                                   uint64_t offset);
CT_API void ct_dropout_backward_cpu(const float* dy, float* dx, const uint8_t* mask, int64_t n, float p,
                                    uint64_t seed, uint64_t offset, int accumulate);
CT_API int ct_dropout_forward_cuda(const float* x, float* y, uint8_t* mask, int64_t n, float p, uint64_t seed,
                                   uint64_t offset, void* stream);
CT_API int ct_dropout_backward_cuda(const float* dy, float* dx, const uint8_t* mask, int64_t n, float p,
                                    uint64_t seed, uint64_t offset, int accumulate, void* stream);

#endif
