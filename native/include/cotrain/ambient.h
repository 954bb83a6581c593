// ambient.h: the per-sample batch assembly of ambient-diffusion training (MISSION.md, "Ambient diffusion"), on the
// batched DDPM kernel path: every sample c of a batch carries its own diffusion step t[c] and its own minimum noise
// level tn[c], so one launch assembles a batch that mixes clean and corrupt samples.
//
// With abar: (T) the alphas_cumprod of the noise schedule, s_t^2 = 1 - abar[t], s_n^2 = 1 - abar[tn]:
//
//   tn[c] < 0: an ordinary sample (clean data, or corrupt data trained with the plain denoising loss): the DDPM
//              forward process, in the float arithmetic of ct_ddpm_add_noise (so a batch of them gives the same xt):
//                xt     = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps
//                target = eps (CT_PREDICT_EPSILON) or x0 (CT_PREDICT_SAMPLE);  weight = 1
//
//   tn[c] >= 0: an ambient sample: x0 is corrupt and trusted only as the observation x_tn at level tn < t.
//              x_tn = sqrt(1 - s_n^2) x0 + s_n eps                                   (the observation)
//              xt   = a x_tn + b z,  a = sqrt((1 - s_t^2) / (1 - s_n^2)),  b = sqrt((s_t^2 - s_n^2) / (1 - s_n^2))
//              (so xt = sqrt(abar_t) x0 + s_t * standard normal, as for an ordinary sample), and with
//              D = s_t^2 - s_n^2 > 0 the regression target is the x0 target
//                h*   = s_t^2 sqrt(1 - s_n^2) / D x_tn - s_n^2 sqrt(1 - s_t^2) / D xt            (CT_PREDICT_SAMPLE)
//              or its epsilon form, eps* = (xt - sqrt(1 - s_t^2) h*) / s_t,
//                eps* = s_t (1 - s_n^2) / D xt - s_t sqrt(1 - s_t^2) sqrt(1 - s_n^2) / D x_tn  (CT_PREDICT_EPSILON)
//              which tends to the ordinary epsilon (xt - sqrt(abar_t) x0) / s_t as s_n -> 0. The minimiser of the
//              squared error against h* (eps*) given xt is E[x0 | xt] (E[eps | xt]) of the clean distribution at
//              level tn, so a denoiser learns from corrupt data without ever seeing its x0.
//              weight = weighting ? D / s_t^2 : 1: the fraction of xt's noise added after tn. The target's extra
//              variance given xt, (1 - s_t^2) s_n^2 / D per element (epsilon form), grows without bound as t -> tn;
//              the weight keeps its contribution below (1 - s_t^2) s_n^2 / s_t^2 and does not move the minimiser.
//
// The ambient arithmetic is in double per element; the targets are computed from xt before its rounding to float.
// x0, eps, z, xt, target, weight: (B, N); t, tn: (B) int32; weight may be NULL (not written); z is read only for
// ambient samples. A sample whose t is outside [0, T), whose tn is >= T, or whose tn >= 0 is not below t gets NaN
// in xt, target and weight: the index is never dereferenced, and the training loop's finiteness check stops the
// run. (The Java front door checks host-resident t and tn before calling.)
#ifndef COTRAIN_AMBIENT_H
#define COTRAIN_AMBIENT_H

#include "common.h"

CT_API void ct_ambient_batch_cpu(const float* x0, const float* eps, const float* z, const int32_t* t,
                                 const int32_t* tn, const float* abar, int num_timesteps, int prediction_type,
                                 int weighting, float* xt, float* target, float* weight, int b, int64_t n);
CT_API int ct_ambient_batch_cuda(const float* x0, const float* eps, const float* z, const int32_t* t,
                                 const int32_t* tn, const float* abar, int num_timesteps, int prediction_type,
                                 int weighting, float* xt, float* target, float* weight, int b, int64_t n,
                                 void* stream);

#endif
