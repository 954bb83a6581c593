// cpu_common.h: helpers shared by the CPU reference implementations in native/src.
#ifndef COTRAIN_CPU_COMMON_H
#define COTRAIN_CPU_COMMON_H

#include <stdint.h>
#include <string.h>
#include <omp.h>

// Hot pointwise loops are compiled twice, for AVX2+FMA (x86-64-v3) and for baseline x86-64, and the loader picks
// the right one at run time (GCC function multi-versioning), so the library runs on any x86-64 machine without
// -march=native. Use on functions whose inner loop vectorises; OpenMP pragmas inside are fine. The baseline build
// (cmake -DCOTRAIN_BASELINE_ONLY=ON, defining CT_BASELINE_ONLY) compiles the baseline alone, so that the tests can
// run the code a CPU without AVX2 gets on one that has it.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(CT_BASELINE_ONLY)
#define CT_MULTIVERSION __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define CT_MULTIVERSION
#endif

// Below this many elements a parallel region costs more than it saves.
#define CT_PARALLEL_GRAIN 16384

// Vectorisable math. Calls to glibc's expf keep loops scalar, so the hot CPU loops (activations, softmax) use this
// instead. Its clamps are selects, which GCC vectorises because the library is built with -fno-trapping-math
// (cmake/CotrainCompilerFlags.cmake).

// exp(x) for x <= 0 (NaN propagates). Cephes expf: x = n ln2 + r with |r| <= ln2/2 (ln2 split in two for an exact
// product), e^r by a degree-7 polynomial, 2^n written into the exponent bits. Below -87.3 the result would be a
// denormal; it is flushed to 0.
static inline float ct_expf_nonpos(float x) {
    const float lo = -87.33654f;            // ln(FLT_MIN): 2^n stays a normal float
    float xc = x < lo ? lo : x;
    // Round x / ln2 to the nearest integer with the 1.5 * 2^23 trick (vectorises without SSE4.1 round).
    float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = xc - n * 0.693359375f;       // ln2 = 0.693359375 - 2.12194440e-4, the first part exact in float
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    y = y * scale;
    return x < lo ? 0.0f : y;
}

// erf(x): x P(x^2) / Q(x^2) on [-4, 4] (erf is +-1 in float beyond), the approximation used by Eigen and XLA.
static inline float ct_erff(float x) {
    float xc = x < -4.0f ? -4.0f : x;
    xc = xc > 4.0f ? 4.0f : xc;
    float x2 = xc * xc;
    float p = -2.72614225801306e-10f;
    p = p * x2 + 2.77068142495902e-08f;
    p = p * x2 + -2.10102402082508e-06f;
    p = p * x2 + -5.69250639462346e-05f;
    p = p * x2 + -7.34990630326855e-04f;
    p = p * x2 + -2.95459980854025e-03f;
    p = p * x2 + -1.60960333262415e-02f;
    float q = -1.45660718464996e-05f;
    q = q * x2 + -2.13374055278905e-04f;
    q = q * x2 + -1.68282697438203e-03f;
    q = q * x2 + -7.37332916720468e-03f;
    q = q * x2 + -1.42647390514189e-02f;
    return xc * p / q;
}

// ---- Mish (activation.cpp, and the fused GroupNorm + Mish of groupnorm.cpp): y = x tanh(softplus(x)) ----------
//
// No log or tanh is needed: with e = e^x, tanh(log(1 + e)) = ((1+e)^2 - 1) / ((1+e)^2 + 1) = (e^2 + 2e) / (e^2 + 2e + 2).
// e overflows for large x, so for x >= 0 the same ratio is written in u = e^-x instead (multiply through by u^2):
// (1 + 2u) / (1 + 2u + 2u^2). Either way the only exponential is t = exp(-|x|) <= 1, which cannot overflow, and
// no difference of nearly equal numbers is formed (1 - tanh^2 below is also written as a ratio), so it is as
// stable as the log1p(exp(-|x|)) + max(x, 0) form of softplus.

// tanh(softplus(x)) and its derivative parts, from t = exp(-|x|).
static inline void ct_mish_parts(float x, float* tsp, float* sech2, float* sig) {
    bool pos = x >= 0.0f;
    float t = ct_expf_nonpos(pos ? -x : x);
    // tanh(sp) = num / den, and den - num (2t^2 or 2) gives 1 - tanh^2 without cancellation.
    float num = pos ? 1.0f + 2.0f * t : t * (t + 2.0f);   // x >= 0: t = e^-x; x < 0: t = e^x
    float gap = pos ? 2.0f * t * t : 2.0f;
    float den = num + gap;
    float rden = 1.0f / den;
    *tsp = num * rden;
    *sech2 = gap * (den + num) * rden * rden;             // (den^2 - num^2) / den^2
    *sig = (pos ? 1.0f : t) / (1.0f + t);                 // sigmoid(x) = 1/(1+e^-x) = e^x/(1+e^x)
}

#endif
