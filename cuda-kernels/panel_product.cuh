// panel_product.cuh: the product of packed_linear.h on the GPU, shared by packed_linear.cu and
// decoder_inference.cu. A block of 32 x 8 threads computes 8 rows x one panel of 32 columns; lane j of a warp owns
// column j, so the warp reads a row of the panel (32 contiguous floats) per k, and the A element it multiplies is the
// same for the whole warp (a broadcast). At a few dozen rows the products are bound by streaming the weights, which
// this reads once per 8 rows, in order.
#ifndef COTRAIN_PANEL_PRODUCT_CUH
#define COTRAIN_PANEL_PRODUCT_CUH

#include "cotrain/packed_linear.h"
#include "cuda_common.cuh"

namespace {

constexpr int kRowsPerBlock = 8;  // product rows per block (blockDim.y)
enum Epilogue { STORE, GELU, ADD };  // c = v, c = gelu(v), c += v, with v = a W^T + bias

// c (m, n) (op)= a (m, k) W^T + bias, W packed; grid (panels, ceil(m / 8)), block (32, 8)
template <int E>
__global__ void panel_product_kernel(const float* a, int m, int k, const float* packed, const float* bias, float* c,
                                     int n) {
    const int col = blockIdx.x * CT_PANEL + threadIdx.x;
    const int row = blockIdx.y * kRowsPerBlock + threadIdx.y;
    if (row >= m) return;
    const float* panel = packed + (int64_t)blockIdx.x * k * CT_PANEL + threadIdx.x;
    const float* ar = a + (int64_t)row * k;
    float acc = 0.0f;
    for (int kk = 0; kk < k; kk++) acc = fmaf(ar[kk], panel[(int64_t)kk * CT_PANEL], acc);
    if (col >= n) return;
    float v = acc + bias[col];
    float* cr = c + (int64_t)row * n + col;
    if (E == GELU) v = 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
    if (E == ADD) {
        *cr += v;
    } else {
        *cr = v;
    }
}

template <int E>
int launch_panel_product(const float* a, int m, int k, const float* packed, const float* bias, float* c, int n,
                         cudaStream_t stream) {
    if (m <= 0 || n <= 0) return 0;
    dim3 grid((n + CT_PANEL - 1) / CT_PANEL, (m + kRowsPerBlock - 1) / kRowsPerBlock);
    panel_product_kernel<E><<<grid, dim3(CT_PANEL, kRowsPerBlock), 0, stream>>>(a, m, k, packed, bias, c, n);
    return ct_launch_status();
}

}  // namespace

#endif
