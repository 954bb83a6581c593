// panel_product.h: the few-row product with weights packed in panels (packed_linear.h), shared by
// packed_linear.cpp and decoder_inference.cpp. Templates only, always inlined into a caller compiled for one
// instruction set (a function with __attribute__((target(...)))): V is the vector type of that set.
//
// A tile of MR rows x CT_PANEL = 32 columns keeps MR x 32 / lanes vector accumulators; for every k it loads the
// panel's 32 weights (contiguous) and broadcasts MR elements of A, so the weights stream once per tile in address
// order and no accumulator needs a horizontal sum (the in-place kernel of matmul_skinny.cpp, which reads W (N, K) as
// it lies, spends a third of its time in those sums). Each thread owns whole panels, and every output is one
// thread's sum in k order: the same bits for any thread count.
#ifndef COTRAIN_PANEL_PRODUCT_H
#define COTRAIN_PANEL_PRODUCT_H

#include <stdint.h>
#include <string.h>

#include "cotrain/packed_linear.h"
#include "cpu_common.h"

#pragma GCC diagnostic ignored "-Wpsabi"  // wide vectors by value only between always-inlined helpers

typedef float v8sf __attribute__((vector_size(32)));
typedef float v16sf __attribute__((vector_size(64)));

#define CT_INLINE static inline __attribute__((always_inline))

enum Epilogue { STORE, GELU, ADD };  // c = v, c = gelu(v), c += v, with v = a W^T + bias

template <typename V>
CT_INLINE V load(const float* p) {
    V v;
    memcpy(&v, p, sizeof v);
    return v;
}

// c[i][j] (op)= sum_k a[i][k] panel[k][j] + bias[j] for i < MR, j < cols; a: (MR, K) with row stride k;
// panel: (K, CT_PANEL); c: row stride ldc.
template <typename V, int MR, int E>
CT_INLINE void panel_tile(const float* a, int k, const float* panel, const float* bias, float* c, int ldc, int cols) {
    constexpr int L = sizeof(V) / sizeof(float), NV = CT_PANEL / L;
    V acc[MR][NV];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NV; j++) acc[i][j] = V{};
    for (int kk = 0; kk < k; kk++) {
        // the panel streams from L3 (a DP-T step reads 36 MB of weights): ask for its two lines 64 k-rows (8 KB)
        // ahead; measured 7% faster on two threads and 20% on one (prefetch never faults past the end)
        __builtin_prefetch(panel + (int64_t)(kk + 64) * CT_PANEL);
        __builtin_prefetch(panel + (int64_t)(kk + 64) * CT_PANEL + 16);
        V w[NV];
        for (int j = 0; j < NV; j++) w[j] = load<V>(panel + (int64_t)kk * CT_PANEL + j * L);
        for (int i = 0; i < MR; i++) {
            const float ai = a[(int64_t)i * k + kk];
            for (int j = 0; j < NV; j++) acc[i][j] += ai * w[j];
        }
    }
    for (int i = 0; i < MR; i++) {
        float row[CT_PANEL];
        memcpy(row, acc[i], sizeof row);
        float* ci = c + (int64_t)i * ldc;
        for (int j = 0; j < cols; j++) {
            float v = row[j] + bias[j];
            if (E == GELU) v = 0.5f * v * (1.0f + ct_erff(v * 0.70710678118654752f));
            if (E == ADD) {
                ci[j] += v;
            } else {
                ci[j] = v;
            }
        }
    }
}

// This thread's panels of c (m, n) (op)= a (m, k) W^T + bias, W packed; c dense (row stride n).
template <typename V, int MR, int E>
CT_INLINE void panel_product(const float* a, int m, int k, const float* packed, const float* bias, float* c, int n,
                             int thread, int threads) {
    const int panels = (n + CT_PANEL - 1) / CT_PANEL;
    const int p0 = (int)((int64_t)panels * thread / threads), p1 = (int)((int64_t)panels * (thread + 1) / threads);
    for (int p = p0; p < p1; p++) {
        const int n0 = p * CT_PANEL;
        const int cols = n - n0 < CT_PANEL ? n - n0 : CT_PANEL;
        const float* panel = packed + (int64_t)p * k * CT_PANEL;
        for (int m0 = 0; m0 < m; m0 += MR) {
            const float* am = a + (int64_t)m0 * k;
            float* cm = c + (int64_t)m0 * n + n0;
#define CT_TILE_CASE(R) \
    case R: panel_tile<V, (R <= MR ? R : MR), E>(am, k, panel, bias + n0, cm, n, cols); break;
            switch (m - m0 < MR ? m - m0 : MR) {
                CT_TILE_CASE(1) CT_TILE_CASE(2) CT_TILE_CASE(3) CT_TILE_CASE(4)
                CT_TILE_CASE(5) CT_TILE_CASE(6) CT_TILE_CASE(7) CT_TILE_CASE(8)
            }
#undef CT_TILE_CASE
        }
    }
}

#endif
