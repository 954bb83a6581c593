// conv2d.cpp: CPU reference of conv2d.h, im2col + OpenBLAS GEMM (ct_gemm_cpu, matmul.cpp's threading).
//
// Notation: K = CI KH KW rows of a column matrix, P = Ho Wo output pixels. Row k = (ci, u, v) of col holds, for
// every output pixel p = (i, j), the input value under kernel tap (u, v): x[ci, i SH - PH + u, j SW - PW + v], or 0
// in the padding. So y[n] (CO, P) = w (CO, K) col[n] (K, P), dcol = w^T dy[n] scattered back by col2im gives dx, and
// dw += dy[n] col[n]^T. The two strategies of conv2d.h differ only in how samples are grouped into GEMMs.
#include <algorithm>
#include <atomic>
#include <memory>
#include <new>
#include <string.h>

#include "cotrain/conv2d.h"
#include "cotrain/reduce.h"
#include "cpu_common.h"
#include "cpu_gemm.h"

static std::atomic<int> g_strategy{CT_CONV_AUTO};

CT_API void ct_conv2d_cpu_set_strategy(int strategy) {
    g_strategy.store(strategy == CT_CONV_PER_SAMPLE || strategy == CT_CONV_BATCHED ? strategy : CT_CONV_AUTO);
}

CT_API int ct_conv2d_cpu_get_strategy(void) { return g_strategy.load(); }

