// conv2d.h: 2-D convolution over NCHW float32 as torch.nn.functional.conv2d(x, w, bias, stride, padding) with
// groups = 1 and dilation = 1 (a cross-correlation, as in PyTorch; zero padding).
//
//   Ho = (H + 2 PH - KH) / SH + 1,  Wo = (W + 2 PW - KW) / SW + 1   (floor)
//   forward:       y[n, co, i, j] = bias[co] + sum_{ci, u, v} w[co, ci, u, v] x[n, ci, i SH - PH + u, j SW - PW + v]
//                  (x is zero outside the image)
//   backward data: dx[n, ci, r, c] += sum of w[co, ci, u, v] dy[n, co, i, j] over every (co, u, v, i, j) with
//                  r = i SH - PH + u and c = j SW - PW + v
//   backward weight: dw[co, ci, u, v] += sum_{n, i, j} dy[n, co, i, j] x[n, ci, i SH - PH + u, j SW - PW + v]
//                  dbias[co] += sum_{n, i, j} dy[n, co, i, j]   (dbias may be NULL)
// x, dx: (N, CI, H, W); w, dw: (CO, CI, KH, KW); bias, dbias: (CO) or NULL; y, dy: (N, CO, Ho, Wo).
// The two backward halves are separate calls: the first layer of an encoder needs no dx, a frozen one no dw.
//
// CPU: im2col + OpenBLAS GEMM, parallelised the way matmul.cpp does it (one OpenMP pool, OpenBLAS single-threaded).
// With K = CI KH KW and P = Ho Wo, column p of the (K, P) matrix col holds the input patch under output pixel p, so
// that y[n] (CO, P) = w (CO, K) col (K, P). A 1x1 convolution with stride 1 and no padding needs no im2col (col is
// x[n] itself). Two strategies, chosen by measurement (benchmarks/RESULTS.md):
//   PER_SAMPLE: samples in parallel, one per OpenMP thread at a time, each with its own im2col buffer and a
//               single-threaded GEMM per sample (no copies beyond im2col; the weight gradient sums per-thread
//               partials in a fixed order).
//   BATCHED:    groups of samples side by side in one wide col (K, G P), one GEMM per group split over the threads.
//               Deep layers have tiny maps (P = 9 for a 3x3 map), where a per-sample GEMM has a skinny dimension of 9;
//               batching makes it G P wide, at the price of gathering dy and scattering y to and from (CO, G P).
// AUTO picks per call (see conv2d.cpp). Every strategy gives the same result for a given thread count, run to run.
// Scratch memory (im2col buffers, a few tens of MB at ResNet18 sizes and batch 64) is kept per calling thread and
// reused across calls, so that large buffers are not page-faulted in on every call.
//
// CUDA: cuDNN, called from Java (org.cotrain.backend.CudaBackend) through the org.bytedeco:cuda preset, like cuBLAS
// for matmul.h; there is no ct_conv2d_*_cuda.
#ifndef COTRAIN_CONV2D_H
#define COTRAIN_CONV2D_H

#include "common.h"

#define CT_CONV_AUTO 0
#define CT_CONV_PER_SAMPLE 1
#define CT_CONV_BATCHED 2

CT_API void ct_conv2d_forward_cpu(const float* x, const float* w, const float* bias, float* y, int n, int ci, int h,
                                  int wi, int co, int kh, int kw, int sh, int sw, int ph, int pw);
CT_API void ct_conv2d_backward_data_cpu(const float* dy, const float* w, float* dx, int n, int ci, int h, int wi,
                                        int co, int kh, int kw, int sh, int sw, int ph, int pw);
CT_API void ct_conv2d_backward_weight_cpu(const float* dy, const float* x, float* dw, float* dbias, int n, int ci,
                                          int h, int wi, int co, int kh, int kw, int sh, int sw, int ph, int pw);

// Forces one CPU strategy for every later call (CT_CONV_PER_SAMPLE or CT_CONV_BATCHED), or back to CT_CONV_AUTO:
// for the benchmarks that choose between them, and for tests that cover both. Process-wide.
CT_API void ct_conv2d_cpu_set_strategy(int strategy);
CT_API int ct_conv2d_cpu_get_strategy(void);

#endif
