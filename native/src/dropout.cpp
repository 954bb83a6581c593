// dropout.cpp: CPU reference of dropout.h. The mask is recomputed from (seed, offset + i) in both passes instead of
// being stored: a Philox block costs less than reading and writing a mask buffer would, and it cannot go stale.
#include <string.h>

#include "cotrain/dropout.h"
#include "cotrain/philox.h"
#include "cpu_common.h"

// Same reasoning as in rng.cpp: each element costs a full Philox block.
#define DROPOUT_PARALLEL_GRAIN (CT_PARALLEL_GRAIN / 8)

// keep ? v : 0, as a bit mask rather than a select. Under GCC's default -ftrapping-math a select on a float
// comparison is not if-converted, which keeps the whole loop (Philox included) scalar; the mask version vectorises,
// 8 Philox blocks per AVX2 instruction. A dropped element is +0 even when v is inf or NaN, as the header says.
static inline float keep_or_zero(float v, int keep) {
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    bits &= 0u - (uint32_t)keep;  // keep == 1: all ones; keep == 0: all zeros
    memcpy(&v, &bits, sizeof v);
    return v;
}

// x, y: (n). y = keep ? x / (1 - p) : 0. The scale is one float division, then a multiply per element; the CUDA
// kernel computes it the same way so both backends round identically. p == 0 keeps everything (every uniform is
// >= 0) with scale exactly 1, so it is the identity.
CT_API CT_MULTIVERSION void ct_dropout_forward_cpu(const float* x, float* y, int64_t n, float p, uint64_t seed,
                                                   uint64_t offset) {
    const float scale = 1.0f / (1.0f - p);
    #pragma omp parallel for schedule(static) if (n > DROPOUT_PARALLEL_GRAIN)
    for (int64_t i = 0; i < n; i++) {
        y[i] = keep_or_zero(x[i] * scale, ct_philox_keep(seed, offset + (uint64_t)i, p));
    }
}

// dy, dx: (n). dx += keep ? dy / (1 - p) : 0, with the forward's seed and offset so the mask is the same.
CT_API CT_MULTIVERSION void ct_dropout_backward_cpu(const float* dy, float* dx, int64_t n, float p, uint64_t seed,
                                                    uint64_t offset) {
    const float scale = 1.0f / (1.0f - p);
    #pragma omp parallel for schedule(static) if (n > DROPOUT_PARALLEL_GRAIN)
    for (int64_t i = 0; i < n; i++) {
        dx[i] += keep_or_zero(dy[i] * scale, ct_philox_keep(seed, offset + (uint64_t)i, p));
    }
}
