// image_common.h: the per-pixel arithmetic of image.h, shared by the CPU and CUDA code so that both give the same
// bits. Header-only, host and device.
#ifndef COTRAIN_IMAGE_COMMON_H
#define COTRAIN_IMAGE_COMMON_H

#include <stdint.h>

#include "philox.h"

// The centre crop's first row (or column) for a crop of `out` out of `size`: round((size - out) / 2) with halves
// to even, as torchvision's center_crop computes it through Python's round().
CT_HD int ct_center_crop_start(int size, int out) {
    const int d = size - out;
    const int half = d / 2;
    if (d % 2 == 0) return half;
    return half % 2 == 0 ? half : half + 1;  // d / 2 = half + 0.5: to the even neighbour
}

// uint8 pixel to DP's normalised float: x / 255, then the range normaliser's * 2 - 1.
CT_HD float ct_pixel_to_float(uint8_t v) { return ((float)v / 255.0f) * 2.0f - 1.0f; }

// robomimic's random crop start in [0, max(size - out, 1)).
CT_HD int32_t ct_random_crop_start(uint64_t seed, uint64_t index, int size, int out) {
    const int32_t range = size - out > 1 ? size - out : 1;
    return ct_philox_randint(seed, index, 0, range);
}

#endif