namespace {

struct Shape {
    int n, ci, h, w, co, kh, kw, sh, sw, ph, pw, ho, wo;
    int64_t k() const { return (int64_t)ci * kh * kw; }
    int64_t p() const { return (int64_t)ho * wo; }
    int64_t in_plane() const { return (int64_t)h * w; }
    // 1x1, stride 1, no padding: col[n] is x[n] itself, seen as (CI, H W)
    bool pointwise() const { return kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0; }
};

Shape make_shape(int n, int ci, int h, int w, int co, int kh, int kw, int sh, int sw, int ph, int pw) {
    return Shape{n, ci, h, w, co, kh, kw, sh, sw, ph, pw, (h + 2 * ph - kh) / sh + 1, (w + 2 * pw - kw) / sw + 1};
}

// Scratch memory of the calling thread (the Java thread that called the op; the OpenMP workers use slices of it).
// Kept between calls, grown when a call needs more: a fresh 60 MB buffer per call would be page-faulted in every
// time. Per calling thread, so that two trainings in one process never share it. NULL when the memory is not
// there (the op then writes NaN instead of crashing the JVM; Ops bounds the sizes so this should not happen).
float* scratch(size_t floats) {
    static thread_local std::unique_ptr<float[]> buf;
    static thread_local size_t size = 0;
    if (size < floats) {
        buf.reset();
        size = 0;
        buf.reset(new (std::nothrow) float[floats]);
        if (!buf) return nullptr;
        size = floats;
    }
    return buf.get();
}

void fill_nan(float* t, int64_t n, bool accumulate) {
    const float nan = __builtin_nanf("");
    for (int64_t i = 0; i < n; i++) t[i] = accumulate ? t[i] + nan : nan;
}

// Output columns j whose input column j S - P + off lies in [0, size): [lo, hi) (empty when lo >= hi).
inline int valid_lo(int pad, int off, int stride) {
    int t = pad - off;
    return t <= 0 ? 0 : (t + stride - 1) / stride;
}
inline int valid_hi(int size, int pad, int off, int stride, int out) {
    int t = size - 1 + pad - off;
    if (t < 0) return 0;
    return std::min(t / stride + 1, out);
}

// The KH KW rows of input channel plane xc (H, W) into colc (rows of length ld; this sample's P columns start at
// colc). Zeros where the tap falls in the padding.
void im2col_plane(const float* xc, float* colc, int64_t ld, const Shape& s) {
    for (int u = 0; u < s.kh; u++) {
        for (int v = 0; v < s.kw; v++) {
            float* row = colc + (int64_t)(u * s.kw + v) * ld;
            const int j0 = valid_lo(s.pw, v, s.sw);
            const int j1 = std::max(j0, valid_hi(s.w, s.pw, v, s.sw, s.wo));
            for (int i = 0; i < s.ho; i++) {
                float* out = row + (int64_t)i * s.wo;
                const int r = i * s.sh - s.ph + u;
                if (r < 0 || r >= s.h) {
                    memset(out, 0, sizeof(float) * s.wo);
                    continue;
                }
                const float* xr = xc + (int64_t)r * s.w - s.pw + v;  // xr[j SW] is the input under (i, j)
                for (int j = 0; j < j0; j++) out[j] = 0.0f;
                if (s.sw == 1) {
                    memcpy(out + j0, xr + j0, sizeof(float) * (j1 - j0));
                } else {
                    for (int j = j0; j < j1; j++) out[j] = xr[(int64_t)j * s.sw];
                }
                for (int j = j1; j < s.wo; j++) out[j] = 0.0f;
            }
        }
    }
}

// The inverse scatter: dxc (H, W) += every entry of the KH KW rows of colc at the input position it was read from.
// One plane's contributions are added in a fixed (u, v, i, j) order.
void col2im_plane(const float* colc, int64_t ld, float* dxc, const Shape& s) {
    for (int u = 0; u < s.kh; u++) {
        for (int v = 0; v < s.kw; v++) {
            const float* row = colc + (int64_t)(u * s.kw + v) * ld;
            const int j0 = valid_lo(s.pw, v, s.sw);
            const int j1 = std::max(j0, valid_hi(s.w, s.pw, v, s.sw, s.wo));
            for (int i = 0; i < s.ho; i++) {
                const int r = i * s.sh - s.ph + u;
                if (r < 0 || r >= s.h) continue;
                const float* in = row + (int64_t)i * s.wo;
                float* dr = dxc + (int64_t)r * s.w - s.pw + v;
                if (s.sw == 1) {
                    for (int j = j0; j < j1; j++) dr[j] += in[j];
                } else {
                    for (int j = j0; j < j1; j++) dr[(int64_t)j * s.sw] += in[j];
                }
            }
        }
    }
}

// col (K, P) of one sample, on the calling thread.
void im2col_sample(const float* xn, float* col, const Shape& s) {
    const int64_t p = s.p(), taps = (int64_t)s.kh * s.kw;
    for (int c = 0; c < s.ci; c++) im2col_plane(xn + c * s.in_plane(), col + c * taps * p, p, s);
}

// ---- BATCHED: groups of G samples side by side, col (K, G P) -----------------------------------------------------

// Columns of one batched GEMM: enough to make the skinny dimension of deep layers (P = 9) wide, and few enough that
// the (K + CO) G P floats of scratch stay modest (a few tens of MB).
constexpr int64_t kBatchedCols = 4096;
constexpr int64_t kBatchedScratchFloats = 16LL << 20;

int group_size(const Shape& s) {
    const int64_t p = std::max<int64_t>(s.p(), 1);
    int64_t g = (kBatchedCols + p - 1) / p;
    g = std::min<int64_t>(g, std::max<int64_t>(1, kBatchedScratchFloats / ((s.k() + s.co) * p)));
    return (int)std::max<int64_t>(1, std::min<int64_t>(g, s.n));
}

// Floats of scratch the batched strategy needs: col (K, G P) and the gathered (CO, G P).
int64_t batched_scratch(const Shape& s) { return (s.k() + s.co) * group_size(s) * s.p(); }

// col (K, g P) for samples n0 .. n0 + g, in parallel over (sample, input channel) planes.
void im2col_group(const float* x, float* col, int n0, int g, const Shape& s) {
    const int64_t ld = (int64_t)g * s.p(), taps = (int64_t)s.kh * s.kw;
    const int64_t planes = (int64_t)g * s.ci;
#pragma omp parallel for schedule(static) if (planes > 1 && (int64_t)s.k() * ld > CT_PARALLEL_GRAIN)
    for (int64_t t = 0; t < planes; t++) {
        const int64_t sample = t / s.ci, c = t % s.ci;
        im2col_plane(x + ((n0 + sample) * (int64_t)s.ci + c) * s.in_plane(), col + c * taps * ld + sample * s.p(),
                     ld, s);
    }
}

// cat (C, g P) <-> t[n0 + sample] (C, P) for samples n0 .. n0 + g. gather: cat = t; scatter: t = cat + bias.
void gather_group(const float* t, float* cat, int n0, int g, int c, int64_t p) {
    const int64_t ld = (int64_t)g * p, rows = (int64_t)g * c;
#pragma omp parallel for schedule(static) if (rows * p > CT_PARALLEL_GRAIN)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t sample = r / c, ch = r % c;
        memcpy(cat + ch * ld + sample * p, t + ((n0 + sample) * (int64_t)c + ch) * p, sizeof(float) * p);
    }
}

