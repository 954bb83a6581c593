// spatial_softmax.cpp: CPU reference of the keypoint head (robomimic's SpatialSoftmax), see spatial_softmax.h.
//
// Each of the n = B * K maps is independent: a softmax over its H * W positions, then the expected coordinate on a
// [-1, 1] grid. Maps are small (3x3 after a ResNet18 trunk on an 84x84 crop, at most a few thousand positions), so
// the parallelism is across maps. The softmax denominator and the two expectations are accumulated in double:
// they are sums of up to H * W positive terms and the tests compare against float64 at 1e-5.
#include <cmath>
#include <limits>
#include <vector>

#include "cotrain/spatial_softmax.h"
#include "cpu_common.h"

// linspace(-1, 1, size)[i], with the single value -1 when size == 1 (as torch/numpy linspace). The CUDA kernel
// computes the very same float expression.
static inline float grid_coord(int i, int size) {
    return size > 1 ? -1.0f + (float)(2 * i) / (float)(size - 1) : -1.0f;
}

static inline float map_max(const float* xm, int64_t hw) {
    float mx = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : mx)
    for (int64_t i = 0; i < hw; i++) mx = xm[i] > mx ? xm[i] : mx;
    return mx;
}

// The grid coordinates of every position of an (H, W) map, flattened: gx[i] = linspace(-1, 1, W)[i % W] and
// gy[i] = linspace(-1, 1, H)[i / W]. Computed once per call, so the per-map loops are plain streams.
struct MapGrid {
    std::vector<float> gx, gy;
    MapGrid(int h, int w) : gx((size_t)h * w), gy((size_t)h * w) {
        for (int r = 0; r < h; r++) {
            for (int c = 0; c < w; c++) {
                gx[(size_t)r * w + c] = grid_coord(c, w);
                gy[(size_t)r * w + c] = grid_coord(r, h);
            }
        }
    }
};

// sum_i exp((x_i - max) / temperature), and the same sum weighted by gx and by gy, over one map. The exponent is
// <= 0, so the vectorisable ct_expf_nonpos (cpu_common.h) applies; the sums are in double, one partial sum per
// vector lane (the simd reduction clause allows that reassociation; its order is fixed for a given build, so
// results are reproducible). Maps are short (9 to 144 positions), so one pass over the whole map matters.
static inline void map_sums(const float* xm, int64_t hw, const float* gx, const float* gy, float mx, float inv_t,
                            double* s, double* sx, double* sy) {
    double s_ = 0.0, sx_ = 0.0, sy_ = 0.0;
#pragma omp simd reduction(+ : s_, sx_, sy_)
    for (int64_t i = 0; i < hw; i++) {
        const float e = ct_expf_nonpos((xm[i] - mx) * inv_t);
        s_ += e;
        sx_ += (double)(e * gx[i]);
        sy_ += (double)(e * gy[i]);
    }
    *s = s_;
    *sx = sx_;
    *sy = sy_;
}

// x: (n, H, W) -> out: (n, 2) = (expected x, expected y)
CT_API CT_MULTIVERSION void ct_spatial_softmax_forward_cpu(const float* x, float* out, int64_t n, int h, int w,
                                                           float temperature) {
    const int64_t hw = (int64_t)h * w;
    const float inv_t = 1.0f / temperature;
    const MapGrid grid(h, w);
    const float* gx = grid.gx.data();
    const float* gy = grid.gy.data();
#pragma omp parallel for schedule(static) if (n * hw > CT_PARALLEL_GRAIN)
    for (int64_t m = 0; m < n; m++) {
        const float* xm = x + m * hw;
        float mx = map_max(xm, hw);
        double s, sx, sy;
        map_sums(xm, hw, gx, gy, mx, inv_t, &s, &sx, &sy);
        out[2 * m + 0] = (float)(sx / s);
        out[2 * m + 1] = (float)(sy / s);
    }
}

// dx[m, r, c] += P[r, c] (dout[m,0] (gx[c] - out[m,0]) + dout[m,1] (gy[r] - out[m,1])) / temperature
// P is recomputed from x (cheaper than storing it: the maps are re-read from cache, and the forward stays small).
CT_API CT_MULTIVERSION void ct_spatial_softmax_backward_cpu(const float* x, const float* out, const float* dout,
                                                            float* dx, int64_t n, int h, int w, float temperature) {
    const int64_t hw = (int64_t)h * w;
    const float inv_t = 1.0f / temperature;
    const MapGrid grid(h, w);
    const float* gx = grid.gx.data();
    const float* gy = grid.gy.data();
#pragma omp parallel for schedule(static) if (n * hw > CT_PARALLEL_GRAIN)
    for (int64_t m = 0; m < n; m++) {
        const float* xm = x + m * hw;
        float* dxm = dx + m * hw;
        float mx = map_max(xm, hw);
        double s, sx, sy;
        map_sums(xm, hw, gx, gy, mx, inv_t, &s, &sx, &sy);
        const float scale = (float)(1.0 / s) * inv_t;  // P = e / s, and the 1 / temperature of the chain rule
        const float ox = out[2 * m + 0], oy = out[2 * m + 1];
        const float dox = dout[2 * m + 0], doy = dout[2 * m + 1];
#pragma omp simd
        for (int64_t i = 0; i < hw; i++) {
            const float e = ct_expf_nonpos((xm[i] - mx) * inv_t);
            dxm[i] += e * scale * (dox * (gx[i] - ox) + doy * (gy[i] - oy));
        }
    }
}
