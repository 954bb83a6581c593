// ddpm.cpp: CPU reference of the batched diffusion kernels (add_noise, DDPM step, DDIM step), see ddpm.h.
//
// Every chain b has its own timestep, so the schedule coefficients are computed once per chain (in double, from
// abar) and then applied to its N elements. The per-element arithmetic of the steps is in double too: recovering
// x0 = (xt - sqrt(1 - a_t) eps) / sqrt(a_t) divides by sqrt(a_t), which is ~2e-4 at the last step of a
// squaredcos_cap_v2 schedule, so a float rounding of the intermediate would be amplified 5000-fold (and x0 is then
// clipped to [-1, 1], where that error is visible). The Philox normals are computed in double anyway.
//
// A chain whose t is outside [0, T) (or whose prev_t is >= T) gets NaN outputs: the index is never dereferenced.
#include <cmath>
#include <limits>

#include "cotrain/ddpm.h"
#include "cotrain/philox.h"
#include "cpu_common.h"

static const float kNaN = std::numeric_limits<float>::quiet_NaN();

// Clamp that propagates NaN (std::fmin/fmax would drop it and hide a diverged model behind a finite value).
static inline double clamp_nan(double v, double r) { return v < -r ? -r : (v > r ? r : v); }

static inline void fill_nan(float* out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = kNaN;
}

// The noise z of element i of a chain: the supplied array, or the Philox normal at (seed, index).
static inline double noise_at(const float* noise, uint64_t seed, uint64_t index, int64_t i) {
    return noise ? (double)noise[i] : (double)ct_philox_normal(seed, index);
}

// xt = sa x0 + sb eps over one chain. (N)
CT_MULTIVERSION
static void add_noise_chain(const float* x0, const float* eps, float sa, float sb, float* xt, int64_t n) {
    for (int64_t i = 0; i < n; i++) xt[i] = sa * x0[i] + sb * eps[i];
}

// x0, eps, xt: (B, N); t: (B); abar: (T)
CT_API void ct_ddpm_add_noise_cpu(const float* x0, const float* eps, const int32_t* t, const float* abar,
                                  int num_timesteps, float* xt, int b, int64_t n) {
#pragma omp parallel for schedule(static) if ((int64_t)b * n > CT_PARALLEL_GRAIN)
    for (int c = 0; c < b; c++) {
        const int64_t base = (int64_t)c * n;
        const int32_t tc = t[c];
        if (tc < 0 || tc >= num_timesteps) {
            fill_nan(xt + base, n);
            continue;
        }
        const double a = abar[tc];
        add_noise_chain(x0 + base, eps + base, (float)std::sqrt(a), (float)std::sqrt(1.0 - a), xt + base, n);
    }
}

// model, xt, noise, out: (B, N); t, prev_t: (B); abar: (T)
CT_API void ct_ddpm_step_cpu(const float* model, const float* xt, const int32_t* t, const int32_t* prev_t,
                             const float* abar, int num_timesteps, int prediction_type, int clip, float clip_range,
                             const float* noise, uint64_t seed, uint64_t offset, float* out, int b, int64_t n) {
#pragma omp parallel for schedule(static) if ((int64_t)b * n > CT_PARALLEL_GRAIN / 8)
    for (int c = 0; c < b; c++) {
        const int64_t base = (int64_t)c * n;
        const int32_t tc = t[c], pc = prev_t[c];
        if (tc < 0 || tc >= num_timesteps || pc >= num_timesteps) {
            fill_nan(out + base, n);
            continue;
        }
        // The schedule at this chain's step (diffusers DDPMScheduler.step, variance_type "fixed_small").
        const double a_t = abar[tc];
        const double a_p = pc >= 0 ? (double)abar[pc] : 1.0;
        const double alpha = a_t / a_p, beta = 1.0 - alpha;
        const double sqrt_a_t = std::sqrt(a_t), sqrt_1m_a_t = std::sqrt(1.0 - a_t);
        const double coef_x0 = std::sqrt(a_p) * beta / (1.0 - a_t);          // weight of x0 in the posterior mean
        const double coef_xt = std::sqrt(alpha) * (1.0 - a_p) / (1.0 - a_t);  // weight of xt
        const double var = std::fmax((1.0 - a_p) / (1.0 - a_t) * beta, 1e-20);
        const double std_dev = tc > 0 ? std::sqrt(var) : 0.0;  // the last step (t == 0) adds no noise
        const float* mc = model + base;
        const float* xc = xt + base;
        const float* nc = noise ? noise + base : nullptr;
        float* oc = out + base;
        for (int64_t i = 0; i < n; i++) {
            const double x = xc[i];
            double x0 = prediction_type == CT_PREDICT_SAMPLE ? (double)mc[i] : (x - sqrt_1m_a_t * mc[i]) / sqrt_a_t;
            if (clip) x0 = clamp_nan(x0, clip_range);
            double o = coef_x0 * x0 + coef_xt * x;
            if (tc > 0) o += std_dev * noise_at(nc, seed, offset + (uint64_t)(base + i), i);
            oc[i] = (float)o;
        }
    }
}

// model, xt, noise, out: (B, N); t, prev_t: (B); abar: (T)
CT_API void ct_ddim_step_cpu(const float* model, const float* xt, const int32_t* t, const int32_t* prev_t,
                             const float* abar, int num_timesteps, float final_abar, float eta, int prediction_type,
                             int clip, float clip_range, int use_clipped_model_output, const float* noise,
                             uint64_t seed, uint64_t offset, float* out, int b, int64_t n) {
#pragma omp parallel for schedule(static) if ((int64_t)b * n > CT_PARALLEL_GRAIN / 8)
    for (int c = 0; c < b; c++) {
        const int64_t base = (int64_t)c * n;
        const int32_t tc = t[c], pc = prev_t[c];
        if (tc < 0 || tc >= num_timesteps || pc >= num_timesteps) {
            fill_nan(out + base, n);
            continue;
        }
        // The schedule at this chain's step (diffusers DDIMScheduler.step).
        const double a_t = abar[tc];
        const double a_p = pc >= 0 ? (double)abar[pc] : (double)final_abar;
        const double sqrt_a_t = std::sqrt(a_t), sqrt_1m_a_t = std::sqrt(1.0 - a_t), sqrt_a_p = std::sqrt(a_p);
        // sigma_t^2 of the DDIM paper; clamped at 0 so that rounding (a_p == a_t) cannot make a NaN.
        const double var = std::fmax((1.0 - a_p) / (1.0 - a_t) * (1.0 - a_t / a_p), 0.0);
        const double std_dev = (double)eta * std::sqrt(var);
        // Weight of the predicted noise: sqrt(1 - a_p - std^2) >= 0 in exact arithmetic; clamp the rounding.
        const double coef_eps = std::sqrt(std::fmax(1.0 - a_p - std_dev * std_dev, 0.0));
        const bool add_noise = eta > 0.0f;
        const float* mc = model + base;
        const float* xc = xt + base;
        const float* nc = noise ? noise + base : nullptr;
        float* oc = out + base;
        for (int64_t i = 0; i < n; i++) {
            const double x = xc[i], m = mc[i];
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
            double o = sqrt_a_p * x0 + coef_eps * e;
            if (add_noise) o += std_dev * noise_at(nc, seed, offset + (uint64_t)(base + i), i);
            oc[i] = (float)o;
        }
    }
}
