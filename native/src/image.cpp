// image.cpp: CPU reference of image.h. Each output row (b, ch, i) reads one strided row of the source frame; rows
// are independent, so the loop is parallel over them.
#include <limits>

#include "cotrain/image.h"
#include "cotrain/image_common.h"
#include "cpu_common.h"

CT_API void ct_image_to_float_cpu(const uint8_t* images, const int32_t* offsets, float* out, int b, int h, int w,
                                  int c, int ho, int wo) {
    // images: (B, H, W, C) uint8; offsets: (B, 2) int32 or NULL; out: (B, C, Ho, Wo)
    if (b <= 0 || c <= 0 || ho <= 0 || wo <= 0) return;
    const int64_t rows = (int64_t)b * c * ho;
#pragma omp parallel for schedule(static) if (rows * wo > CT_PARALLEL_GRAIN)
    for (int64_t r = 0; r < rows; r++) {
        const int n = (int)(r / ((int64_t)c * ho));
        const int ch = (int)((r / ho) % c);
        const int i = (int)(r % ho);
        const int top = offsets != nullptr ? offsets[2 * n] : ct_center_crop_start(h, ho);
        const int left = offsets != nullptr ? offsets[2 * n + 1] : ct_center_crop_start(w, wo);
        float* dst = out + r * wo;
        if (top < 0 || top > h - ho || left < 0 || left > w - wo) {
            for (int j = 0; j < wo; j++) dst[j] = std::numeric_limits<float>::quiet_NaN();
            continue;
        }
        const uint8_t* src = images + (((int64_t)n * h + top + i) * w + left) * c + ch;
        for (int j = 0; j < wo; j++) dst[j] = ct_pixel_to_float(src[(int64_t)j * c]);
    }
}

CT_API void ct_random_crop_offsets_cpu(int32_t* offsets, int b, int h, int w, int ho, int wo, uint64_t seed,
                                       uint64_t offset) {
    // offsets: (B, 2) int32 = (top, left) per sample
    for (int n = 0; n < b; n++) {
        offsets[2 * n] = ct_random_crop_start(seed, offset + 2 * (uint64_t)n, h, ho);
        offsets[2 * n + 1] = ct_random_crop_start(seed, offset + 2 * (uint64_t)n + 1, w, wo);
    }
}
