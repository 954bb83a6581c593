// layernorm.cpp: CPU reference of layernorm.h, LayerNorm over the last dimension as torch.nn.LayerNorm.
//
// The row statistics and the row sums of the backward are accumulated in double (vectorised: `omp simd reduction`
// lets the compiler keep several partial sums, a fixed order for a given build): C is small (256) but the
// tests compare against float64 at 1e-5, and the two-pass variance (mean first, then squared deviations) avoids
// the cancellation of E[x^2] - E[x]^2 for rows with a large mean.
#include "cotrain/layernorm.h"
#include "cpu_common.h"

#include <math.h>

CT_API CT_MULTIVERSION void ct_layernorm_forward_cpu(const float* x, const float* weight, const float* bias, float* y,
                                     float* mean, float* rstd, int64_t rows, int c, float eps) {
    // x, y: (rows, C); weight, bias: (C); mean, rstd: (rows)
    if (rows <= 0 || c <= 0) return;
#pragma omp parallel for if (rows * c > CT_PARALLEL_GRAIN)
    for (int64_t r = 0; r < rows; r++) {
        const float* xr = x + r * c;
        float* yr = y + r * c;
        double sum = 0.0;
#pragma omp simd reduction(+ : sum)
        for (int i = 0; i < c; i++) sum += xr[i];
        double m = sum / c;
        double sq = 0.0;
#pragma omp simd reduction(+ : sq)
        for (int i = 0; i < c; i++) {
            double d = xr[i] - m;
            sq += d * d;
        }
        // biased variance (divide by C, not C - 1), eps inside the square root, as PyTorch
        double s = 1.0 / sqrt(sq / c + (double)eps);
        float mf = (float)m, sf = (float)s;
        for (int i = 0; i < c; i++) yr[i] = (xr[i] - mf) * sf * weight[i] + bias[i];
        mean[r] = mf;
        rstd[r] = sf;
    }
}

// Columns per task of the dweight/dbias reduction: each task owns a block of columns and walks every row in order,
// so the sums need no scratch memory and no cross-thread combination, and come out the same for any thread count.
#define CT_LN_COL_BLOCK 64

CT_API CT_MULTIVERSION void ct_layernorm_backward_cpu(const float* dy, const float* x, const float* weight, const float* mean,
                                      const float* rstd, float* dx, float* dweight, float* dbias,
                                      int64_t rows, int c) {
    // dy, x, dx: (rows, C); weight, dweight, dbias: (C); mean, rstd: (rows)
    if (rows <= 0 || c <= 0) return;

    // dx: with g = dy * w and xhat = (x - mean) * rstd,
    //   dx = rstd * (g - mean_c(g) - xhat * mean_c(g * xhat))
    // (the two means are the gradients flowing through the row mean and the row variance). Computed in double:
    // a product of two floats is exact in double, so g - mean_c(g) is exactly 0 where it should be (C = 1,
    // constant dy * w) whether or not the compiler fuses the multiply into the subtraction. In float a fused
    // multiply-add would leave the product's rounding error there, which rstd = 1/sqrt(eps) then amplifies.
#pragma omp parallel for if (rows * c > CT_PARALLEL_GRAIN)
    for (int64_t r = 0; r < rows; r++) {
        const float* dyr = dy + r * c;
        const float* xr = x + r * c;
        float* dxr = dx + r * c;
        double m = mean[r], s = rstd[r];
        double gsum = 0.0, gxsum = 0.0;
#pragma omp simd reduction(+ : gsum, gxsum)
        for (int i = 0; i < c; i++) {
            double xhat = (xr[i] - m) * s;
            double g = (double)dyr[i] * weight[i];
            gsum += g;
            gxsum += g * xhat;
        }
        double gmean = gsum / c, gxmean = gxsum / c;
        for (int i = 0; i < c; i++) {
            double xhat = (xr[i] - m) * s;
            double g = (double)dyr[i] * weight[i];
            dxr[i] += (float)(s * (g - gmean - xhat * gxmean));
        }
    }

    // dweight += sum_r dy * xhat, dbias += sum_r dy: column sums over all rows.
    int blocks = (c + CT_LN_COL_BLOCK - 1) / CT_LN_COL_BLOCK;
#pragma omp parallel for if (rows * c > CT_PARALLEL_GRAIN)
    for (int blk = 0; blk < blocks; blk++) {
        int c0 = blk * CT_LN_COL_BLOCK;
        int nc = c - c0 < CT_LN_COL_BLOCK ? c - c0 : CT_LN_COL_BLOCK;
        double dw[CT_LN_COL_BLOCK] = {0}, db[CT_LN_COL_BLOCK] = {0};
        for (int64_t r = 0; r < rows; r++) {
            const float* dyr = dy + r * c + c0;
            const float* xr = x + r * c + c0;
            float m = mean[r], s = rstd[r];
            for (int i = 0; i < nc; i++) {
                float xhat = (xr[i] - m) * s;
                dw[i] += (double)dyr[i] * xhat;
                db[i] += dyr[i];
            }
        }
        for (int i = 0; i < nc; i++) {
            dweight[c0 + i] += (float)dw[i];
            dbias[c0 + i] += (float)db[i];
        }
    }
}
