// bce.cpp: CPU reference of bce.h, binary cross-entropy on logits, forward and backward, element-wise in double
// (the classifier's batches are small: accuracy over speed).
#include <cmath>

#include "cotrain/bce.h"
#include "cpu_common.h"

// x, y, out: (n)
CT_API void ct_bce_logits_forward_cpu(const float* x, const float* y, float* out, int64_t n) {
#pragma omp parallel for if (n > CT_PARALLEL_GRAIN)
    for (int64_t i = 0; i < n; i++) {
        const double xi = x[i];
        out[i] = (float)(std::fmax(xi, 0.0) - xi * (double)y[i] + std::log1p(std::exp(-std::fabs(xi))));
    }
}

// x, y, dx: (n); dloss: (1). d/dx of the element loss is s(x) - y.
CT_API void ct_bce_logits_backward_cpu(const float* x, const float* y, const float* dloss, float* dx, int64_t n,
                                       float scale) {
    const double g = (double)scale * (double)dloss[0];
#pragma omp parallel for if (n > CT_PARALLEL_GRAIN)
    for (int64_t i = 0; i < n; i++) {
        const double s = 1.0 / (1.0 + std::exp(-(double)x[i]));
        dx[i] += (float)(g * (s - (double)y[i]));
    }
}