CT_MULTIVERSION void scatter_group(const float* cat, const float* bias, float* t, int n0, int g, int c, int64_t p) {
    const int64_t ld = (int64_t)g * p, rows = (int64_t)g * c;
#pragma omp parallel for schedule(static) if (rows * p > CT_PARALLEL_GRAIN)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t sample = r / c, ch = r % c;
        const float* src = cat + ch * ld + sample * p;
        float* dst = t + ((n0 + sample) * (int64_t)c + ch) * p;
        const float b = bias != nullptr ? bias[ch] : 0.0f;
        for (int64_t i = 0; i < p; i++) dst[i] = src[i] + b;
    }
}

void forward_batched(const float* x, const float* w, const float* bias, float* y, const Shape& s, float* buf) {
    const int g_max = group_size(s);
    const int64_t k = s.k(), p = s.p();
    float* col = buf;
    float* ycat = buf + k * g_max * p;
    for (int n0 = 0; n0 < s.n; n0 += g_max) {
        const int g = std::min(g_max, s.n - n0);
        im2col_group(x, col, n0, g, s);
        ct_gemm_cpu(w, col, ycat, s.co, (int)(g * p), (int)k, 0, 0, 1.0f, 0.0f);  // (CO, K) x (K, g P)
        scatter_group(ycat, bias, y, n0, g, s.co, p);
    }
}

void backward_data_batched(const float* dy, const float* w, float* dx, const Shape& s, float* buf) {
    const int g_max = group_size(s);
    const int64_t k = s.k(), p = s.p(), taps = (int64_t)s.kh * s.kw;
    float* dcol = buf;
    float* dycat = buf + k * g_max * p;
    for (int n0 = 0; n0 < s.n; n0 += g_max) {
        const int g = std::min(g_max, s.n - n0);
        const int64_t ld = (int64_t)g * p;
        gather_group(dy, dycat, n0, g, s.co, p);
        ct_gemm_cpu(w, dycat, dcol, (int)k, (int)ld, s.co, 1, 0, 1.0f, 0.0f);  // (K, CO) x (CO, g P)
        const int64_t planes = (int64_t)g * s.ci;
#pragma omp parallel for schedule(static) if (planes > 1 && k * ld > CT_PARALLEL_GRAIN)
        for (int64_t t = 0; t < planes; t++) {
            const int64_t sample = t / s.ci, c = t % s.ci;
            col2im_plane(dcol + c * taps * ld + sample * p, ld, dx + ((n0 + sample) * (int64_t)s.ci + c) * s.in_plane(),
                         s);
        }
    }
}

// dw (CO, K) += dycat (CO, g P) col^T (g P, K), group after group: the sum over samples runs inside each GEMM and
// then in group order.
void backward_weight_batched(const float* dy, const float* x, float* dw, const Shape& s, float* buf) {
    const int g_max = group_size(s);
    const int64_t k = s.k(), p = s.p();
    float* col = buf;
    float* dycat = buf + k * g_max * p;
    for (int n0 = 0; n0 < s.n; n0 += g_max) {
        const int g = std::min(g_max, s.n - n0);
        im2col_group(x, col, n0, g, s);
        gather_group(dy, dycat, n0, g, s.co, p);
        ct_gemm_cpu(dycat, col, dw, s.co, (int)k, (int)(g * p), 0, 1, 1.0f, 1.0f);
    }
}

// ---- PER_SAMPLE: one sample per thread, its own im2col buffer, single-threaded GEMMs ------------------------------

// Floats of scratch: one (K, P) column buffer per thread (none for a pointwise convolution).
int64_t per_sample_scratch(const Shape& s, int threads) { return s.pointwise() ? 0 : threads * s.k() * s.p(); }

CT_MULTIVERSION void add_bias_planes(float* yn, const float* bias, int c, int64_t p) {
    for (int ch = 0; ch < c; ch++) {
        float* row = yn + ch * p;
        const float b = bias[ch];
        for (int64_t i = 0; i < p; i++) row[i] += b;
    }
}

