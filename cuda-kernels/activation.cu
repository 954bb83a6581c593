// activation.cu: CUDA kernels of activation.h, one grid-stride loop per op, the same formulas as activation.cpp
// (there the transcendental functions are hand-vectorisable approximations; here CUDA's erff and expf, accurate to
// a few ulp). Memory-bound: one read of x (and dy, dx) and one write per element.
#include "cotrain/activation.h"
#include "cuda_common.cuh"

#define CT_ACT_BLOCK 256

#define CT_GRID_STRIDE(i, n) \
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

// ---- GELU: y = 0.5 x (1 + erf(x / sqrt 2)); gelu'(x) = Phi(x) + x phi(x) ----------------------------------------

__global__ void ct_gelu_forward_kernel(const float* x, float* y, int64_t n) {
    CT_GRID_STRIDE(i, n) {
        float xi = x[i];
        y[i] = 0.5f * xi * (1.0f + erff(xi * 0.70710678118654752f));
    }
}

__global__ void ct_gelu_backward_kernel(const float* x, const float* dy, float* dx, int64_t n) {
    CT_GRID_STRIDE(i, n) {
        float xi = x[i];
        float cdf = 0.5f * (1.0f + erff(xi * 0.70710678118654752f));
        float pdf = 0.39894228040143268f * expf(-0.5f * xi * xi);
        dx[i] += dy[i] * (cdf + xi * pdf);
    }
}

// ---- Mish: y = x tanh(softplus(x)) --------------------------------------------------------------------------------
// (ct_mish_parts is in cuda_common.cuh, shared with the fused GroupNorm + Mish of groupnorm.cu)

__global__ void ct_mish_forward_kernel(const float* x, float* y, int64_t n) {
    CT_GRID_STRIDE(i, n) {
        float xi = x[i], tsp, sech2, sig;
        ct_mish_parts(xi, &tsp, &sech2, &sig);
        y[i] = xi * tsp;
    }
}

__global__ void ct_mish_backward_kernel(const float* x, const float* dy, float* dx, int64_t n) {
    CT_GRID_STRIDE(i, n) {
        // mish'(x) = tanh(sp) + x sech^2(sp) sigmoid(x)
        float xi = x[i], tsp, sech2, sig;
        ct_mish_parts(xi, &tsp, &sech2, &sig);
        dx[i] += dy[i] * (tsp + xi * sech2 * sig);
    }
}

// ---- ReLU (relu'(0) = 0, as in PyTorch) ---------------------------------------------------------------------------

__global__ void ct_relu_forward_kernel(const float* x, float* y, int64_t n) {
    CT_GRID_STRIDE(i, n) {
        float xi = x[i];
        y[i] = xi > 0.0f ? xi : 0.0f;
    }
}

__global__ void ct_relu_backward_kernel(const float* x, const float* dy, float* dx, int64_t n) {
    CT_GRID_STRIDE(i, n) {
        if (x[i] > 0.0f) dx[i] += dy[i];
    }
}

// ---- add + ReLU: y = max(a + b, 0) ---------------------------------------------------------------------------------

__global__ void ct_add_relu_forward_kernel(const float* a, const float* b, float* y, int64_t n) {
    CT_GRID_STRIDE(i, n) {
        float s = a[i] + b[i];
        y[i] = s > 0.0f ? s : 0.0f;
    }
}

// ---- launchers ----------------------------------------------------------------------------------------------------

#define CT_ACT_LAUNCH(kernel, n, ...)                                                                   \
    do {                                                                                                \
        if ((n) <= 0) return 0;                                                                         \
        kernel<<<ct_grid_for((n), CT_ACT_BLOCK), CT_ACT_BLOCK, 0, CT_STREAM(stream)>>>(__VA_ARGS__, (n)); \
        return ct_launch_status();                                                                      \
    } while (0)

CT_API int ct_gelu_forward_cuda(const float* x, float* y, int64_t n, void* stream) {
    CT_ACT_LAUNCH(ct_gelu_forward_kernel, n, x, y);
}
CT_API int ct_gelu_backward_cuda(const float* x, const float* dy, float* dx, int64_t n, void* stream) {
    CT_ACT_LAUNCH(ct_gelu_backward_kernel, n, x, dy, dx);
}
CT_API int ct_mish_forward_cuda(const float* x, float* y, int64_t n, void* stream) {
    CT_ACT_LAUNCH(ct_mish_forward_kernel, n, x, y);
}
CT_API int ct_mish_backward_cuda(const float* x, const float* dy, float* dx, int64_t n, void* stream) {
    CT_ACT_LAUNCH(ct_mish_backward_kernel, n, x, dy, dx);
}
CT_API int ct_relu_forward_cuda(const float* x, float* y, int64_t n, void* stream) {
    CT_ACT_LAUNCH(ct_relu_forward_kernel, n, x, y);
}
CT_API int ct_relu_backward_cuda(const float* x, const float* dy, float* dx, int64_t n, void* stream) {
    CT_ACT_LAUNCH(ct_relu_backward_kernel, n, x, dy, dx);
}
CT_API int ct_add_relu_forward_cuda(const float* a, const float* b, float* y, int64_t n, void* stream) {
    CT_ACT_LAUNCH(ct_add_relu_forward_kernel, n, a, b, y);
}
