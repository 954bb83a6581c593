// packed_linear.h: y = a W^T + bias for a few rows of a (batch-1 inference: 16 action tokens, 3 condition tokens),
// with the weight W (N, K) packed beforehand in panels of CT_PANEL output columns: panel p holds K rows of
// CT_PANEL contiguous floats, packed[(p * K + k) * CT_PANEL + j] = W[p * CT_PANEL + j][k], zero beyond N. A
// product then streams each weight once, in address order, and sums each output along k in registers, with no
// horizontal sums (native/src/panel_product.h). Pack once while the weights stay the same (a sampling call), not
// per product. The fused decoder layer (decoder_inference.h) takes its weights in this layout too.
#ifndef COTRAIN_PACKED_LINEAR_H
#define COTRAIN_PACKED_LINEAR_H

#include "common.h"

#define CT_PANEL 32

// Floats of a packed (rows, k) weight: ceil(rows / CT_PANEL) * CT_PANEL * k.
CT_API int64_t ct_packed_panels_size(int rows, int k);

// packed <- rows [row0, row0 + rows) of w (n_total, k), in panels: packed[(p * k + kk) * CT_PANEL + j] =
// w[(row0 + p * CT_PANEL + j) * k + kk] while p * CT_PANEL + j < rows, else 0.
CT_API void ct_pack_panels_cpu(const float* w, float* packed, int row0, int rows, int k);
CT_API int ct_pack_panels_cuda(const float* w, float* packed, int row0, int rows, int k, void* stream);

// c (M, N) = a (M, K) W^T + bias (N), W packed as above (ct_packed_panels_size(N, K) floats); all dense row-major.
// Any M works; the kernels are made for the few rows of batch-1 sampling (the weights stream once per 8 rows).
CT_API void ct_packed_linear_cpu(const float* a, const float* packed, const float* bias, float* c, int m, int n,
                                 int k);
CT_API int ct_packed_linear_cuda(const float* a, const float* packed, const float* bias, float* c, int m, int n,
                                 int k, void* stream);

#endif
