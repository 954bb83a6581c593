// image.cu: CUDA kernels of image.h (the CPU reference is native/src/image.cpp); the pixel arithmetic, centre-crop
// rounding and random offsets are the shared functions of image_common.h, so both backends give the same bits.
//
// One thread per output element (b, ch, i, j): writes are coalesced; reads stride by C bytes within a source row,
// which the L1/L2 caches absorb (a whole 96x96x3 frame is 27 KB).
#include <math.h>

#include "cotrain/image.h"
#include "cotrain/image_common.h"
#include "cuda_common.cuh"

static constexpr int kBlock = 256;

__global__ void ct_image_to_float_kernel(const uint8_t* __restrict__ images, const int32_t* __restrict__ offsets,
                                         float* __restrict__ out, int64_t total, int h, int w, int c, int ho,
                                         int wo) {
    for (int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; idx < total;
         idx += (int64_t)gridDim.x * blockDim.x) {
        const int j = (int)(idx % wo);
        const int64_t row = idx / wo;  // (b, ch, i)
        const int i = (int)(row % ho);
        const int ch = (int)((row / ho) % c);
        const int64_t n = row / ((int64_t)ho * c);
        const int top = offsets != nullptr ? offsets[2 * n] : ct_center_crop_start(h, ho);
        const int left = offsets != nullptr ? offsets[2 * n + 1] : ct_center_crop_start(w, wo);
        if (top < 0 || top > h - ho || left < 0 || left > w - wo) {
            out[idx] = NAN;  // a bad offset poisons its sample instead of reading out of bounds
            continue;
        }
        out[idx] = ct_pixel_to_float(images[((n * h + top + i) * (int64_t)w + left + j) * c + ch]);
    }
}

__global__ void ct_random_crop_offsets_kernel(int32_t* __restrict__ offsets, int b, int h, int w, int ho, int wo,
                                              uint64_t seed, uint64_t offset) {
    const int n = blockIdx.x * blockDim.x + threadIdx.x;
    if (n >= b) return;
    offsets[2 * n] = ct_random_crop_start(seed, offset + 2 * (uint64_t)n, h, ho);
    offsets[2 * n + 1] = ct_random_crop_start(seed, offset + 2 * (uint64_t)n + 1, w, wo);
}

CT_API int ct_image_to_float_cuda(const uint8_t* images, const int32_t* offsets, float* out, int b, int h, int w,
                                  int c, int ho, int wo, void* stream) {
    if (b <= 0 || c <= 0 || ho <= 0 || wo <= 0) return 0;
    const int64_t total = (int64_t)b * c * ho * wo;
    ct_image_to_float_kernel<<<ct_grid_for(total, kBlock), kBlock, 0, CT_STREAM(stream)>>>(images, offsets, out,
                                                                                           total, h, w, c, ho, wo);
    return ct_launch_status();
}

CT_API int ct_random_crop_offsets_cuda(int32_t* offsets, int b, int h, int w, int ho, int wo, uint64_t seed,
                                       uint64_t offset, void* stream) {
    if (b <= 0) return 0;
    ct_random_crop_offsets_kernel<<<(unsigned int)((b + kBlock - 1) / kBlock), kBlock, 0, CT_STREAM(stream)>>>(
        offsets, b, h, w, ho, wo, seed, offset);
    return ct_launch_status();
}
