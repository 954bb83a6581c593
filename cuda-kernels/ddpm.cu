// ddpm.cu: CUDA kernels of the batched diffusion steps, see ddpm.h and the CPU reference in native/src/ddpm.cpp.
//
// One thread per element of the flat (B, N) array, in a grid-stride loop; the thread finds its chain c = idx / N
// and recomputes the chain's schedule coefficients (a few loads of t, prev_t and abar that hit the cache, and a few
// square roots). The arrays are small (B * horizon * action_dim, some thousands of elements) so a launch is bound
// by latency, not arithmetic, and the steps keep the CPU reference's double precision per element: recovering x0
// divides by sqrt(abar[t]) ~ 2e-4 at the last step of a squaredcos_cap_v2 schedule, which would amplify float
// roundings 5000-fold. The Philox normal is element idx = b * N + i of (seed, offset), as on the CPU.
//
// A chain whose t is outside [0, T) (or whose prev_t is >= T) gets NaN: the index is never dereferenced.
#include <math.h>

#include "cotrain/ddpm.h"
#include "cotrain/philox.h"
#include "cuda_common.cuh"

static constexpr int kBlock = 256;

// Clamp that propagates NaN (fmin/fmax would drop it), as on the CPU.
__device__ __forceinline__ double clamp_nan(double v, double r) { return v < -r ? -r : (v > r ? r : v); }

__device__ __forceinline__ bool bad_step(int32_t t, int32_t prev_t, int num_timesteps) {
    return t < 0 || t >= num_timesteps || prev_t >= num_timesteps;
}

// x0, eps, xt: (B, N)
__global__ void ddpm_add_noise_kernel(const float* __restrict__ x0, const float* __restrict__ eps,
                                      const int32_t* __restrict__ t, const float* __restrict__ abar,
                                      int num_timesteps, float* __restrict__ xt, int64_t total, int64_t n) {
    for (int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += (int64_t)gridDim.x * blockDim.x) {
        const int32_t tc = t[idx / n];
        if (tc < 0 || tc >= num_timesteps) {
            xt[idx] = NAN;
            continue;
        }
        const double a = abar[tc];
        const float sa = (float)sqrt(a), sb = (float)sqrt(1.0 - a);  // same float coefficients as the CPU
        xt[idx] = sa * x0[idx] + sb * eps[idx];
    }
}

// model, xt, noise, out: (B, N)
__global__ void ddpm_step_kernel(const float* __restrict__ model, const float* __restrict__ xt,
                                 const int32_t* __restrict__ t, const int32_t* __restrict__ prev_t,
                                 const float* __restrict__ abar, int num_timesteps, int prediction_type, int clip,
                                 float clip_range, const float* __restrict__ noise, uint64_t seed, uint64_t offset,
                                 float* __restrict__ out, int64_t total, int64_t n) {
    for (int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += (int64_t)gridDim.x * blockDim.x) {
        const int64_t c = idx / n;
        const int32_t tc = t[c], pc = prev_t[c];
        if (bad_step(tc, pc, num_timesteps)) {
            out[idx] = NAN;
            continue;
        }
        // diffusers DDPMScheduler.step, variance_type "fixed_small"
        const double a_t = abar[tc];
        const double a_p = pc >= 0 ? (double)abar[pc] : 1.0;
        const double alpha = a_t / a_p, beta = 1.0 - alpha;
        const double x = xt[idx];
        double x0 = prediction_type == CT_PREDICT_SAMPLE ? (double)model[idx]
                                                         : (x - sqrt(1.0 - a_t) * model[idx]) / sqrt(a_t);
        if (clip) x0 = clamp_nan(x0, clip_range);
        double o = sqrt(a_p) * beta / (1.0 - a_t) * x0 + sqrt(alpha) * (1.0 - a_p) / (1.0 - a_t) * x;
        if (tc > 0) {  // the last step adds no noise
            const double var = fmax((1.0 - a_p) / (1.0 - a_t) * beta, 1e-20);
            const double z = noise ? (double)noise[idx] : (double)ct_philox_normal(seed, offset + (uint64_t)idx);
            o += sqrt(var) * z;
        }
        out[idx] = (float)o;
    }
}

