// dropout.cpp: CPU reference of dropout.h. The keep decisions come from Philox at (seed, offset + i); the forward can
// store them as a byte mask for the backward, which otherwise draws them again.
#include <string.h>

#include "cotrain/dropout.h"
#include "cotrain/philox.h"
#include "cpu_common.h"

// A Philox block per four elements is still ~10x the work of a plain elementwise pass: parallel from fewer elements.
#define DROPOUT_PARALLEL_GRAIN (CT_PARALLEL_GRAIN / 4)

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

// The mask comes four elements to a Philox block (philox.h): element e = offset + i uses word (e & 3) of block
// (e >> 2). Elements before the first whole block and after the last take ct_philox_keep one at a time; the whole
// blocks in between go in chunks: one loop draws a chunk's blocks into a word buffer on the stack (GCC vectorises
// it, 8 blocks per AVX2 instruction), a second applies the words to the chunk's elements, contiguous.
//   head: elements [0, head) finish a block that began before offset; then whole blocks; tail: [tail, n)
struct dropout_span {
    int64_t head, blocks, tail;
    uint64_t first_block;
};

static dropout_span dropout_split(int64_t n, uint64_t offset) {
    int64_t head = (int64_t)((4 - (offset & 3)) & 3);
    if (head > n) head = n;
    const int64_t blocks = (n - head) / 4;
    return {head, blocks, head + 4 * blocks, (offset + (uint64_t)head) >> 2};
}

#define DROPOUT_CHUNK 256  // blocks per chunk: 1024 elements, 4 KiB of words

// words[4 j + w] = word w of block first + j, j < count
static inline void philox_words(uint32_t* __restrict words, uint64_t first, int count, uint64_t seed) {
    for (int j = 0; j < count; j++) {
        const ct_philox_out r = ct_philox4x32_10(first + (uint64_t)j, seed);
        words[4 * j] = r.v[0];
        words[4 * j + 1] = r.v[1];
        words[4 * j + 2] = r.v[2];
        words[4 * j + 3] = r.v[3];
    }
}

// x, y: (n), mask: (n) or NULL. y = keep ? x / (1 - p) : 0, mask = keep. The scale is one float division, then a
// multiply per element; the CUDA kernel computes it the same way so both backends round identically. p == 0 keeps
// everything (every uniform is >= 0) with scale exactly 1, so it is the identity.
CT_API CT_MULTIVERSION void ct_dropout_forward_cpu(const float* x, float* y, uint8_t* mask, int64_t n, float p,
                                                   uint64_t seed, uint64_t offset) {
    const float scale = 1.0f / (1.0f - p);
    const dropout_span s = dropout_split(n, offset);
    for (int64_t i = 0; i < s.head; i++) {
        const int keep = ct_philox_keep(seed, offset + (uint64_t)i, p);
        y[i] = keep_or_zero(x[i] * scale, keep);
        if (mask != nullptr) mask[i] = (uint8_t)keep;
    }
    const int64_t chunks = (s.blocks + DROPOUT_CHUNK - 1) / DROPOUT_CHUNK;
    #pragma omp parallel for schedule(static) if (n > DROPOUT_PARALLEL_GRAIN)
    for (int64_t c = 0; c < chunks; c++) {
        uint32_t words[4 * DROPOUT_CHUNK];
        const int64_t j0 = c * DROPOUT_CHUNK;
        const int count = (int)(s.blocks - j0 < DROPOUT_CHUNK ? s.blocks - j0 : DROPOUT_CHUNK);
        philox_words(words, s.first_block + (uint64_t)j0, count, seed);
        const int64_t i0 = s.head + 4 * j0;
        for (int e = 0; e < 4 * count; e++) {
            y[i0 + e] = keep_or_zero(x[i0 + e] * scale, ct_philox_keep_word(words[e], p));
        }
        if (mask != nullptr) {
            for (int e = 0; e < 4 * count; e++) mask[i0 + e] = (uint8_t)ct_philox_keep_word(words[e], p);
        }
    }
    for (int64_t i = s.tail; i < n; i++) {
        const int keep = ct_philox_keep(seed, offset + (uint64_t)i, p);
        y[i] = keep_or_zero(x[i] * scale, keep);
        if (mask != nullptr) mask[i] = (uint8_t)keep;
    }
}

// dy, dx: (n), mask: (n) or NULL. dx (+)= keep ? dy / (1 - p) : 0, keep from the mask or, without one, from the
// forward's seed and offset.
CT_API CT_MULTIVERSION void ct_dropout_backward_cpu(const float* dy, float* dx, const uint8_t* mask, int64_t n,
                                                    float p, uint64_t seed, uint64_t offset, int accumulate) {
    const float scale = 1.0f / (1.0f - p);
    if (mask != nullptr) {
        #pragma omp parallel for schedule(static) if (n > CT_PARALLEL_GRAIN)
        for (int64_t i = 0; i < n; i++) {
            const float g = keep_or_zero(dy[i] * scale, mask[i]);
            dx[i] = accumulate ? dx[i] + g : g;
        }
        return;
    }
    const dropout_span s = dropout_split(n, offset);
    for (int64_t i = 0; i < s.head; i++) {
        const float g = keep_or_zero(dy[i] * scale, ct_philox_keep(seed, offset + (uint64_t)i, p));
        dx[i] = accumulate ? dx[i] + g : g;
    }
    const int64_t chunks = (s.blocks + DROPOUT_CHUNK - 1) / DROPOUT_CHUNK;
    #pragma omp parallel for schedule(static) if (n > DROPOUT_PARALLEL_GRAIN)
    for (int64_t c = 0; c < chunks; c++) {
        uint32_t words[4 * DROPOUT_CHUNK];
        const int64_t j0 = c * DROPOUT_CHUNK;
        const int count = (int)(s.blocks - j0 < DROPOUT_CHUNK ? s.blocks - j0 : DROPOUT_CHUNK);
        philox_words(words, s.first_block + (uint64_t)j0, count, seed);
        const int64_t i0 = s.head + 4 * j0;
        for (int e = 0; e < 4 * count; e++) {
            const float g = keep_or_zero(dy[i0 + e] * scale, ct_philox_keep_word(words[e], p));
            dx[i0 + e] = accumulate ? dx[i0 + e] + g : g;
        }
    }
    for (int64_t i = s.tail; i < n; i++) {
        const float g = keep_or_zero(dy[i] * scale, ct_philox_keep(seed, offset + (uint64_t)i, p));
        dx[i] = accumulate ? dx[i] + g : g;
    }
}
