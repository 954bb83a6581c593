// decoder_inference.h: the forward of one pre-norm transformer decoder layer, evaluation mode, in a single call:
// the denoising step of batch-1 sampling, where a layer is ~25 small ops on 16 tokens and the time went to calling
// them one by one (on the CPU: a parallel region and a JNI call per op, the second thread idle in between).
// The layer is torch.nn.TransformerDecoderLayer(C, NH, 4C, activation="gelu", batch_first=True, norm_first=True)
// without dropout (nn/TransformerDecoderLayer.java composes the same math from the single ops):
//
//   x1  = x  + out_proj_s(attention(norm1(x) Wq_s, norm1(x) Wk_s, norm1(x) Wv_s; causal or not))
//   x2  = x1 + out_proj_c(attention(norm2(x1) Wq_c, memory Wk_c, memory Wv_c; additive memory mask or none))
//   out = x2 + linear2(gelu(linear1(norm3(x2))))                                           written over x
//
// Every Linear here is y = a W^T + b with W stored (N, K); the weights come packed in panels (packed_linear.h).
// Pack once per sampling call (the weights are constant over its steps), never per step.
//
// Attention, layer norm and GELU are those of attention.h, layernorm.h (eps inside the square root, biased
// variance) and activation.h (exact erf form); the CPU products sum in another order than OpenBLAS, so results
// agree with the composed layer to float rounding, not bit for bit. A row of the result depends on nothing but its
// inputs: any thread count gives the same bits.
#ifndef COTRAIN_DECODER_INFERENCE_H
#define COTRAIN_DECODER_INFERENCE_H

#include "common.h"
#include "packed_linear.h"

// The params array of ct_decoder_layer_inference: one pointer per entry, in this order. _P entries are packed
// weights, the others plain vectors. Shapes: norms (C); SELF_IN_P packs in_proj_weight (3C, C) whole, SELF_IN_B
// (3C); CROSS_Q_P packs rows [0, C) of the cross-attention's in_proj_weight, CROSS_KV_P rows [C, 3C); CROSS_IN_B
// is its whole in_proj_bias (3C); OUT_P (C, C) with OUT_B (C); LINEAR1_P (4C, C), LINEAR1_B (4C); LINEAR2_P
// (C, 4C), LINEAR2_B (C).
enum {
    CT_DEC_NORM1_W, CT_DEC_NORM1_B, CT_DEC_SELF_IN_P, CT_DEC_SELF_IN_B, CT_DEC_SELF_OUT_P, CT_DEC_SELF_OUT_B,
    CT_DEC_NORM2_W, CT_DEC_NORM2_B, CT_DEC_CROSS_Q_P, CT_DEC_CROSS_KV_P, CT_DEC_CROSS_IN_B, CT_DEC_CROSS_OUT_P,
    CT_DEC_CROSS_OUT_B, CT_DEC_NORM3_W, CT_DEC_NORM3_B, CT_DEC_LINEAR1_P, CT_DEC_LINEAR1_B, CT_DEC_LINEAR2_P,
    CT_DEC_LINEAR2_B, CT_DEC_PARAMS
};

// Floats of ct_decoder_layer_inference's workspace for b sequences of t tokens and s memory tokens of width c.
CT_API int64_t ct_decoder_layer_workspace_size(int b, int t, int s, int c);

// x: (B, T, C), overwritten with the layer's output; memory: (B, S, C); params: CT_DEC_PARAMS pointers as above;
// memory_mask: additive (T, S) or NULL; causal: self-attention key j visible to query i when j <= i; NH heads of
// C / NH; eps: the norms' epsilon; workspace: ct_decoder_layer_workspace_size floats, not shared with any argument.
//
// Keys and values of the memory computed ahead (sampling hoists them out of the step loop: the condition tokens do
// not change during a sampling call, and the diffusion-step token takes one of a few known values):
// memory_kv: NULL, or (B, S, 2C), the memory already through rows [C, 3C) of the cross-attention's in-projection
// (keys, then values); memory and CROSS_KV_P are then not read. step_kv: NULL, or (2C): the keys and values of
// memory token 0 for every sequence of the batch (DP-T's step token), in place of memory_kv's token 0.
// The CUDA version takes C / NH <= 256, as attention.h, and returns cudaErrorInvalidValue above; its params array
// lives in host memory and holds device pointers.
CT_API void ct_decoder_layer_inference_cpu(float* x, const float* memory, const float* memory_kv, const float* step_kv,
                                           const float* const* params, const float* memory_mask, int causal, int b,
                                           int t, int s, int c, int nh, float eps, float* workspace);
CT_API int ct_decoder_layer_inference_cuda(float* x, const float* memory, const float* memory_kv,
                                           const float* step_kv, const float* const* params,
                                           const float* memory_mask, int causal, int b, int t, int s, int c, int nh,
                                           float eps, float* workspace, void* stream);

#endif