// model, xt, noise, out: (B, N)
__global__ void ddim_step_kernel(const float* __restrict__ model, const float* __restrict__ xt,
                                 const int32_t* __restrict__ t, const int32_t* __restrict__ prev_t,
                                 const float* __restrict__ abar, int num_timesteps, float final_abar, float eta,
                                 int prediction_type, int clip, float clip_range, int use_clipped_model_output,
                                 const float* __restrict__ noise, uint64_t seed, uint64_t offset,
                                 float* __restrict__ out, int64_t total, int64_t n) {
    for (int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += (int64_t)gridDim.x * blockDim.x) {
        const int64_t c = idx / n;
        const int32_t tc = t[c], pc = prev_t[c];
        if (bad_step(tc, pc, num_timesteps)) {
            out[idx] = NAN;
            continue;
        }
        // diffusers DDIMScheduler.step
        const double a_t = abar[tc];
        const double a_p = pc >= 0 ? (double)abar[pc] : (double)final_abar;
        const double sqrt_a_t = sqrt(a_t), sqrt_1m_a_t = sqrt(1.0 - a_t);
        const double x = xt[idx], m = model[idx];
        double x0, e;
        if (prediction_type == CT_PREDICT_SAMPLE) {
            x0 = m;
            e = (x - sqrt_a_t * m) / sqrt_1m_a_t;  // from the unclipped prediction, as diffusers
        } else {
            x0 = (x - sqrt_1m_a_t * m) / sqrt_a_t;
            e = m;
        }
        if (clip) x0 = clamp_nan(x0, clip_range);
        if (use_clipped_model_output) e = (x - sqrt_a_t * x0) / sqrt_1m_a_t;
        // sigma_t^2 and sqrt(1 - a_p - std^2), both clamped at 0 against rounding (as on the CPU)
        const double var = fmax((1.0 - a_p) / (1.0 - a_t) * (1.0 - a_t / a_p), 0.0);
        const double std_dev = (double)eta * sqrt(var);
        double o = sqrt(a_p) * x0 + sqrt(fmax(1.0 - a_p - std_dev * std_dev, 0.0)) * e;
        if (eta > 0.0f) {
            const double z = noise ? (double)noise[idx] : (double)ct_philox_normal(seed, offset + (uint64_t)idx);
            o += std_dev * z;
        }
        out[idx] = (float)o;
    }
}

CT_API int ct_ddpm_add_noise_cuda(const float* x0, const float* eps, const int32_t* t, const float* abar,
                                  int num_timesteps, float* xt, int b, int64_t n, void* stream) {
    const int64_t total = (int64_t)b * n;
    if (total <= 0) return 0;
    ddpm_add_noise_kernel<<<ct_grid_for(total, kBlock), kBlock, 0, CT_STREAM(stream)>>>(x0, eps, t, abar,
                                                                                       num_timesteps, xt, total, n);
    return ct_launch_status();
}

CT_API int ct_ddpm_step_cuda(const float* model, const float* xt, const int32_t* t, const int32_t* prev_t,
                             const float* abar, int num_timesteps, int prediction_type, int clip, float clip_range,
                             const float* noise, uint64_t seed, uint64_t offset, float* out, int b, int64_t n,
                             void* stream) {
    const int64_t total = (int64_t)b * n;
    if (total <= 0) return 0;
    ddpm_step_kernel<<<ct_grid_for(total, kBlock), kBlock, 0, CT_STREAM(stream)>>>(
        model, xt, t, prev_t, abar, num_timesteps, prediction_type, clip, clip_range, noise, seed, offset, out, total,
        n);
    return ct_launch_status();
}

CT_API int ct_ddim_step_cuda(const float* model, const float* xt, const int32_t* t, const int32_t* prev_t,
                             const float* abar, int num_timesteps, float final_abar, float eta, int prediction_type,
                             int clip, float clip_range, int use_clipped_model_output, const float* noise,
                             uint64_t seed, uint64_t offset, float* out, int b, int64_t n, void* stream) {
    const int64_t total = (int64_t)b * n;
    if (total <= 0) return 0;
    ddim_step_kernel<<<ct_grid_for(total, kBlock), kBlock, 0, CT_STREAM(stream)>>>(
        model, xt, t, prev_t, abar, num_timesteps, final_abar, eta, prediction_type, clip, clip_range,
        use_clipped_model_output, noise, seed, offset, out, total, n);
    return ct_launch_status();
}
