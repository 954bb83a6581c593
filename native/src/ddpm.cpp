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
static const double kInfinity = std::numeric_limits<double>::infinity();

// Clamp that propagates NaN (std::fmin/fmax would drop it and hide a diverged model behind a finite value).
static inline double clamp_nan(double v, double r) { return v < -r ? -r : (v > r ? r : v); }

static inline void fill_nan(float* out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = kNaN;
}

// Both reverse steps, for one chain, in one form with per-chain constants:
//   x0  = clamp(p xt + q model, -r, r)        (the predicted clean sample; r = inf without clipping)
//   out = A x0 + B xt + C model + sd z        (z: the supplied noise, or the Philox normal at index0 + i)
// so that the element loop has no branches on the prediction type or the options, and vectorises when no Philox
// noise is drawn. Everything stays in double until the single rounding to float. (N)
struct StepCoefficients {
    double p, q, r, a, b, c, sd;
};

CT_MULTIVERSION
static void step_chain_supplied_noise(const float* model, const float* xt, const float* noise,
                                      const StepCoefficients& k, float* out, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const double x = xt[i], m = model[i];
        const double x0 = clamp_nan(k.p * x + k.q * m, k.r);
        out[i] = (float)(k.a * x0 + k.b * x + k.c * m + (noise ? k.sd * (double)noise[i] : 0.0));
    }
}

static void step_chain_philox_noise(const float* model, const float* xt, uint64_t seed, uint64_t index0,
                                    const StepCoefficients& k, float* out, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const double x = xt[i], m = model[i];
        const double x0 = clamp_nan(k.p * x + k.q * m, k.r);
        const double z = (double)ct_philox_normal(seed, index0 + (uint64_t)i);
        out[i] = (float)(k.a * x0 + k.b * x + k.c * m + k.sd * z);
    }
}

static void step_chain(const float* model, const float* xt, const float* noise, uint64_t seed, uint64_t index0,
                       const StepCoefficients& k, float* out, int64_t n) {
    if (k.sd != 0.0 && noise == nullptr) {
        step_chain_philox_noise(model, xt, seed, index0, k, out, n);
    } else {
        step_chain_supplied_noise(model, xt, k.sd != 0.0 ? noise : nullptr, k, out, n);
    }
}

// x0 = p xt + q model from the model output: epsilon prediction x0 = (xt - sqrt(1 - a_t) eps) / sqrt(a_t).
static void x0_coefficients(int prediction_type, double sqrt_a_t, double sqrt_1m_a_t, double* p, double* q) {
    const bool sample = prediction_type == CT_PREDICT_SAMPLE;
    *p = sample ? 0.0 : 1.0 / sqrt_a_t;
    *q = sample ? 1.0 : -sqrt_1m_a_t / sqrt_a_t;
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
        StepCoefficients k;
        x0_coefficients(prediction_type, sqrt_a_t, sqrt_1m_a_t, &k.p, &k.q);
        k.r = clip ? (double)clip_range : kInfinity;
        k.a = coef_x0;
        k.b = coef_xt;
        k.c = 0.0;
        k.sd = tc > 0 ? std::sqrt(var) : 0.0;  // the last step (t == 0) adds no noise
        step_chain(model + base, xt + base, noise ? noise + base : nullptr, seed, offset + (uint64_t)base, k,
                   out + base, n);
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
        // The noise estimate as e = u xt + v model + w x0: the model output itself (epsilon prediction), derived
        // from the unclipped x0 (sample prediction, as diffusers), or from the clipped x0 when
        // use_clipped_model_output; then out = sqrt(a_p) x0 + coef_eps e + std z.
        const bool sample = prediction_type == CT_PREDICT_SAMPLE;
        double u = 0.0, v = 1.0, w = 0.0;
        if (use_clipped_model_output) {
            u = 1.0 / sqrt_1m_a_t, v = 0.0, w = -sqrt_a_t / sqrt_1m_a_t;
        } else if (sample) {
            u = 1.0 / sqrt_1m_a_t, v = -sqrt_a_t / sqrt_1m_a_t;
        }
        StepCoefficients k;
        x0_coefficients(prediction_type, sqrt_a_t, sqrt_1m_a_t, &k.p, &k.q);
        k.r = clip ? (double)clip_range : kInfinity;
        k.a = sqrt_a_p + coef_eps * w;
        k.b = coef_eps * u;
        k.c = coef_eps * v;
        k.sd = eta > 0.0f ? std_dev : 0.0;
        step_chain(model + base, xt + base, noise ? noise + base : nullptr, seed, offset + (uint64_t)base, k,
                   out + base, n);
    }
}
