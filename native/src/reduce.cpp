// reduce.cpp: CPU reductions and the MSE loss (reduce.h).
//
// Determinism: a full reduction splits x into CT_REDUCE_CHUNKS chunks whose boundaries depend only on n (never on
// the thread count), sums every chunk in double with a fixed order of operations, and then adds the chunk sums
// in chunk order. An OpenMP `reduction(+:s)` would combine per-thread partials in whatever split the runtime
// chose, so the last bits of a loss would change with the number of threads; this way 1 thread and 64 threads give
// the same float, and the double accumulators keep the error far below the float32 output rounding.
#include "cotrain/reduce.h"
#include "cpu_common.h"

// Number of chunks of a full reduction: enough for the parallel loop to balance on a big machine, few enough that
// the partials fit on the stack.
#define CT_REDUCE_CHUNKS 256

// Columns summed together by ct_sum_rows_cpu: one row segment of 32 floats is 128 contiguous bytes, and the 32
// double accumulators stay in registers / L1.
#define CT_SUM_ROWS_BLOCK 32

// [lo, hi) of chunk c of n elements.
static inline int64_t chunk_begin(int64_t n, int c) { return n * c / CT_REDUCE_CHUNKS; }

// The per-chunk kernels keep CT_LANES independent double accumulators, element i going to lane i % CT_LANES of
// its 8-block: a fixed order of additions that the compiler turns into vector adds (4 doubles per AVX2 register).
// The lanes are combined as a fixed tree. (The AVX2 clone may contract a * a + acc into an FMA, so two machines
// of different ISA levels can differ in the last bits of the double; one machine always gives one result.)
#define CT_LANES 8

