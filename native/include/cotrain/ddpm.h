// ddpm.h: the batched diffusion kernels. Every sample (chain) b of a batch carries its own timestep, so one launch
// serves a training batch with random steps, a sampling batch, or chains at different points of their schedule.
//
// abar: (T) float, the cumulative products alphas_cumprod of the noise schedule (T = num_train_timesteps).
// Conventions follow the diffusers DDPMScheduler / DDIMScheduler used by Diffusion Policy.
//
// add_noise:  xt[b, i] = sqrt(abar[t[b]]) x0[b, i] + sqrt(1 - abar[t[b]]) eps[b, i]
//
// ddpm_step (reverse step from t to prev_t, usually t - 1), with a_t = abar[t], a_p = abar[prev_t] (1 if prev_t < 0),
// alpha = a_t / a_p, beta = 1 - alpha:
//   x0 = (xt - sqrt(1 - a_t) model) / sqrt(a_t)   (CT_PREDICT_EPSILON)   or  x0 = model   (CT_PREDICT_SAMPLE)
//   if clip: x0 = clamp(x0, -clip_range, clip_range)
//   mean = sqrt(a_p) beta / (1 - a_t) x0 + sqrt(alpha) (1 - a_p) / (1 - a_t) xt
//   var  = max((1 - a_p) / (1 - a_t) beta, 1e-20)   ("fixed_small")
//   out  = mean + (t > 0 ? sqrt(var) z : 0)
//
// ddim_step (t to prev_t), a_p = abar[prev_t] or final_abar when prev_t < 0:
//   x0 as above (clipped if clip); eps = model (epsilon) or (xt - sqrt(a_t) x0) / sqrt(1 - a_t) (sample, from the
//   unclipped x0, as diffusers);
//   if use_clipped_model_output: eps = (xt - sqrt(a_t) x0) / sqrt(1 - a_t)
//   var = (1 - a_p) / (1 - a_t) (1 - a_t / a_p);  std = eta sqrt(var)
//   out = sqrt(a_p) x0 + sqrt(1 - a_p - std^2) eps + (eta > 0 ? std z : 0)
//
// z: noise (B, N) if not NULL, else z[b, i] = ct_philox_normal(seed, offset + b * N + i).
// model, xt, x0, eps, noise, out: (B, N); t, prev_t: (B) int32 in [0, T) (prev_t may be negative);
// num_timesteps = T, the length of abar. A chain whose t (or prev_t) is >= T, or t < 0, gets NaN outputs: the
// index is never dereferenced, and the NaN is caught by the training loop's finiteness check.
#ifndef COTRAIN_DDPM_H
#define COTRAIN_DDPM_H

#include "common.h"

CT_API void ct_ddpm_add_noise_cpu(const float* x0, const float* eps, const int32_t* t, const float* abar,
                                  int num_timesteps, float* xt, int b, int64_t n);
CT_API int ct_ddpm_add_noise_cuda(const float* x0, const float* eps, const int32_t* t, const float* abar,
                                  int num_timesteps, float* xt, int b, int64_t n, void* stream);

CT_API void ct_ddpm_step_cpu(const float* model, const float* xt, const int32_t* t, const int32_t* prev_t,
                             const float* abar, int num_timesteps, int prediction_type, int clip, float clip_range,
                             const float* noise, uint64_t seed, uint64_t offset, float* out, int b, int64_t n);
CT_API int ct_ddpm_step_cuda(const float* model, const float* xt, const int32_t* t, const int32_t* prev_t,
                             const float* abar, int num_timesteps, int prediction_type, int clip, float clip_range,
                             const float* noise, uint64_t seed, uint64_t offset, float* out, int b, int64_t n,
                             void* stream);

CT_API void ct_ddim_step_cpu(const float* model, const float* xt, const int32_t* t, const int32_t* prev_t,
                             const float* abar, int num_timesteps, float final_abar, float eta, int prediction_type, int clip,
                             float clip_range, int use_clipped_model_output, const float* noise, uint64_t seed,
                             uint64_t offset, float* out, int b, int64_t n);
CT_API int ct_ddim_step_cuda(const float* model, const float* xt, const int32_t* t, const int32_t* prev_t,
                             const float* abar, int num_timesteps, float final_abar, float eta, int prediction_type, int clip,
                             float clip_range, int use_clipped_model_output, const float* noise, uint64_t seed,
                             uint64_t offset, float* out, int b, int64_t n, void* stream);

#endif
