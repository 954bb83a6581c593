// matmul_skinny.cpp: the few-row case of ct_matmul_cpu (matmul.h), C (M, N) = alpha A (M, K) W^T + beta C + bias
// with W stored (N, K), the layout of a Linear's weight. These are the products of batch-1 inference: M = 16 action
// tokens (or 3 condition tokens) against weights of up to 1024 x 256.
//
// Why not OpenBLAS here: its sgemm copies the whole of W into its panel layout on every call, which at M = 16 costs
// more than the arithmetic (profile of 100-step sampling: 29% of the time in sgemm_incopy against 16% in the sgemm
// kernel). This kernel reads W in place. A row of W is contiguous in K, so every output is the dot product of a row
// of A and a row of W: a block of MR x NR outputs keeps MR * NR vector accumulators along K, loads MR vectors of A
// and NR of W for every MR * NR FMAs, and reduces the accumulators across their lanes once at the end. W streams
// from memory once per call, in row blocks split over the threads; A (M x K, at most 32 x 1024 floats) stays in
// L1/L2.
//
// Two builds of the same template, picked at run time: AVX-512 (16 lanes, 32 registers: 4 x 4 blocks) and AVX2+FMA
// (8 lanes, 16 registers: 3 x 4 blocks, so that 12 accumulators and the loads fit without spilling); any other
// x86-64 takes the AVX2 template compiled for the baseline (SSE), slower but the same arithmetic. GCC vector
// extensions rather than intrinsics keep the three builds one source.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_common.h"
#include "matmul_skinny.h"

// The vector helpers are always inlined into their caller's target: the ABI note about passing wide vectors by value
// between functions does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

typedef float v4sf __attribute__((vector_size(16)));
typedef float v8sf __attribute__((vector_size(32)));
typedef float v16sf __attribute__((vector_size(64)));

#define CT_INLINE static inline __attribute__((always_inline))

template <typename V>
CT_INLINE V load(const float* p) {
    V v;
    memcpy(&v, p, sizeof v);  // unaligned load
    return v;
}

// The lanes of a vector folded down to 4 (adding halves).
CT_INLINE v4sf fold4(v4sf v) {
    return v;
}
CT_INLINE v4sf fold4(v8sf v) {
    return __builtin_shufflevector(v, v, 0, 1, 2, 3) + __builtin_shufflevector(v, v, 4, 5, 6, 7);
}
CT_INLINE v4sf fold4(v16sf v) {
    v8sf h = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) +
             __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
    return fold4(h);
}

// {sum of a, sum of b, sum of c, sum of d}: a transposing reduction tree, two shuffle-add rounds for four sums.
CT_INLINE v4sf sum4(v4sf a, v4sf b, v4sf c, v4sf d) {
    v4sf ab = __builtin_shufflevector(a, b, 0, 1, 4, 5) + __builtin_shufflevector(a, b, 2, 3, 6, 7);
    v4sf cd = __builtin_shufflevector(c, d, 0, 1, 4, 5) + __builtin_shufflevector(c, d, 2, 3, 6, 7);
    return __builtin_shufflevector(ab, cd, 0, 2, 4, 6) + __builtin_shufflevector(ab, cd, 1, 3, 5, 7);
}

// out[i][j] = sum_k a[i * lda + k] * w[j * ldw + k] for i < MR, j < NR; V is the vector type along K.
template <typename V, int MR, int NR>
CT_INLINE void dot_block(const float* a, int lda, const float* w, int ldw, int k, float out[4][4]) {
    constexpr int L = sizeof(V) / sizeof(float);
    V acc[MR][NR];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) acc[i][j] = V{};
    int kk = 0;
    for (; kk + L <= k; kk += L) {
        V av[MR];
        for (int i = 0; i < MR; i++) av[i] = load<V>(a + (int64_t)i * lda + kk);
        for (int j = 0; j < NR; j++) {
            const V wv = load<V>(w + (int64_t)j * ldw + kk);
            for (int i = 0; i < MR; i++) acc[i][j] += av[i] * wv;
        }
    }
    for (int i = 0; i < MR; i++) {
        v4sf z = v4sf{};
        v4sf s = sum4(fold4(acc[i][0]), NR > 1 ? fold4(acc[i][NR > 1 ? 1 : 0]) : z,
                      NR > 2 ? fold4(acc[i][NR > 2 ? 2 : 0]) : z, NR > 3 ? fold4(acc[i][NR > 3 ? 3 : 0]) : z);
        for (int j = 0; j < NR; j++) out[i][j] = s[j];
    }
    for (; kk < k; kk++)  // K not a multiple of the vector length
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++) out[i][j] += a[(int64_t)i * lda + kk] * w[(int64_t)j * ldw + kk];
}