static inline double combine_lanes(const double* acc) {
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

// sum_{i in [lo, hi)} x[i]
CT_MULTIVERSION static double sum_range(const float* x, int64_t lo, int64_t hi) {
    double acc[CT_LANES] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = lo;
    for (; i + CT_LANES <= hi; i += CT_LANES)
        for (int j = 0; j < CT_LANES; j++) acc[j] += (double)x[i + j];
    for (; i < hi; i++) acc[0] += (double)x[i];
    return combine_lanes(acc);
}

// sum_{i in [lo, hi)} x[i]^2
CT_MULTIVERSION static double sum_squares_range(const float* x, int64_t lo, int64_t hi) {
    double acc[CT_LANES] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = lo;
    for (; i + CT_LANES <= hi; i += CT_LANES)
        for (int j = 0; j < CT_LANES; j++) {
            double a = x[i + j];
            acc[j] += a * a;
        }
    for (; i < hi; i++) {
        double a = x[i];
        acc[0] += a * a;
    }
    return combine_lanes(acc);
}

// sum_{i in [lo, hi)} w[i] (pred[i] - target[i])^2, w = 1 when weight is NULL. The difference is taken in double
// so that pred ~ target loses nothing to cancellation.
CT_MULTIVERSION static double squared_error_range(const float* pred, const float* target, const float* weight,
                                                  int64_t lo, int64_t hi) {
    double acc[CT_LANES] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = lo;
    if (weight == nullptr) {
        for (; i + CT_LANES <= hi; i += CT_LANES)
            for (int j = 0; j < CT_LANES; j++) {
                double d = (double)pred[i + j] - (double)target[i + j];
                acc[j] += d * d;
            }
        for (; i < hi; i++) {
            double d = (double)pred[i] - (double)target[i];
            acc[0] += d * d;
        }
    } else {
        for (; i + CT_LANES <= hi; i += CT_LANES)
            for (int j = 0; j < CT_LANES; j++) {
                double d = (double)pred[i + j] - (double)target[i + j];
                acc[j] += (double)weight[i + j] * (d * d);
            }
        for (; i < hi; i++) {
            double d = (double)pred[i] - (double)target[i];
            acc[0] += (double)weight[i] * (d * d);
        }
    }
    return combine_lanes(acc);
}

// Which per-chunk kernel a full reduction runs.
enum ReduceKind { REDUCE_SUM, REDUCE_SUM_SQUARES, REDUCE_SQUARED_ERROR };

// The chunked, thread-count-independent reduction shared by ct_sum, ct_sum_squares and ct_mse_forward.
static double reduce_chunked(ReduceKind kind, const float* x, const float* y, const float* w, int64_t n) {
    double partial[CT_REDUCE_CHUNKS];
#pragma omp parallel for schedule(static) if (n > CT_PARALLEL_GRAIN)
    for (int c = 0; c < CT_REDUCE_CHUNKS; c++) {
        int64_t lo = chunk_begin(n, c), hi = chunk_begin(n, c + 1);
        switch (kind) {
            case REDUCE_SUM: partial[c] = sum_range(x, lo, hi); break;
            case REDUCE_SUM_SQUARES: partial[c] = sum_squares_range(x, lo, hi); break;
            default: partial[c] = squared_error_range(x, y, w, lo, hi); break;
        }
    }
    double total = 0;
    for (int c = 0; c < CT_REDUCE_CHUNKS; c++) total += partial[c];
    return total;
}

CT_API void ct_sum_cpu(const float* x, float* out, int64_t n, float scale) {
    // x: (n), out: (1)
    out[0] = (float)((double)scale * reduce_chunked(REDUCE_SUM, x, nullptr, nullptr, n));
}

CT_API CT_MULTIVERSION void ct_sum_backward_cpu(const float* dout, float* dx, int64_t n, float scale) {
    // dout: (1), dx: (n). Every input element contributed with weight `scale`.
    const float g = scale * dout[0];
#pragma omp parallel for if (n > CT_PARALLEL_GRAIN)
    for (int64_t i = 0; i < n; i++) dx[i] += g;
}

// out[c0 + j] += sum_r x[r, c0 + j] for j < width: walks the rows top to bottom, so the reads are contiguous
// segments of `width` floats and the order of the additions is fixed.
CT_MULTIVERSION static void sum_rows_block(const float* x, float* out, int64_t rows, int64_t cols, int64_t c0,
                                           int width) {
    double acc[CT_SUM_ROWS_BLOCK];
    for (int j = 0; j < CT_SUM_ROWS_BLOCK; j++) acc[j] = 0;
    if (width == CT_SUM_ROWS_BLOCK) {
        // Constant trip count: the compiler unrolls and vectorises the inner loop.
        for (int64_t r = 0; r < rows; r++) {
            const float* xr = x + r * cols + c0;
            for (int j = 0; j < CT_SUM_ROWS_BLOCK; j++) acc[j] += (double)xr[j];
        }
    } else {
        for (int64_t r = 0; r < rows; r++) {
            const float* xr = x + r * cols + c0;
            for (int j = 0; j < width; j++) acc[j] += (double)xr[j];
        }
    }
    for (int j = 0; j < width; j++) out[c0 + j] = (float)((double)out[c0 + j] + acc[j]);
}

CT_API void ct_sum_rows_cpu(const float* x, float* out, int64_t rows, int64_t cols) {
    // x: (rows, cols), out: (cols). Parallel over blocks of columns: each output column is summed by one thread
    // in row order, so the result does not depend on the thread count.
    const int64_t blocks = (cols + CT_SUM_ROWS_BLOCK - 1) / CT_SUM_ROWS_BLOCK;
#pragma omp parallel for schedule(static) if (rows * cols > CT_PARALLEL_GRAIN && blocks > 1)
    for (int64_t b = 0; b < blocks; b++) {
        int64_t c0 = b * CT_SUM_ROWS_BLOCK;
        int width = (int)(cols - c0 < CT_SUM_ROWS_BLOCK ? cols - c0 : CT_SUM_ROWS_BLOCK);
        sum_rows_block(x, out, rows, cols, c0, width);
    }
}

CT_API void ct_sum_squares_cpu(const float* x, float* out, int64_t n) {
    // x: (n), out: (1)
    out[0] = (float)reduce_chunked(REDUCE_SUM_SQUARES, x, nullptr, nullptr, n);
}

CT_API void ct_mse_forward_cpu(const float* pred, const float* target, const float* weight, float* loss,
                               int64_t n) {
    // pred, target, weight: (n), loss: (1). The mean of nothing is NaN, as in torch.
    double total = reduce_chunked(REDUCE_SQUARED_ERROR, pred, target, weight, n);
    loss[0] = (float)(total / (double)n);
}

CT_API CT_MULTIVERSION void ct_mse_backward_cpu(const float* pred, const float* target, const float* weight,
                                                const float* dloss, float* dpred, int64_t n) {
    // pred, target, weight, dpred: (n), dloss: (1). d/dpred of (1/n) w (pred - target)^2 is (2/n) w (pred - target).
    if (n == 0) return;
    const float g = (float)((double)dloss[0] * 2.0 / (double)n);
    if (weight == nullptr) {
#pragma omp parallel for if (n > CT_PARALLEL_GRAIN)
        for (int64_t i = 0; i < n; i++) dpred[i] += g * (pred[i] - target[i]);
    } else {
#pragma omp parallel for if (n > CT_PARALLEL_GRAIN)
        for (int64_t i = 0; i < n; i++) dpred[i] += g * weight[i] * (pred[i] - target[i]);
    }
}

// One channel per task, its samples in order, each sample's HW pixels in a simd double sum: deterministic and
// independent of the thread count.
CT_API void ct_sum_channels_cpu(const float* x, float* out, int64_t n, int64_t c, int64_t hw) {
    // x: (N, C, HW), out: (C) accumulated
#pragma omp parallel for schedule(static) if (n * c * hw > CT_PARALLEL_GRAIN)
    for (int64_t ch = 0; ch < c; ch++) {
        double sum = 0.0;
        for (int64_t s = 0; s < n; s++) {
            const float* row = x + (s * c + ch) * hw;
            double part = 0.0;
#pragma omp simd reduction(+ : part)
            for (int64_t i = 0; i < hw; i++) part += row[i];
            sum += part;
        }
        out[ch] = (float)((double)out[ch] + sum);
    }
}