void forward_per_sample(const float* x, const float* w, const float* bias, float* y, const Shape& s, float* buf) {
    const int64_t k = s.k(), p = s.p();
    const bool direct = s.pointwise();
#pragma omp parallel for schedule(static) if (s.n > 1)
    for (int n = 0; n < s.n; n++) {
        const float* xn = x + (int64_t)n * s.ci * s.in_plane();
        const float* col = xn;
        if (!direct) {
            float* mine = buf + omp_get_thread_num() * k * p;
            im2col_sample(xn, mine, s);
            col = mine;
        }
        float* yn = y + (int64_t)n * s.co * p;
        ct_gemm_cpu(w, col, yn, s.co, (int)p, (int)k, 0, 0, 1.0f, 0.0f);
        if (bias != nullptr) add_bias_planes(yn, bias, s.co, p);
    }
}

void backward_data_per_sample(const float* dy, const float* w, float* dx, const Shape& s, float* buf) {
    const int64_t k = s.k(), p = s.p(), taps = (int64_t)s.kh * s.kw;
    const bool direct = s.pointwise();
#pragma omp parallel for schedule(static) if (s.n > 1)
    for (int n = 0; n < s.n; n++) {
        const float* dyn = dy + (int64_t)n * s.co * p;
        float* dxn = dx + (int64_t)n * s.ci * s.in_plane();
        if (direct) {
            ct_gemm_cpu(w, dyn, dxn, s.ci, (int)p, s.co, 1, 0, 1.0f, 1.0f);  // dx (CI, P) += w^T (CI, CO) dy
            continue;
        }
        float* dcol = buf + omp_get_thread_num() * k * p;
        ct_gemm_cpu(w, dyn, dcol, (int)k, (int)p, s.co, 1, 0, 1.0f, 0.0f);
        for (int c = 0; c < s.ci; c++) col2im_plane(dcol + c * taps * p, p, dxn + c * s.in_plane(), s);
    }
}

// Floats of scratch of the per-sample weight gradient: a (CO, K) partial and a column buffer per thread.
int64_t per_sample_weight_scratch(const Shape& s, int threads) {
    return threads * (s.co * s.k() + (s.pointwise() ? 0 : s.k() * s.p()));
}

// Each thread sums dy[n] col[n]^T over its own static block of samples into a private (CO, K) partial; the
// partials are then added to dw in thread order: the same result run to run for a given thread count.
void backward_weight_per_sample(const float* dy, const float* x, float* dw, const Shape& s, int threads, float* buf) {
    const int64_t k = s.k(), p = s.p(), wsize = (int64_t)s.co * k;
    const bool direct = s.pointwise();
    int team = 1;
#pragma omp parallel num_threads(threads)
    {
        const int t = omp_get_thread_num();
#pragma omp single
        team = omp_get_num_threads();  // the runtime may give fewer threads than asked for
        float* part = buf + t * wsize;
        float* mine = buf + threads * wsize + t * k * p;
        memset(part, 0, sizeof(float) * wsize);
#pragma omp for schedule(static)
        for (int n = 0; n < s.n; n++) {
            const float* xn = x + (int64_t)n * s.ci * s.in_plane();
            const float* col = xn;
            if (!direct) {
                im2col_sample(xn, mine, s);
                col = mine;
            }
            ct_gemm_cpu(dy + (int64_t)n * s.co * p, col, part, s.co, (int)k, (int)p, 0, 1, 1.0f, 1.0f);
        }
    }
#pragma omp parallel for schedule(static) if (wsize > CT_PARALLEL_GRAIN)
    for (int64_t i = 0; i < wsize; i++) {
        float sum = 0.0f;
        for (int t = 0; t < team; t++) sum += buf[t * wsize + i];
        dw[i] += sum;
    }
}

// AUTO: a per-sample GEMM is efficient when its skinny dimension P is wide enough, or when the convolution is
// pointwise (no im2col copy at all), and there are samples for every thread; otherwise (3x3 convolutions on 6x6 and
// 3x3 maps, a batch smaller than the thread count) samples are batched. A forced or automatic per-sample choice also
// falls back to batching when its buffers would be large (many threads). The threshold comes from ConvBenchmarks
// (benchmarks/RESULTS.md): per sample won on ResNet18's 42x42, 21x21 and 11x11 maps, batching on 6x6 and 3x3.
constexpr int64_t kPerSampleMinPixels = 64;
constexpr int64_t kPerSampleScratchFloats = 32LL << 20;

