// dropout.cu: CUDA twin of dropout.cpp. The keep decision is ct_philox_keep from philox.h (shared with the CPU),
// and the scale is the same float 1 / (1 - p) times the element, so both backends give bit-identical results.
#include "cotrain/dropout.h"
#include "cotrain/philox.h"
#include "cuda_common.cuh"

static const int DROPOUT_BLOCK = 256;

// x, y: (n), mask: (n) or NULL. y = keep ? x * scale : 0, mask = keep; scale = 1 / (1 - p)
__global__ void dropout_forward_kernel(const float* __restrict__ x, float* __restrict__ y,
                                       uint8_t* __restrict__ mask, int64_t n, float p, float scale, uint64_t seed,
                                       uint64_t offset) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const int keep = ct_philox_keep(seed, offset + (uint64_t)i, p);
        y[i] = keep ? x[i] * scale : 0.0f;
        if (mask != nullptr) mask[i] = (uint8_t)keep;
    }
}

// dy, dx: (n), mask: (n) or NULL. dx (+)= keep ? dy * scale : 0, keep from the mask or recomputed. __fmul_rn stops
// nvcc from contracting the multiply and the add into one FMA, so the product is rounded as on the CPU.
__global__ void dropout_backward_kernel(const float* __restrict__ dy, float* __restrict__ dx,
                                        const uint8_t* __restrict__ mask, int64_t n, float p, float scale,
                                        uint64_t seed, uint64_t offset, int accumulate) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const int keep = mask != nullptr ? mask[i] : ct_philox_keep(seed, offset + (uint64_t)i, p);
        const float g = keep ? __fmul_rn(dy[i], scale) : 0.0f;
        dx[i] = accumulate ? dx[i] + g : g;
    }
}

CT_API int ct_dropout_forward_cuda(const float* x, float* y, uint8_t* mask, int64_t n, float p, uint64_t seed,
                                   uint64_t offset, void* stream) {
    if (n <= 0) return 0;
    const float scale = 1.0f / (1.0f - p);  // on the host, as on the CPU backend
    dropout_forward_kernel<<<ct_grid_for(n, DROPOUT_BLOCK), DROPOUT_BLOCK, 0, CT_STREAM(stream)>>>(x, y, mask, n, p,
                                                                                                    scale, seed,
                                                                                                    offset);
    return ct_launch_status();
}

CT_API int ct_dropout_backward_cuda(const float* dy, float* dx, const uint8_t* mask, int64_t n, float p,
                                    uint64_t seed, uint64_t offset, int accumulate, void* stream) {
    if (n <= 0) return 0;
    const float scale = 1.0f / (1.0f - p);
    dropout_backward_kernel<<<ct_grid_for(n, DROPOUT_BLOCK), DROPOUT_BLOCK, 0, CT_STREAM(stream)>>>(
            dy, dx, mask, n, p, scale, seed, offset, accumulate);
    return ct_launch_status();
}
