// groupnorm.cpp: CPU reference of groupnorm.h, GroupNorm as torch.nn.GroupNorm.
//
// Statistics and gradient sums are accumulated in double (the tests compare with float64 at 1e-5, and a group holds
// up to tens of thousands of values: 16 channels of 42x42 after ResNet18's stem); the variance takes two passes
// (mean, then squared deviations), as layernorm.cpp does. Groups are independent, so the forward and dx run in
// parallel over the N G groups; dweight and dbias are per-channel sums over samples and pixels, one channel per
// task, in sample order: results do not depend on the thread count.
#include <math.h>

#include "cotrain/groupnorm.h"
#include "cpu_common.h"

// mean and rstd of the m values of one group, in double with two passes (mean, then squared deviations), rounded to
// float as saved: the forward and the fused forward share it, so both normalise with the same numbers.
static inline void ct_group_stats(const float* xg, int64_t m, float eps, float* mean, float* rstd) {
    double sum = 0.0;
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < m; i++) sum += xg[i];
    const double mu = m > 0 ? sum / m : 0.0;
    double sq = 0.0;
#pragma omp simd reduction(+ : sq)
    for (int64_t i = 0; i < m; i++) {
        const double d = xg[i] - mu;
        sq += d * d;
    }
    *mean = (float)mu;
    *rstd = (float)(1.0 / sqrt((m > 0 ? sq / m : 0.0) + (double)eps));
}

CT_API CT_MULTIVERSION void ct_groupnorm_forward_cpu(const float* x, const float* weight, const float* bias, float* y,
                                                     float* mean, float* rstd, int n, int c, int64_t hw, int groups,
                                                     float eps) {
    // x, y: (N, C, HW); weight, bias: (C); mean, rstd: (N, G)
    if (n <= 0 || c <= 0 || groups <= 0) return;
    const int cg = c / groups;
    const int64_t m = (int64_t)cg * hw;  // values per group
    const int64_t count = (int64_t)n * groups;
#pragma omp parallel for schedule(static) if ((int64_t)n * c * hw > CT_PARALLEL_GRAIN)
    for (int64_t ng = 0; ng < count; ng++) {
        const int g = (int)(ng % groups);
        const float* xg = x + ng * m;  // the group's channels are contiguous in NCHW
        float* yg = y + ng * m;
        float mf, sf;
        ct_group_stats(xg, m, eps, &mf, &sf);
        for (int k = 0; k < cg; k++) {
            const int ch = g * cg + k;
            // y = (x - mean) a + bias with a = rstd w per channel (x - mean first: folding the mean into the bias
            // would cancel catastrophically for groups with a large mean and a small spread)
            const float a = sf * weight[ch];
            const float b = bias[ch];
            const float* xc = xg + k * hw;
            float* yc = yg + k * hw;
            for (int64_t i = 0; i < hw; i++) yc[i] = (xc[i] - mf) * a + b;
        }
        mean[ng] = mf;
        rstd[ng] = sf;
    }
}

