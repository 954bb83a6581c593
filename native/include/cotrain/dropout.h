// dropout.h: inverted dropout with a mask that is never stored: element i is kept when
// ct_philox_keep(seed, offset + i, p) (rng.h), and kept elements are scaled by 1 / (1 - p).
//   forward:  y[i] = keep(i) ? x[i] / (1 - p) : 0
//   backward: dx[i] += keep(i) ? dy[i] / (1 - p) : 0   (same seed and offset as the forward)
// 0 <= p < 1; x, y, dy, dx: (n).
#ifndef COTRAIN_DROPOUT_H
#define COTRAIN_DROPOUT_H

#include "common.h"

CT_API void ct_dropout_forward_cpu(const float* x, float* y, int64_t n, float p, uint64_t seed, uint64_t offset);
CT_API void ct_dropout_backward_cpu(const float* dy, float* dx, int64_t n, float p, uint64_t seed,
                                    uint64_t offset);
CT_API int ct_dropout_forward_cuda(const float* x, float* y, int64_t n, float p, uint64_t seed, uint64_t offset,
                                   void* stream);
CT_API int ct_dropout_backward_cuda(const float* dy, float* dx, int64_t n, float p, uint64_t seed,
                                    uint64_t offset, void* stream);

#endif
