// spatial_softmax.cpp: CPU reference of the keypoint head (robomimic's SpatialSoftmax), see spatial_softmax.h.
//
// Each of the n = B * K maps is independent: a softmax over its H * W positions, then the expected coordinate on a
// [-1, 1] grid. Maps are small (3x3 after a ResNet18 trunk on an 84x84 crop, at most a few thousand positions), so
// the parallelism is across maps. The softmax denominator and the two expectations are accumulated in double:
// they are sums of up to H * W positive terms and the tests compare against float64 at 1e-5.
#include <cmath>
#include <limits>

#include "cotrain/spatial_softmax.h"
#include "cpu_common.h"

// linspace(-1, 1, size)[i], with the single value -1 when size == 1 (as torch/numpy linspace). The CUDA kernel
// computes the very same float expression.
static inline float grid_coord(int i, int size) {
    return size > 1 ? -1.0f + (float)(2 * i) / (float)(size - 1) : -1.0f;
}

static inline float map_max(const float* xm, int64_t hw) {
    float mx = -std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < hw; i++) mx = xm[i] > mx ? xm[i] : mx;
    return mx;
}

// sum_{h,w} exp((x - max) / temperature), and the same sum weighted by gx[w] and by gy[h].
static inline void map_sums(const float* xm, int h, int w, float mx, float temperature,
                            double* s, double* sx, double* sy) {
    double s_ = 0.0, sx_ = 0.0, sy_ = 0.0;
    for (int r = 0; r < h; r++) {
        const float* row = xm + (int64_t)r * w;
        double rs = 0.0, rsx = 0.0;  // row sums: the y coordinate is constant along a row
        for (int c = 0; c < w; c++) {
            float e = expf((row[c] - mx) / temperature);
            rs += e;
            rsx += (double)e * grid_coord(c, w);
        }
        s_ += rs;
        sx_ += rsx;
        sy_ += rs * grid_coord(r, h);
    }
    *s = s_;
    *sx = sx_;
    *sy = sy_;
}

// x: (n, H, W) -> out: (n, 2) = (expected x, expected y)
CT_API void ct_spatial_softmax_forward_cpu(const float* x, float* out, int64_t n, int h, int w,
                                           float temperature) {
    const int64_t hw = (int64_t)h * w;
#pragma omp parallel for schedule(static) if (n * hw > CT_PARALLEL_GRAIN)
    for (int64_t m = 0; m < n; m++) {
        const float* xm = x + m * hw;
        float mx = map_max(xm, hw);
        double s, sx, sy;
        map_sums(xm, h, w, mx, temperature, &s, &sx, &sy);
        out[2 * m + 0] = (float)(sx / s);
        out[2 * m + 1] = (float)(sy / s);
    }
}

// dx[m, r, c] += P[r, c] (dout[m,0] (gx[c] - out[m,0]) + dout[m,1] (gy[r] - out[m,1])) / temperature
// P is recomputed from x (cheaper than storing it: the maps are re-read from cache, and the forward stays small).
CT_API void ct_spatial_softmax_backward_cpu(const float* x, const float* out, const float* dout, float* dx,
                                            int64_t n, int h, int w, float temperature) {
    const int64_t hw = (int64_t)h * w;
#pragma omp parallel for schedule(static) if (n * hw > CT_PARALLEL_GRAIN)
    for (int64_t m = 0; m < n; m++) {
        const float* xm = x + m * hw;
        float* dxm = dx + m * hw;
        float mx = map_max(xm, hw);
        double s, sx, sy;
        map_sums(xm, h, w, mx, temperature, &s, &sx, &sy);
        const float inv_s = (float)(1.0 / s);
        const float ox = out[2 * m + 0], oy = out[2 * m + 1];
        const float dox = dout[2 * m + 0], doy = dout[2 * m + 1];
        for (int r = 0; r < h; r++) {
            const float ty = doy * (grid_coord(r, h) - oy);  // the y term, constant along the row
            for (int c = 0; c < w; c++) {
                int64_t i = (int64_t)r * w + c;
                float p = expf((xm[i] - mx) / temperature) * inv_s;
                dxm[i] += p * (dox * (grid_coord(c, w) - ox) + ty) / temperature;
            }
        }
    }
}