bool use_per_sample(const Shape& s, int64_t scratch_floats) {
    if (scratch_floats > kPerSampleScratchFloats) return false;
    const int strategy = g_strategy.load();
    if (strategy != CT_CONV_AUTO) return strategy == CT_CONV_PER_SAMPLE;
    return (s.p() >= kPerSampleMinPixels || s.pointwise()) && s.n >= omp_get_max_threads();
}

}  // namespace

CT_API void ct_conv2d_forward_cpu(const float* x, const float* w, const float* bias, float* y, int n, int ci, int h,
                                  int wi, int co, int kh, int kw, int sh, int sw, int ph, int pw) {
    // x: (N, CI, H, W), w: (CO, CI, KH, KW), bias: (CO) or NULL, y: (N, CO, Ho, Wo)
    const Shape s = make_shape(n, ci, h, wi, co, kh, kw, sh, sw, ph, pw);
    if (s.n <= 0 || s.co <= 0 || s.p() <= 0) return;
    if (s.k() == 0) {  // no input channels: y = bias
        for (int64_t i = 0; i < (int64_t)s.n * s.co; i++) {
            const float b = bias != nullptr ? bias[i % s.co] : 0.0f;
            for (int64_t j = 0; j < s.p(); j++) y[i * s.p() + j] = b;
        }
        return;
    }
    const int64_t per_sample = per_sample_scratch(s, omp_get_max_threads());
    const bool by_sample = use_per_sample(s, per_sample);
    const int64_t floats = by_sample ? per_sample : batched_scratch(s);
    float* buf = floats > 0 ? scratch((size_t)floats) : nullptr;
    if (floats > 0 && buf == nullptr) {
        fill_nan(y, (int64_t)s.n * s.co * s.p(), false);
    } else if (by_sample) {
        forward_per_sample(x, w, bias, y, s, buf);
    } else {
        forward_batched(x, w, bias, y, s, buf);
    }
}

CT_API void ct_conv2d_backward_data_cpu(const float* dy, const float* w, float* dx, int n, int ci, int h, int wi,
                                        int co, int kh, int kw, int sh, int sw, int ph, int pw) {
    // dy: (N, CO, Ho, Wo), w: (CO, CI, KH, KW), dx: (N, CI, H, W) accumulated
    const Shape s = make_shape(n, ci, h, wi, co, kh, kw, sh, sw, ph, pw);
    if (s.n <= 0 || s.k() <= 0 || s.co <= 0 || s.p() <= 0) return;
    const int64_t per_sample = per_sample_scratch(s, omp_get_max_threads());
    const bool by_sample = use_per_sample(s, per_sample);
    const int64_t floats = by_sample ? per_sample : batched_scratch(s);
    float* buf = floats > 0 ? scratch((size_t)floats) : nullptr;
    if (floats > 0 && buf == nullptr) {
        fill_nan(dx, (int64_t)s.n * s.ci * s.in_plane(), true);
    } else if (by_sample) {
        backward_data_per_sample(dy, w, dx, s, buf);
    } else {
        backward_data_batched(dy, w, dx, s, buf);
    }
}

CT_API void ct_conv2d_backward_weight_cpu(const float* dy, const float* x, float* dw, float* dbias, int n, int ci,
                                          int h, int wi, int co, int kh, int kw, int sh, int sw, int ph, int pw) {
    // dy: (N, CO, Ho, Wo), x: (N, CI, H, W), dw: (CO, CI, KH, KW) and dbias: (CO) or NULL, accumulated
    const Shape s = make_shape(n, ci, h, wi, co, kh, kw, sh, sw, ph, pw);
    if (s.n <= 0 || s.co <= 0 || s.p() <= 0) return;
    if (dbias != nullptr) ct_sum_channels_cpu(dy, dbias, s.n, s.co, s.p());
    if (s.k() <= 0) return;
    const int threads = std::max(1, std::min(omp_get_max_threads(), s.n));
    const int64_t per_sample = per_sample_weight_scratch(s, threads);
    const bool by_sample = use_per_sample(s, per_sample);
    const int64_t floats = by_sample ? per_sample : batched_scratch(s);
    float* buf = scratch((size_t)floats);
    if (buf == nullptr) {
        fill_nan(dw, (int64_t)s.co * s.k(), true);
    } else if (by_sample) {
        backward_weight_per_sample(dy, x, dw, s, threads, buf);
    } else {
        backward_weight_batched(dy, x, dw, s, buf);
    }
}
