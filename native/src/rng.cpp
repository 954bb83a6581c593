// rng.cpp: CPU reference of rng.h. Element i is drawn at counter (offset + i), so the loops are embarrassingly
// parallel and any split across threads gives the same numbers as a serial loop (and as the GPU).
#include "cotrain/rng.h"
#include "cpu_common.h"

// A Philox block is ~10 rounds of 32x32->64 multiplies (tens of instructions per element), so a parallel region
// pays off at far fewer elements than for a plain pointwise loop.
#define RNG_PARALLEL_GRAIN (CT_PARALLEL_GRAIN / 8)

// out: (n)
CT_API CT_MULTIVERSION void ct_rng_uniform_cpu(float* out, int64_t n, uint64_t seed, uint64_t offset) {
    #pragma omp parallel for schedule(static) if (n > RNG_PARALLEL_GRAIN)
    for (int64_t i = 0; i < n; i++) {
        out[i] = ct_philox_uniform(seed, offset + (uint64_t)i);
    }
}

// out: (n). Box-Muller in double calls log and cos, so this loop stays scalar; it is not worth multiversioning.
CT_API void ct_rng_normal_cpu(float* out, int64_t n, uint64_t seed, uint64_t offset) {
    #pragma omp parallel for schedule(static) if (n > RNG_PARALLEL_GRAIN)
    for (int64_t i = 0; i < n; i++) {
        out[i] = ct_philox_normal(seed, offset + (uint64_t)i);
    }
}

// out: (n) int32, values in [low, high)
CT_API CT_MULTIVERSION void ct_rng_randint_cpu(int32_t* out, int64_t n, int32_t low, int32_t high, uint64_t seed, uint64_t offset) {
    #pragma omp parallel for schedule(static) if (n > RNG_PARALLEL_GRAIN)
    for (int64_t i = 0; i < n; i++) {
        out[i] = ct_philox_randint(seed, offset + (uint64_t)i, low, high);
    }
}