// Column blocks [nb0, nb1) of the product (4 columns of C, i.e. 4 rows of W, each) with blocks of (up to) MR x 4
// outputs: full blocks almost everywhere, the last rows and columns take smaller instantiations (a switch of direct
// calls, so that each is inlined into this target's code).
template <typename V, int MR>
CT_INLINE void skinny_nt_blocks(const float* a, const float* w, const float* bias, float* c, int m, int n, int k,
                                float alpha, float beta, int nb0, int nb1) {
    for (int nb = nb0; nb < nb1; nb++) {
        const int n0 = 4 * nb;
        const int nr = n - n0 < 4 ? n - n0 : 4;
        for (int m0 = 0; m0 < m; m0 += MR) {
            const int mr = m - m0 < MR ? m - m0 : MR;
            const float* ab = a + (int64_t)m0 * k;
            const float* wb = w + (int64_t)n0 * k;
            float out[4][4];
#define CT_DOT_CASE(R, C) \
    case (R - 1) * 4 + (C - 1): dot_block<V, (R <= MR ? R : MR), C>(ab, k, wb, k, k, out); break;
            switch ((mr - 1) * 4 + (nr - 1)) {
                CT_DOT_CASE(1, 1) CT_DOT_CASE(1, 2) CT_DOT_CASE(1, 3) CT_DOT_CASE(1, 4)
                CT_DOT_CASE(2, 1) CT_DOT_CASE(2, 2) CT_DOT_CASE(2, 3) CT_DOT_CASE(2, 4)
                CT_DOT_CASE(3, 1) CT_DOT_CASE(3, 2) CT_DOT_CASE(3, 3) CT_DOT_CASE(3, 4)
                CT_DOT_CASE(4, 1) CT_DOT_CASE(4, 2) CT_DOT_CASE(4, 3) CT_DOT_CASE(4, 4)
            }
#undef CT_DOT_CASE
            for (int i = 0; i < mr; i++) {
                float* cr = c + (int64_t)(m0 + i) * n + n0;
                for (int j = 0; j < nr; j++) {
                    // beta == 0 overwrites C (NaN included), as BLAS does
                    const float v = alpha * out[i][j] + (beta == 0.0f ? 0.0f : beta * cr[j]);
                    cr[j] = bias != nullptr ? v + bias[n0 + j] : v;
                }
            }
        }
    }
}

// The column blocks split evenly over the threads (each thread streams its own rows of W). The parallel region sits
// in the target-specific function itself, so that the outlined OpenMP body is compiled for the same target.
#define CT_SKINNY_PARALLEL(V, MR)                                                                   \
    const int nblocks = (n + 3) / 4;                                                                \
    _Pragma("omp parallel if (parallel)") {                                                         \
        const int threads = omp_get_num_threads(), t = omp_get_thread_num();                        \
        const int nb0 = (int)((int64_t)nblocks * t / threads), nb1 = (int)((int64_t)nblocks * (t + 1) / threads); \
        skinny_nt_blocks<V, MR>(a, w, bias, c, m, n, k, alpha, beta, nb0, nb1);                     \
    }

__attribute__((target("avx512f,avx512vl,avx512dq,fma"))) static void skinny_nt_avx512(
        const float* a, const float* w, const float* bias, float* c, int m, int n, int k, float alpha, float beta,
        bool parallel) {
    CT_SKINNY_PARALLEL(v16sf, 4)
}

__attribute__((target("avx2,fma"))) static void skinny_nt_avx2(const float* a, const float* w, const float* bias,
                                                               float* c, int m, int n, int k, float alpha,
                                                               float beta, bool parallel) {
    CT_SKINNY_PARALLEL(v8sf, 3)
}

static void skinny_nt_baseline(const float* a, const float* w, const float* bias, float* c, int m, int n, int k,
                               float alpha, float beta, bool parallel) {
    CT_SKINNY_PARALLEL(v8sf, 3)
}

static int detected_isa() {
    __builtin_cpu_init();  // also runs as a static initialiser, possibly before libgcc's own CPU detection
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq")) {
        return 2;
    }
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
}

// What the kernel starts with: the CPU's level, capped by the baseline build (CT_BASELINE_ONLY) and by the environment
// variable COTRAIN_CPU_ISA (baseline, avx2 or avx512: run a machine's tests on the code paths of a smaller CPU).
static int initial_isa() {
    int level = detected_isa();
#ifdef CT_BASELINE_ONLY
    level = 0;
#endif
    const char* forced = getenv("COTRAIN_CPU_ISA");
    if (forced != nullptr) {
        int cap = strcmp(forced, "baseline") == 0 ? 0 : strcmp(forced, "avx2") == 0 ? 1
                : strcmp(forced, "avx512") == 0 ? 2 : -1;
        if (cap < 0) {
            fprintf(stderr, "cotrain: COTRAIN_CPU_ISA=%s is not one of baseline, avx2, avx512; ignored\n", forced);
        } else if (cap < level) {
            level = cap;
        }
    }
    return level;
}

static int isa_in_use = initial_isa();

int ct_matmul_skinny_set_isa(int max_level) {
    const int detected = detected_isa();
    isa_in_use = max_level < 0 || max_level > detected ? detected : max_level;
    return isa_in_use;
}

int ct_matmul_skinny_isa() {
    return isa_in_use;
}

void ct_matmul_skinny_nt(const float* a, const float* w, const float* bias, float* c, int m, int n, int k,
                         float alpha, float beta, bool parallel) {
    // a: (M, K), w: (N, K), bias: (N) or NULL, c: (M, N)
    if (isa_in_use == 2) {
        skinny_nt_avx512(a, w, bias, c, m, n, k, alpha, beta, parallel);
    } else if (isa_in_use == 1) {
        skinny_nt_avx2(a, w, bias, c, m, n, k, alpha, beta, parallel);
    } else {
        skinny_nt_baseline(a, w, bias, c, m, n, k, alpha, beta, parallel);
    }
}
