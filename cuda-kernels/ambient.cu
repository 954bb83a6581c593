// ambient.cu: CUDA kernel of the ambient-diffusion batch assembly, see ambient.h and the CPU reference in
// native/src/ambient.cpp.
//
// One thread per element of the flat (B, N) arrays in a grid-stride loop, as ddpm.cu: the thread finds its chain
// c = idx / N and recomputes the chain's coefficients (loads of t, tn and abar that hit the cache, a few square
// roots). A training batch is B * horizon * action_dim elements (some thousands), so the launch is bound by latency;
// the ambient arithmetic stays in double as on the CPU, because its targets divide by s_t^2 - s_n^2, which is small
// when t is just above tn. Ordinary samples (tn < 0) use ddpm_add_noise's float arithmetic.
#include <math.h>

#include "cotrain/ambient.h"
#include "cuda_common.cuh"

static constexpr int kBlock = 256;

// x0, eps, z, xt, target, weight: (B, N); t, tn: (B); abar: (T)
__global__ void ambient_batch_kernel(const float* __restrict__ x0, const float* __restrict__ eps,
                                     const float* __restrict__ z, const int32_t* __restrict__ t,
                                     const int32_t* __restrict__ tn, const float* __restrict__ abar,
                                     int num_timesteps, int prediction_type, int weighting, float* __restrict__ xt,
                                     float* __restrict__ target, float* __restrict__ weight, int64_t total,
                                     int64_t n) {
    for (int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += (int64_t)gridDim.x * blockDim.x) {
        const int64_t c = idx / n;
        const int32_t tc = t[c], nc = tn[c];
        if (tc < 0 || tc >= num_timesteps || nc >= num_timesteps || (nc >= 0 && nc >= tc)) {
            xt[idx] = NAN;
            target[idx] = NAN;
            if (weight != nullptr) weight[idx] = NAN;
            continue;
        }
        const double abar_t = abar[tc];
        if (nc < 0) {
            // the ordinary DDPM sample: the same float coefficients as ddpm_add_noise and the CPU
            const float sa = (float)sqrt(abar_t), sb = (float)sqrt(1.0 - abar_t);
            xt[idx] = sa * x0[idx] + sb * eps[idx];
            target[idx] = prediction_type == CT_PREDICT_SAMPLE ? x0[idx] : eps[idx];
            if (weight != nullptr) weight[idx] = 1.0f;
            continue;
        }
        const double abar_n = abar[nc];
        const double st2 = 1.0 - abar_t, sn2 = 1.0 - abar_n, d = st2 - sn2;
        const double xn = sqrt(abar_n) * (double)x0[idx] + sqrt(sn2) * (double)eps[idx];   // x_tn
        const double x = sqrt(abar_t / abar_n) * xn + sqrt(d / abar_n) * (double)z[idx];   // xt
        double y;
        if (prediction_type == CT_PREDICT_SAMPLE) {
            y = (st2 * sqrt(abar_n) * xn - sn2 * sqrt(abar_t) * x) / d;                       // h*
        } else {
            const double st = sqrt(st2);
            y = (st * abar_n * x - st * sqrt(abar_t) * sqrt(abar_n) * xn) / d;                // eps*
        }
        xt[idx] = (float)x;
        target[idx] = (float)y;
        if (weight != nullptr) weight[idx] = (float)(weighting ? d / st2 : 1.0);
    }
}

CT_API int ct_ambient_batch_cuda(const float* x0, const float* eps, const float* z, const int32_t* t,
                                 const int32_t* tn, const float* abar, int num_timesteps, int prediction_type,
                                 int weighting, float* xt, float* target, float* weight, int b, int64_t n,
                                 void* stream) {
    const int64_t total = (int64_t)b * n;
    if (total <= 0) return 0;
    ambient_batch_kernel<<<ct_grid_for(total, kBlock), kBlock, 0, CT_STREAM(stream)>>>(
        x0, eps, z, t, tn, abar, num_timesteps, prediction_type, weighting, xt, target, weight, total, n);
    return ct_launch_status();
}
