// philox.h: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), header-only so
// that the CPU ops and the CUDA kernels compile the very same code. See rng.h for how cotrain maps (seed, offset)
// onto counters and keys; org.cotrain.random.Philox mirrors this file bit for bit.
#ifndef COTRAIN_PHILOX_H
#define COTRAIN_PHILOX_H

#include <stdint.h>
#include <math.h>

#ifdef __CUDACC__
#define CT_HD __host__ __device__ __forceinline__
#else
#define CT_HD static inline
#endif

typedef struct { uint32_t v[4]; } ct_philox_out;

CT_HD ct_philox_out ct_philox4x32_10(uint64_t counter, uint64_t seed) {
    uint32_t c0 = (uint32_t)counter, c1 = (uint32_t)(counter >> 32), c2 = 0, c3 = 0;
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c0;   // multiply-high/low, the Philox S-box
        uint64_t p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += 0x9E3779B9u;  // Weyl sequence key schedule
        k1 += 0xBB67AE85u;
    }
    ct_philox_out out = {{c0, c1, c2, c3}};
    return out;
}

// Uniform float in [0, 1): the top 24 bits of word 0, so every value is exactly representable.
CT_HD float ct_philox_uniform(uint64_t seed, uint64_t index) {
    return (float)(ct_philox4x32_10(index, seed).v[0] >> 8) * (1.0f / 16777216.0f);
}

// Standard normal: Box-Muller on words 0 and 1 in double precision (u1 in (0, 1] so the log is finite), then
// rounded to float; double keeps the CPU and GPU results equal to the last float bit in practice.
CT_HD float ct_philox_normal(uint64_t seed, uint64_t index) {
    ct_philox_out r = ct_philox4x32_10(index, seed);
    double u1 = ((double)r.v[0] + 1.0) * (1.0 / 4294967296.0);
    double u2 = (double)r.v[1] * (1.0 / 4294967296.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

// Integer in [low, high): multiply-shift of word 0 by the range (bias below 2^-32 * range, negligible here).
CT_HD int32_t ct_philox_randint(uint64_t seed, uint64_t index, int32_t low, int32_t high) {
    uint64_t range = (uint64_t)((int64_t)high - (int64_t)low);
    return (int32_t)((int64_t)low + (int64_t)(((uint64_t)ct_philox4x32_10(index, seed).v[0] * range) >> 32));
}

// Dropout keep decisions come four to a Philox block: element index uses word (index & 3) of block (index >> 2),
// kept when that word's top 24 bits as a uniform in [0, 1) are >= p. A mask of n elements then costs n / 4 blocks,
// not n (dropout recomputes its mask in the backward pass, so this is most of its cost).
CT_HD int ct_philox_keep_word(uint32_t word, float p) {
    return (float)(word >> 8) * (1.0f / 16777216.0f) >= p;
}

CT_HD int ct_philox_keep(uint64_t seed, uint64_t index, float p) {
    return ct_philox_keep_word(ct_philox4x32_10(index >> 2, seed).v[index & 3], p);
}

#endif
