// ambient.cpp: CPU reference of the ambient-diffusion batch assembly, see ambient.h.
//
// One chain (sample) at a time: its schedule coefficients are computed once in double from abar, then applied to
// its N elements. Ordinary samples (tn < 0) use exactly the float arithmetic of ct_ddpm_add_noise_cpu, so a batch
// with no ambient sample is the plain DDPM batch bit for bit. Ambient samples stay in double until the single
// rounding of each output: the targets divide by D = s_t^2 - s_n^2, which is small when t is just above tn.
#include <cmath>
#include <cstring>
#include <limits>

#include "cotrain/ambient.h"
#include "cpu_common.h"

static const float kNaN = std::numeric_limits<float>::quiet_NaN();

static inline void fill_value(float* out, float v, int64_t n) {
    if (out == nullptr) return;
    for (int64_t i = 0; i < n; i++) out[i] = v;
}

// xt = sa x0 + sb eps over one chain, as ddpm.cpp's add_noise_chain. (N)
CT_MULTIVERSION
static void ordinary_chain(const float* x0, const float* eps, float sa, float sb, float* xt, int64_t n) {
    for (int64_t i = 0; i < n; i++) xt[i] = sa * x0[i] + sb * eps[i];
}

// The ambient sample's coefficients: x_tn = p0 x0 + p1 eps, xt = a x_tn + b z, target = ct xt - cn x_tn.
struct AmbientCoefficients {
    double p0, p1, a, b, ct, cn, weight;
};

static AmbientCoefficients ambient_coefficients(double abar_t, double abar_n, int prediction_type, int weighting) {
    const double st2 = 1.0 - abar_t, sn2 = 1.0 - abar_n;  // s_t^2, s_n^2
    const double d = st2 - sn2;                             // D > 0 for tn < t
    AmbientCoefficients k;
    k.p0 = std::sqrt(abar_n);
    k.p1 = std::sqrt(sn2);
    k.a = std::sqrt(abar_t / abar_n);
    k.b = std::sqrt(d / abar_n);
    if (prediction_type == CT_PREDICT_SAMPLE) {
        // h* = s_t^2 sqrt(1 - s_n^2) / D x_tn - s_n^2 sqrt(1 - s_t^2) / D xt
        k.ct = -sn2 * std::sqrt(abar_t) / d;
        k.cn = -st2 * std::sqrt(abar_n) / d;
    } else {
        // eps* = s_t (1 - s_n^2) / D xt - s_t sqrt(1 - s_t^2) sqrt(1 - s_n^2) / D x_tn
        const double st = std::sqrt(st2);
        k.ct = st * abar_n / d;
        k.cn = st * std::sqrt(abar_t) * std::sqrt(abar_n) / d;
    }
    k.weight = weighting ? d / st2 : 1.0;
    return k;
}

// One ambient chain, in double until each output's rounding. (N)
CT_MULTIVERSION
static void ambient_chain(const float* x0, const float* eps, const float* z, const AmbientCoefficients& k,
                          float* xt, float* target, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const double xn = k.p0 * (double)x0[i] + k.p1 * (double)eps[i];
        const double x = k.a * xn + k.b * (double)z[i];
        xt[i] = (float)x;
        target[i] = (float)(k.ct * x - k.cn * xn);
    }
}

// x0, eps, z, xt, target, weight: (B, N); t, tn: (B); abar: (T)
CT_API void ct_ambient_batch_cpu(const float* x0, const float* eps, const float* z, const int32_t* t,
                                 const int32_t* tn, const float* abar, int num_timesteps, int prediction_type,
                                 int weighting, float* xt, float* target, float* weight, int b, int64_t n) {
#pragma omp parallel for schedule(static) if ((int64_t)b * n > CT_PARALLEL_GRAIN)
    for (int c = 0; c < b; c++) {
        const int64_t base = (int64_t)c * n;
        const int32_t tc = t[c], nc = tn[c];
        float* w = weight != nullptr ? weight + base : nullptr;
        if (tc < 0 || tc >= num_timesteps || nc >= num_timesteps || (nc >= 0 && nc >= tc)) {
            fill_value(xt + base, kNaN, n);
            fill_value(target + base, kNaN, n);
            fill_value(w, kNaN, n);
            continue;
        }
        if (nc < 0) {
            const double a = abar[tc];
            ordinary_chain(x0 + base, eps + base, (float)std::sqrt(a), (float)std::sqrt(1.0 - a), xt + base, n);
            const float* y = prediction_type == CT_PREDICT_SAMPLE ? x0 + base : eps + base;
            std::memcpy(target + base, y, (size_t)n * sizeof(float));
            fill_value(w, 1.0f, n);
            continue;
        }
        const AmbientCoefficients k = ambient_coefficients(abar[tc], abar[nc], prediction_type, weighting);
        ambient_chain(x0 + base, eps + base, z + base, k, xt + base, target + base, n);
        fill_value(w, (float)k.weight, n);
    }
}