CT_API CT_MULTIVERSION void ct_groupnorm_backward_cpu(const float* dy, const float* x, const float* weight,
                                                      const float* mean, const float* rstd, float* dx, float* dweight,
                                                      float* dbias, int n, int c, int64_t hw, int groups) {
    // dy, x, dx: (N, C, HW); weight, dweight, dbias: (C); mean, rstd: (N, G)
    if (n <= 0 || c <= 0 || groups <= 0) return;
    const int cg = c / groups;
    const int64_t m = (int64_t)cg * hw;
    const int64_t count = (int64_t)n * groups;

    // dx = rstd (g - avg(g) - xhat avg(g xhat)), g = dy w, in double as layernorm.cpp (so that g - avg(g) is 0
    // where it should be, whatever the compiler fuses)
#pragma omp parallel for schedule(static) if ((int64_t)n * c * hw > CT_PARALLEL_GRAIN)
    for (int64_t ng = 0; ng < count; ng++) {
        const int g = (int)(ng % groups);
        const float* dyg = dy + ng * m;
        const float* xg = x + ng * m;
        float* dxg = dx + ng * m;
        const double mu = mean[ng], s = rstd[ng];
        double gsum = 0.0, gxsum = 0.0;
        for (int k = 0; k < cg; k++) {
            const double wk = weight[g * cg + k];
            const float* dyc = dyg + k * hw;
            const float* xc = xg + k * hw;
#pragma omp simd reduction(+ : gsum, gxsum)
            for (int64_t i = 0; i < hw; i++) {
                const double gi = (double)dyc[i] * wk;
                gsum += gi;
                gxsum += gi * ((xc[i] - mu) * s);
            }
        }
        const double gmean = gsum / m, gxmean = gxsum / m;
        for (int k = 0; k < cg; k++) {
            const double wk = weight[g * cg + k];
            const float* dyc = dyg + k * hw;
            const float* xc = xg + k * hw;
            float* dxc = dxg + k * hw;
            for (int64_t i = 0; i < hw; i++) {
                const double xhat = (xc[i] - mu) * s;
                dxc[i] += (float)(s * ((double)dyc[i] * wk - gmean - xhat * gxmean));
            }
        }
    }

    // dweight[c] += sum_{n, p} dy xhat, dbias[c] += sum_{n, p} dy: one channel per task, samples in order
#pragma omp parallel for schedule(static) if ((int64_t)n * c * hw > CT_PARALLEL_GRAIN)
    for (int ch = 0; ch < c; ch++) {
        const int g = ch / cg;
        double dw = 0.0, db = 0.0;
        for (int s_ = 0; s_ < n; s_++) {
            const float* dyc = dy + ((int64_t)s_ * c + ch) * hw;
            const float* xc = x + ((int64_t)s_ * c + ch) * hw;
            const double mu = mean[(int64_t)s_ * groups + g], s = rstd[(int64_t)s_ * groups + g];
            double pw = 0.0, pb = 0.0;
#pragma omp simd reduction(+ : pw, pb)
            for (int64_t i = 0; i < hw; i++) {
                pw += (double)dyc[i] * ((xc[i] - mu) * s);
                pb += dyc[i];
            }
            dw += pw;
            db += pb;
        }
        dweight[ch] += (float)dw;
        dbias[ch] += (float)db;
    }
}

// ---- GroupNorm + Mish, fused (Conv1dBlock) ------------------------------------------------------------------------
// The forward is the GroupNorm forward above with Mish applied to each value before it is stored. The backward
// recomputes z = (x - mean) (rstd w) + b with the forward's float expression and statistics, so mish'(z) is taken
// at the very z the forward used; per group it first writes dz = dy mish'(z) into dx (dx is an output only, so it
// serves as the scratch: no allocation) while summing dz w and dz w xhat in double, then overwrites dx with the
// GroupNorm gradient. dweight and dbias are per-channel sums over samples, one channel per task in sample order as
// in ct_groupnorm_backward_cpu, with dz recomputed (dx no longer holds it): results do not depend on the thread
// count.

// z of one value: the forward's normalisation and affine, a = rstd weight[c] (see ct_groupnorm_forward_cpu)
static inline float ct_gn_affine(float x, float mean, float a, float b) { return (x - mean) * a + b; }

// dz = dy mish'(z)
static inline float ct_mish_grad(float z, float dy) {
    float tsp, sech2, sig;
    ct_mish_parts(z, &tsp, &sech2, &sig);
    return dy * (tsp + z * sech2 * sig);
}

CT_API CT_MULTIVERSION void ct_groupnorm_mish_forward_cpu(const float* x, const float* weight, const float* bias,
                                                          float* y, float* mean, float* rstd, int n, int c,
                                                          int64_t hw, int groups, float eps) {
    // x, y: (N, C, HW); weight, bias: (C); mean, rstd: (N, G)
    if (n <= 0 || c <= 0 || groups <= 0) return;
    const int cg = c / groups;
    const int64_t m = (int64_t)cg * hw;
    const int64_t count = (int64_t)n * groups;
#pragma omp parallel for schedule(static) if ((int64_t)n * c * hw > CT_PARALLEL_GRAIN)
    for (int64_t ng = 0; ng < count; ng++) {
        const int g = (int)(ng % groups);
        const float* xg = x + ng * m;
        float* yg = y + ng * m;
        float mf, sf;
        ct_group_stats(xg, m, eps, &mf, &sf);
        for (int k = 0; k < cg; k++) {
            const int ch = g * cg + k;
            const float a = sf * weight[ch];
            const float b = bias[ch];
            const float* xc = xg + k * hw;
            float* yc = yg + k * hw;
            for (int64_t i = 0; i < hw; i++) {
                const float z = ct_gn_affine(xc[i], mf, a, b);
                float tsp, sech2, sig;
                ct_mish_parts(z, &tsp, &sech2, &sig);
                yc[i] = z * tsp;
            }
        }
        mean[ng] = mf;
        rstd[ng] = sf;
    }
}

