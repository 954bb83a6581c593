// embedding.cpp: CPU reference of embedding.h (table lookup and its backward, the sinusoidal step embedding).
#include <math.h>
#include <string.h>

#include "cotrain/embedding.h"
#include "cpu_common.h"

// table: (V, C), index: (n) int32, out: (n, C). Rows are independent copies. An index outside [0, V) yields a NaN
// row instead of a wild read (Ops also checks host indices before the call).
CT_API void ct_embedding_forward_cpu(const float* table, const int32_t* index, float* out, int64_t n, int v,
                                     int c) {
    #pragma omp parallel for schedule(static) if (n * c > CT_PARALLEL_GRAIN)
    for (int64_t i = 0; i < n; i++) {
        float* out_i = out + i * c;
        int32_t k = index[i];
        if (k < 0 || k >= v) {
            for (int j = 0; j < c; j++) out_i[j] = NAN;
            continue;
        }
        memcpy(out_i, table + (int64_t)k * c, sizeof(float) * (size_t)c);
    }
}

// dout: (n, C), index: (n) int32, dtable: (V, C). dtable[v, :] += dout[i, :] for each i with index[i] == v, in
// increasing i, which fixes the rounding: the result equals the serial loop whatever the thread count. Threads
// own disjoint ranges of vocabulary rows and each scans the whole index array, so no two threads ever write the
// same row (no races, no atomics), and a row's contributions are added in index order. Indices outside [0, V)
// belong to no thread's range and are ignored. The extra index scans (n ints per thread) are cheap next to the
// row additions.
CT_API CT_MULTIVERSION void ct_embedding_backward_cpu(const float* dout, const int32_t* index, float* dtable, int64_t n, int v,
                                      int c) {
    #pragma omp parallel if (n * c > CT_PARALLEL_GRAIN)
    {
        const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
        const int32_t v0 = (int32_t)(v * t / threads), v1 = (int32_t)(v * (t + 1) / threads);
        for (int64_t i = 0; i < n; i++) {
            int32_t k = index[i];
            if (k < v0 || k >= v1) continue;
            float* dst = dtable + (int64_t)k * c;
            const float* src = dout + i * c;
            for (int j = 0; j < c; j++) dst[j] += src[j];
        }
    }
}

// t: (n), out: (n, dim). Diffusion Policy's SinusoidalPosEmb: half = dim / 2,
// freq[j] = exp(-j ln(10000) / (half - 1)), out[b, :half] = sin(t[b] freq), out[b, half:] = cos(t[b] freq).
// Evaluated in double and rounded once: t goes up to ~100 training steps, where a float product t * freq would
// already be off by ~4e-6 before the sine; double keeps the result within one float ulp of the exact value.
CT_API void ct_sinusoidal_embedding_cpu(const float* t, float* out, int64_t n, int dim) {
    const int half = dim / 2;
    const double step = log(10000.0) / (double)(half - 1);
    #pragma omp parallel for schedule(static) if (n * dim > CT_PARALLEL_GRAIN / 8)
    for (int64_t b = 0; b < n; b++) {
        const double tb = (double)t[b];
        float* out_b = out + b * dim;
        for (int j = 0; j < half; j++) {
            double arg = tb * exp(-(double)j * step);
            out_b[j] = (float)sin(arg);
            out_b[half + j] = (float)cos(arg);
        }
    }
}
