// rng.h: counter-based random numbers (Philox4x32-10), the same on the CPU and the GPU.
//
// Random number i of a call is a pure function of (seed, offset + i): counter = (offset + i) as a 64-bit value in
// the first two 32-bit words (low word first), zeros in the last two; key = seed (low word first). Of the four
// output words, a uniform uses word 0 and a normal uses words 0 and 1 (Box-Muller, cosine branch, in double).
// Dropout's keep decisions (philox.h, ct_philox_keep) are the exception: four per block, element i taking word
// (i & 3) of block (i >> 2).
// So any element can be drawn independently of the others, on any thread, and dropout masks can be recomputed
// in the backward pass instead of being stored. org.cotrain.random.Philox is the Java twin of these functions.
#ifndef COTRAIN_RNG_H
#define COTRAIN_RNG_H

#include "common.h"
#include "philox.h"

// out[i] = uniform in [0, 1) drawn at (seed, offset + i).                                   out: (n)
CT_API void ct_rng_uniform_cpu(float* out, int64_t n, uint64_t seed, uint64_t offset);
CT_API int ct_rng_uniform_cuda(float* out, int64_t n, uint64_t seed, uint64_t offset, void* stream);

// out[i] = standard normal drawn at (seed, offset + i).                                      out: (n)
CT_API void ct_rng_normal_cpu(float* out, int64_t n, uint64_t seed, uint64_t offset);
CT_API int ct_rng_normal_cuda(float* out, int64_t n, uint64_t seed, uint64_t offset, void* stream);

// out[i] = integer uniform in [low, high) drawn at (seed, offset + i). high > low.          out: (n) int32
CT_API void ct_rng_randint_cpu(int32_t* out, int64_t n, int32_t low, int32_t high, uint64_t seed, uint64_t offset);
CT_API int ct_rng_randint_cuda(int32_t* out, int64_t n, int32_t low, int32_t high, uint64_t seed, uint64_t offset,
                               void* stream);

#endif
