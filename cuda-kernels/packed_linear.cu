// packed_linear.cu: CUDA version of packed_linear.h (packing, and the product of panel_product.cuh).
#include "cotrain/packed_linear.h"
#include "cuda_common.cuh"
#include "panel_product.cuh"

namespace {

__global__ void pack_panels_kernel(const float* w, float* packed, int row0, int rows, int k, int64_t total) {
    for (int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += (int64_t)gridDim.x * blockDim.x) {
        const int j = (int)(idx % CT_PANEL);
        const int64_t pk = idx / CT_PANEL;  // p * k + kk
        const int kk = (int)(pk % k);
        const int r = (int)(pk / k) * CT_PANEL + j;
        packed[idx] = r < rows ? w[(int64_t)(row0 + r) * k + kk] : 0.0f;
    }
}

}  // namespace

CT_API int ct_pack_panels_cuda(const float* w, float* packed, int row0, int rows, int k, void* stream) {
    const int64_t total = (int64_t)((rows + CT_PANEL - 1) / CT_PANEL) * CT_PANEL * k;  // ct_packed_panels_size
    if (total <= 0) return 0;
    pack_panels_kernel<<<ct_grid_for(total, 256), 256, 0, CT_STREAM(stream)>>>(w, packed, row0, rows, k, total);
    return ct_launch_status();
}

CT_API int ct_packed_linear_cuda(const float* a, const float* packed, const float* bias, float* c, int m, int n,
                                 int k, void* stream) {
    return launch_panel_product<STORE>(a, m, k, packed, bias, c, n, CT_STREAM(stream));
}