CT_API CT_MULTIVERSION void ct_groupnorm_mish_backward_cpu(const float* dy, const float* x, const float* weight,
                                                           const float* bias, const float* mean, const float* rstd,
                                                           float* dx, float* dweight, float* dbias, int n, int c,
                                                           int64_t hw, int groups) {
    // dy, x, dx: (N, C, HW); weight, bias, dweight, dbias: (C); mean, rstd: (N, G)
    if (n <= 0 || c <= 0 || groups <= 0) return;
    const int cg = c / groups;
    const int64_t m = (int64_t)cg * hw;
    const int64_t count = (int64_t)n * groups;

#pragma omp parallel for schedule(static) if ((int64_t)n * c * hw > CT_PARALLEL_GRAIN)
    for (int64_t ng = 0; ng < count; ng++) {
        const int g = (int)(ng % groups);
        const float* dyg = dy + ng * m;
        const float* xg = x + ng * m;
        float* dxg = dx + ng * m;
        const float mf = mean[ng], sf = rstd[ng];
        const double mu = mf, s = sf;
        double gsum = 0.0, gxsum = 0.0;
        for (int k = 0; k < cg; k++) {
            const int ch = g * cg + k;
            const float a = sf * weight[ch], b = bias[ch];
            const double wk = weight[ch];
            const float* dyc = dyg + k * hw;
            const float* xc = xg + k * hw;
            float* dzc = dxg + k * hw;  // dz, until the second pass overwrites it with dx
#pragma omp simd reduction(+ : gsum, gxsum)
            for (int64_t i = 0; i < hw; i++) {
                const float dz = ct_mish_grad(ct_gn_affine(xc[i], mf, a, b), dyc[i]);
                dzc[i] = dz;
                const double gi = (double)dz * wk;
                gsum += gi;
                gxsum += gi * ((xc[i] - mu) * s);
            }
        }
        const double gmean = m > 0 ? gsum / m : 0.0, gxmean = m > 0 ? gxsum / m : 0.0;
        for (int k = 0; k < cg; k++) {
            const double wk = weight[g * cg + k];
            const float* xc = xg + k * hw;
            float* dxc = dxg + k * hw;
            for (int64_t i = 0; i < hw; i++) {
                const double xhat = (xc[i] - mu) * s;
                dxc[i] = (float)(s * ((double)dxc[i] * wk - gmean - xhat * gxmean));
            }
        }
    }

    // dweight[c] += sum_{n, p} dz xhat, dbias[c] += sum_{n, p} dz: one channel per task, samples in order
#pragma omp parallel for schedule(static) if ((int64_t)n * c * hw > CT_PARALLEL_GRAIN)
    for (int ch = 0; ch < c; ch++) {
        const int g = ch / cg;
        const float b = bias[ch];
        double dw = 0.0, db = 0.0;
        for (int s_ = 0; s_ < n; s_++) {
            const float* dyc = dy + ((int64_t)s_ * c + ch) * hw;
            const float* xc = x + ((int64_t)s_ * c + ch) * hw;
            const float mf = mean[(int64_t)s_ * groups + g], sf = rstd[(int64_t)s_ * groups + g];
            const float a = sf * weight[ch];
            const double mu = mf, s = sf;
            double pw = 0.0, pb = 0.0;
#pragma omp simd reduction(+ : pw, pb)
            for (int64_t i = 0; i < hw; i++) {
                const double dz = ct_mish_grad(ct_gn_affine(xc[i], mf, a, b), dyc[i]);
                pw += dz * ((xc[i] - mu) * s);
                pb += dz;
            }
            dw += pw;
            db += pb;
        }
        dweight[ch] += (float)dw;
        dbias[ch] += (float)db;
    }
}
