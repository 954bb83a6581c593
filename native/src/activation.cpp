// activation.cpp: CPU reference of activation.h: GELU (exact erf form), Mish and ReLU, forward and backward.
//
// These run on every (B*T, 1024) FFN activation of the denoiser, forward and backward, so they are hot on the CPU
// backend. glibc's erff/expf/tanhf are scalar calls that stop the loops from vectorising, so the transcendental
// functions (in cpu_common.h, shared with decoder_inference.cpp) are branch-free, call-free float approximations
// the compiler turns into AVX2 code:
//   ct_expf_nonpos: exp(x) for x <= 0 (every exp here has a non-positive argument), ~2 ulp;
//   ct_erff:        erf(x), the rational approximation of Eigen and XLA, absolute error about 2e-7.
// Measured against float64 over [-30, 30]: GELU and Mish within 1e-6 of max(|y|, 1), their derivatives within
// 3e-7, about a float's resolution at the scale of the outputs (1 + erf, tanh near 1). In GELU's far negative tail
// (x < -4, y tiny) the error is absolute, as for any 0.5 x (1 + erf) in float, PyTorch's included.
#include "cotrain/activation.h"
#include "cpu_common.h"

#include <string.h>

// ---- GELU: y = x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)) -----------------------------------------------------------

CT_API CT_MULTIVERSION void ct_gelu_forward_cpu(const float* x, float* y, int64_t n) {
    // x, y: (n)
#pragma omp parallel for if (n > CT_PARALLEL_GRAIN)
    for (int64_t i = 0; i < n; i++) {
        float xi = x[i];
        y[i] = 0.5f * xi * (1.0f + ct_erff(xi * 0.70710678118654752f));
    }
}

CT_API CT_MULTIVERSION void ct_gelu_backward_cpu(const float* x, const float* dy, float* dx, int64_t n) {
    // gelu'(x) = Phi(x) + x phi(x), phi the standard normal density exp(-x^2/2) / sqrt(2 pi)
#pragma omp parallel for if (n > CT_PARALLEL_GRAIN)
    for (int64_t i = 0; i < n; i++) {
        float xi = x[i];
        float cdf = 0.5f * (1.0f + ct_erff(xi * 0.70710678118654752f));
        float pdf = 0.39894228040143268f * ct_expf_nonpos(-0.5f * xi * xi);
        dx[i] += dy[i] * (cdf + xi * pdf);
    }
}

// ---- Mish: y = x tanh(softplus(x)), softplus(x) = log(1 + e^x) ----------------------------------------------------
// (ct_mish_parts, the stable tanh(softplus(x)) and its derivative parts, is in cpu_common.h, shared with the fused
// GroupNorm + Mish of groupnorm.cpp)

CT_API CT_MULTIVERSION void ct_mish_forward_cpu(const float* x, float* y, int64_t n) {
    // x, y: (n)
#pragma omp parallel for if (n > CT_PARALLEL_GRAIN)
    for (int64_t i = 0; i < n; i++) {
        float xi = x[i], tsp, sech2, sig;
        ct_mish_parts(xi, &tsp, &sech2, &sig);
        y[i] = xi * tsp;
    }
}

CT_API CT_MULTIVERSION void ct_mish_backward_cpu(const float* x, const float* dy, float* dx, int64_t n) {
    // mish'(x) = tanh(sp) + x sech^2(sp) sp'(x), and sp'(x) = sigmoid(x)
#pragma omp parallel for if (n > CT_PARALLEL_GRAIN)
    for (int64_t i = 0; i < n; i++) {
        float xi = x[i], tsp, sech2, sig;
        ct_mish_parts(xi, &tsp, &sech2, &sig);
        dx[i] += dy[i] * (tsp + xi * sech2 * sig);
    }
}

// ---- ReLU ---------------------------------------------------------------------------------------------------------

CT_API CT_MULTIVERSION void ct_relu_forward_cpu(const float* x, float* y, int64_t n) {
#pragma omp parallel for if (n > CT_PARALLEL_GRAIN)
    for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

CT_API CT_MULTIVERSION void ct_relu_backward_cpu(const float* x, const float* dy, float* dx, int64_t n) {
    // relu'(0) = 0, as in PyTorch
#pragma omp parallel for if (n > CT_PARALLEL_GRAIN)
    for (int64_t i = 0; i < n; i++) dx[i] += x[i] > 0.0f ? dy[i] : 0.0f;
}

// ---- add + ReLU: y = max(a + b, 0), the residual join (backward: ct_relu_backward_cpu with x = y) ----------------

CT_API CT_MULTIVERSION void ct_add_relu_forward_cpu(const float* a, const float* b, float* y, int64_t n) {
#pragma omp parallel for if (n > CT_PARALLEL_GRAIN)
    for (int64_t i = 0; i < n; i++) {
        const float s = a[i] + b[i];
        y[i] = s > 0.0f ? s : 0.0f;
    }
}
