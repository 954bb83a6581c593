// image.h: camera images into the encoder's input, in one pass: uint8 (B, H, W, C) HWC frames, as the robomimic
// HDF5 datasets store them, to float (B, C, Ho, Wo) NCHW, cropped per sample and normalised as Diffusion Policy does
// (x / 255, then DP's image range normaliser to [-1, 1]):
//   out[b, ch, i, j] = (images[b, top_b + i, left_b + j, ch] / 255) * 2 - 1        (float32, in that order)
// with (top_b, left_b) = offsets[b, 0..1]; offsets == NULL means the centre crop of evaluation, as DP's
// CropRandomizer takes it (torchvision's center_crop): top = round((H - Ho) / 2), rounding halves to even as
// Python's round() does (13 / 2 = 6.5 -> 6, 15 / 2 = 7.5 -> 8); left likewise.
// An offset outside [0, H - Ho] x [0, W - Wo] gives NaN for that sample instead of a read out of bounds (the CPU's
// Ops checks host offsets; on the GPU the kernel guards them, as embedding.h does its indices).
//
// Training crops: ct_random_crop_offsets draws robomimic's CropRandomizer offsets from Philox:
//   offsets[b, 0] = randint(seed, offset + 2 b,     0, max(H - Ho, 1))
//   offsets[b, 1] = randint(seed, offset + 2 b + 1, 0, max(W - Wo, 1))
// i.e. top in [0, H - Ho) as robomimic's (H - Ho) * rand() truncated (which never takes the last offset H - Ho),
// and 0 when the crop is the whole image. Images must be at least as large as the crop (checked in Ops).
#ifndef COTRAIN_IMAGE_H
#define COTRAIN_IMAGE_H

#include "common.h"

CT_API void ct_image_to_float_cpu(const uint8_t* images, const int32_t* offsets, float* out, int b, int h, int w,
                                  int c, int ho, int wo);
CT_API int ct_image_to_float_cuda(const uint8_t* images, const int32_t* offsets, float* out, int b, int h, int w,
                                  int c, int ho, int wo, void* stream);

CT_API void ct_random_crop_offsets_cpu(int32_t* offsets, int b, int h, int w, int ho, int wo, uint64_t seed,
                                       uint64_t offset);
CT_API int ct_random_crop_offsets_cuda(int32_t* offsets, int b, int h, int w, int ho, int wo, uint64_t seed,
                                       uint64_t offset, void* stream);

#endif
