// groupnorm.cpp: CPU reference of groupnorm.h, GroupNorm as torch.nn.GroupNorm.
//
// Statistics and gradient sums are accumulated in double (the tests compare with float64 at 1e-5, and a group holds
// up to tens of thousands of values: 16 channels of 42x42 after ResNet18's stem); the variance takes two passes
// (mean, then squared deviations), as layernorm.cpp does. Groups are independent, so the forward and dx run in
// parallel over the N G groups; dweight and dbias are per-channel sums over samples and pixels, one channel per
// task, in sample order: results do not depend on the thread count.
#include <math.h>
#include <stdlib.h>

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

// z of one value: the normalisation and affine, a = rstd weight[c]. x - mean first: folding the mean into the bias
// would cancel catastrophically for groups with a large mean and a small spread.
static inline float ct_gn_affine(float x, float mean, float a, float b) { return (x - mean) * a + b; }

// One group g of one sample: its statistics, and z = GroupNorm(x) channel by channel into zg (the affine differs per
// channel). The forward and the fused forward share it, so both normalise with the same numbers.
static inline void ct_group_normalize(const float* xg, float* zg, const float* weight, const float* bias, int g,
                                      int cg, int64_t hw, float eps, float* mean, float* rstd) {
    ct_group_stats(xg, (int64_t)cg * hw, eps, mean, rstd);
    for (int k = 0; k < cg; k++) {
        const int ch = g * cg + k;
        const float a = *rstd * weight[ch];
        const float b = bias[ch];
        const float* xc = xg + k * hw;
        float* zc = zg + k * hw;
        for (int64_t i = 0; i < hw; i++) zc[i] = ct_gn_affine(xc[i], *mean, a, b);
    }
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
        ct_group_normalize(xg, yg, weight, bias, g, cg, hw, eps, &mf, &sf);
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
// The forward is the GroupNorm forward above with Mish applied before the value leaves the cache: per group, z is
// written into y channel by channel (the affine differs per channel), then Mish runs over the whole group in place
// in one flat loop (a group's (C / G) T values are contiguous; DP-C's T is 4 to 16, too short a loop to vectorise
// Mish over on its own).
// The backward recomputes z = (x - mean) (rstd w) + b with the forward's float expression and statistics, so
// mish'(z) is taken at the very z the forward used. Per group: z into dx (dx is an output only, so it serves as the
// scratch), dz = dy mish'(z) over the group in one flat loop, in place; then per channel the sums of dz w and
// dz w xhat for dx, and the channel's own sums of dz xhat and dz (its share of dweight and dbias) into a
// (N, C, 2) float64 table; then dx overwrites dz. dweight and dbias add the table's columns over samples in order:
// results do not depend on the thread count. The table (16 N C bytes, 4 MiB for pusht_lowdim_unet's 1024 channels
// at batch 256) is allocated per call; should that fail, each channel's sums are recomputed from dy and x instead
// (z and mish'(z) again: slower, the same sums).


// mish'(z)
static inline float ct_mish_derivative(float z) {
    float tsp, sech2, sig;
    ct_mish_parts(z, &tsp, &sech2, &sig);
    return tsp + z * sech2 * sig;
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
        ct_group_normalize(xg, yg, weight, bias, g, cg, hw, eps, &mf, &sf);
        for (int64_t i = 0; i < m; i++) {
            const float z = yg[i];
            float tsp, sech2, sig;
            ct_mish_parts(z, &tsp, &sech2, &sig);
            yg[i] = z * tsp;
        }
        mean[ng] = mf;
        rstd[ng] = sf;
    }
}

// dweight[c] += sum_{n, p} dz xhat, dbias[c] += sum_{n, p} dz with dz recomputed: the fallback of the backward
// below when its table cannot be allocated. One channel per task, samples in order.
static void ct_groupnorm_mish_params_recompute(const float* dy, const float* x, const float* weight,
                                               const float* bias, const float* mean, const float* rstd,
                                               float* dweight, float* dbias, int n, int c, int64_t hw, int groups) {
    const int cg = c / groups;
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
            for (int64_t i = 0; i < hw; i++) {
                const double dz = dyc[i] * ct_mish_derivative(ct_gn_affine(xc[i], mf, a, b));
                dw += dz * ((xc[i] - mu) * s);
                db += dz;
            }
        }
        dweight[ch] += (float)dw;
        dbias[ch] += (float)db;
    }
}

CT_API CT_MULTIVERSION void ct_groupnorm_mish_backward_cpu(const float* dy, const float* x, const float* weight,
                                                           const float* bias, const float* mean, const float* rstd,
                                                           float* dx, float* dweight, float* dbias, int n, int c,
                                                           int64_t hw, int groups) {
    // dy, x, dx: (N, C, HW); weight, bias, dweight, dbias: (C); mean, rstd: (N, G); part: (N, C, 2)
    if (n <= 0 || c <= 0 || groups <= 0) return;
    const int cg = c / groups;
    const int64_t m = (int64_t)cg * hw;
    const int64_t count = (int64_t)n * groups;
    double* part = (double*)malloc(sizeof(double) * 2 * (size_t)n * (size_t)c);

#pragma omp parallel for schedule(static) if ((int64_t)n * c * hw > CT_PARALLEL_GRAIN)
    for (int64_t ng = 0; ng < count; ng++) {
        const int g = (int)(ng % groups);
        const int64_t s_ = ng / groups;
        const float* dyg = dy + ng * m;
        const float* xg = x + ng * m;
        float* dxg = dx + ng * m;  // z, then dz, then dx
        const float mf = mean[ng], sf = rstd[ng];
        const double mu = mf, s = sf;
        for (int k = 0; k < cg; k++) {
            const int ch = g * cg + k;
            const float a = sf * weight[ch], b = bias[ch];
            const float* xc = xg + k * hw;
            float* zc = dxg + k * hw;
            for (int64_t i = 0; i < hw; i++) zc[i] = ct_gn_affine(xc[i], mf, a, b);
        }
        for (int64_t i = 0; i < m; i++) dxg[i] = dyg[i] * ct_mish_derivative(dxg[i]);
        double gsum = 0.0, gxsum = 0.0;
        for (int k = 0; k < cg; k++) {
            const int ch = g * cg + k;
            const double wk = weight[ch];
            const float* xc = xg + k * hw;
            const float* dzc = dxg + k * hw;
            double pw = 0.0, pb = 0.0;
#pragma omp simd reduction(+ : pw, pb)
            for (int64_t i = 0; i < hw; i++) {
                const double dz = dzc[i];
                pw += dz * ((xc[i] - mu) * s);
                pb += dz;
            }
            // sum over the channel of g = dz w and g xhat: the channel's sums times w
            gsum += pb * wk;
            gxsum += pw * wk;
            if (part) {
                part[2 * (s_ * c + ch)] = pw;
                part[2 * (s_ * c + ch) + 1] = pb;
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

    if (!part) {
        ct_groupnorm_mish_params_recompute(dy, x, weight, bias, mean, rstd, dweight, dbias, n, c, hw, groups);
        return;
    }
    // dweight[c] += sum_{n, p} dz xhat, dbias[c] += sum_{n, p} dz: the table's columns, samples in order
#pragma omp parallel for schedule(static) if ((int64_t)n * c > CT_PARALLEL_GRAIN)
    for (int ch = 0; ch < c; ch++) {
        double dw = 0.0, db = 0.0;
        for (int s_ = 0; s_ < n; s_++) {
            dw += part[2 * ((int64_t)s_ * c + ch)];
            db += part[2 * ((int64_t)s_ * c + ch) + 1];
        }
        dweight[ch] += (float)dw;
        dbias[ch] += (float)db;
    }
    free(part);
}
