package org.cotrain.nativelib;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP binding of the CUDA backend, libcotrain_cuda: the ct_*_cuda functions of native/include/cotrain and the
 * device functions of device.h. Every function returns 0 or a cudaError_t code, turned into a
 * {@link org.cotrain.backend.CudaException} by {@link org.cotrain.backend.CudaBackend}. Streams are
 * {@code cudaStream_t} passed as untyped pointers. Built only where nvcc was found; on other builds loading this
 * class fails and the backend probe says so.
 */
@Platform(
        include = {"cotrain/common.h", "cotrain/device.h", "cotrain/rng.h", "cotrain/elementwise.h",
                "cotrain/activation.h", "cotrain/layernorm.h", "cotrain/softmax.h", "cotrain/dropout.h",
                "cotrain/embedding.h", "cotrain/reduce.h", "cotrain/optim.h", "cotrain/attention.h",
                "cotrain/spatial_softmax.h", "cotrain/ddpm.h", "cotrain/permute.h", "cotrain/ambient.h",
                "cotrain/bce.h", "cotrain/maxpool.h", "cotrain/groupnorm.h", "cotrain/image.h",
                "cotrain/packed_linear.h", "cotrain/decoder_inference.h", "cotrain/film.h"},
        link = "cotrain_cuda")
public final class CudaKernels {
    private CudaKernels() {}

    static {
        Loader.load();
    }

    /** Loads libcotrain_cuda and its JNI glue; throws UnsatisfiedLinkError where it was not built. */
    public static void load() {
        Loader.load(CudaKernels.class);
    }

    // device.h
    public static native String ct_cuda_error_string(int error);
    public static native int ct_cuda_device_count(IntPointer count);
    public static native int ct_cuda_set_device(int device);
    public static native int ct_cuda_device_properties(int device, @Cast("char*") BytePointer name, int nameLen,
                                                       IntPointer major, IntPointer minor,
                                                       @Cast("int64_t*") LongPointer totalMemory,
                                                       IntPointer multiprocessors);
    public static native int ct_cuda_memory_info(@Cast("int64_t*") LongPointer freeBytes,
                                                 @Cast("int64_t*") LongPointer totalBytes);
    public static native int ct_cuda_runtime_version(IntPointer version);
    public static native int ct_cuda_driver_version(IntPointer version);
    public static native int ct_cuda_malloc(@Cast("void**") PointerPointer ptr, long bytes);
    public static native int ct_cuda_free(Pointer ptr);
    public static native int ct_cuda_memset_async(Pointer ptr, int value, long bytes, Pointer stream);
    public static native int ct_cuda_memcpy_h2d_async(Pointer dst, @Cast("const void*") Pointer src, long bytes,
                                                      Pointer stream);
    public static native int ct_cuda_memcpy_d2h_async(Pointer dst, @Cast("const void*") Pointer src, long bytes,
                                                      Pointer stream);
    public static native int ct_cuda_memcpy_d2d_async(Pointer dst, @Cast("const void*") Pointer src, long bytes,
                                                      Pointer stream);
    public static native int ct_cuda_stream_create(@Cast("void**") PointerPointer stream);
    public static native int ct_cuda_stream_destroy(Pointer stream);
    public static native int ct_cuda_stream_synchronize(Pointer stream);
    public static native int ct_cuda_device_synchronize();
    public static native int ct_cuda_get_last_error();
    public static native int ct_cuda_noop_kernel(Pointer stream);

    // The ops, in header order. The matrix product itself goes through cuBLAS (CudaBackend).
    public static native int ct_rng_uniform_cuda(@Cast("float*") Pointer out, long n, long seed, long offset, Pointer stream);
    public static native int ct_rng_normal_cuda(@Cast("float*") Pointer out, long n, long seed, long offset, Pointer stream);
    public static native int ct_rng_randint_cuda(@Cast("int32_t*") Pointer out, long n, int low, int high, long seed, long offset, Pointer stream);
    public static native int ct_fill_cuda(@Cast("float*") Pointer out, float value, long n, Pointer stream);
    public static native int ct_axpby_cuda(@Cast("const float*") Pointer a, @Cast("const float*") Pointer b, @Cast("float*") Pointer out, float alpha, float beta, long n, Pointer stream);
    public static native int ct_mul_cuda(@Cast("const float*") Pointer a, @Cast("const float*") Pointer b, @Cast("float*") Pointer out, long n, Pointer stream);
    public static native int ct_add_broadcast_cuda(@Cast("const float*") Pointer a, @Cast("const float*") Pointer b, @Cast("float*") Pointer out, long rows, long cols, Pointer stream);
    public static native int ct_gelu_forward_cuda(@Cast("const float*") Pointer x, @Cast("float*") Pointer y, long n, Pointer stream);
    public static native int ct_gelu_backward_cuda(@Cast("const float*") Pointer x, @Cast("const float*") Pointer dy, @Cast("float*") Pointer dx, long n, Pointer stream);
    public static native int ct_mish_forward_cuda(@Cast("const float*") Pointer x, @Cast("float*") Pointer y, long n, Pointer stream);
    public static native int ct_mish_backward_cuda(@Cast("const float*") Pointer x, @Cast("const float*") Pointer dy, @Cast("float*") Pointer dx, long n, Pointer stream);
    public static native int ct_relu_forward_cuda(@Cast("const float*") Pointer x, @Cast("float*") Pointer y, long n, Pointer stream);
    public static native int ct_relu_backward_cuda(@Cast("const float*") Pointer x, @Cast("const float*") Pointer dy, @Cast("float*") Pointer dx, long n, Pointer stream);
    public static native int ct_layernorm_forward_cuda(@Cast("const float*") Pointer x, @Cast("const float*") Pointer weight, @Cast("const float*") Pointer bias, @Cast("float*") Pointer y, @Cast("float*") Pointer mean, @Cast("float*") Pointer rstd, long rows, int c, float eps, Pointer stream);
    public static native int ct_layernorm_backward_cuda(@Cast("const float*") Pointer dy, @Cast("const float*") Pointer x, @Cast("const float*") Pointer weight, @Cast("const float*") Pointer mean, @Cast("const float*") Pointer rstd, @Cast("float*") Pointer dx, @Cast("float*") Pointer dweight, @Cast("float*") Pointer dbias, long rows, int c, Pointer stream);
    public static native int ct_softmax_forward_cuda(@Cast("const float*") Pointer x, @Cast("float*") Pointer y, long rows, int cols, Pointer stream);
    public static native int ct_softmax_backward_cuda(@Cast("const float*") Pointer y, @Cast("const float*") Pointer dy, @Cast("float*") Pointer dx, long rows, int cols, Pointer stream);
    public static native int ct_dropout_forward_cuda(@Cast("const float*") Pointer x, @Cast("float*") Pointer y, @Cast("uint8_t*") Pointer mask, long n, float p, long seed, long offset, Pointer stream);
    public static native int ct_dropout_backward_cuda(@Cast("const float*") Pointer dy, @Cast("float*") Pointer dx, @Cast("const uint8_t*") Pointer mask, long n, float p, long seed, long offset, int accumulate, Pointer stream);
    public static native int ct_embedding_forward_cuda(@Cast("const float*") Pointer table, @Cast("const int32_t*") Pointer index, @Cast("float*") Pointer out, long n, int v, int c, Pointer stream);
    public static native int ct_embedding_backward_cuda(@Cast("const float*") Pointer dout, @Cast("const int32_t*") Pointer index, @Cast("float*") Pointer dtable, long n, int v, int c, Pointer stream);
    public static native int ct_sinusoidal_embedding_cuda(@Cast("const float*") Pointer t, @Cast("float*") Pointer out, long n, int dim, Pointer stream);
    public static native int ct_sum_cuda(@Cast("const float*") Pointer x, @Cast("float*") Pointer out, long n, float scale, Pointer stream);
    public static native int ct_sum_backward_cuda(@Cast("const float*") Pointer dout, @Cast("float*") Pointer dx, long n, float scale, Pointer stream);
    public static native int ct_sum_rows_cuda(@Cast("const float*") Pointer x, @Cast("float*") Pointer out, long rows, long cols, Pointer stream);
    public static native int ct_sum_channels_cuda(@Cast("const float*") Pointer x, @Cast("float*") Pointer out, long n, long c, long hw, Pointer stream);
    public static native int ct_sum_squares_cuda(@Cast("const float*") Pointer x, @Cast("float*") Pointer out, long n, Pointer stream);
    public static native int ct_mse_forward_cuda(@Cast("const float*") Pointer pred, @Cast("const float*") Pointer target, @Cast("const float*") Pointer weight, @Cast("float*") Pointer loss, long n, Pointer stream);
    public static native int ct_mse_backward_cuda(@Cast("const float*") Pointer pred, @Cast("const float*") Pointer target, @Cast("const float*") Pointer weight, @Cast("const float*") Pointer dloss, @Cast("float*") Pointer dpred, long n, Pointer stream);
    public static native int ct_adamw_step_cuda(@Cast("float*") Pointer param, @Cast("const float*") Pointer grad, @Cast("float*") Pointer m, @Cast("float*") Pointer v, long n, float lr, float beta1, float beta2, float eps, float weightDecay, float biasCorrection1, float biasCorrection2, float gradScale, Pointer stream);
    public static native int ct_ema_update_cuda(@Cast("float*") Pointer ema, @Cast("const float*") Pointer param, long n, float decay, Pointer stream);
    // packed_linear.h
    public static native int ct_pack_panels_cuda(@Cast("const float*") Pointer w, @Cast("float*") Pointer packed, int row0, int rows, int k, Pointer stream);
    public static native int ct_packed_linear_cuda(@Cast("const float*") Pointer a, @Cast("const float*") Pointer packed, @Cast("const float*") Pointer bias, @Cast("float*") Pointer c, int m, int n, int k, Pointer stream);
    // decoder_inference.h (params: a host array of device pointers)
    public static native int ct_decoder_layer_inference_cuda(@Cast("float*") Pointer x, @Cast("const float*") Pointer memory, @Cast("const float*") Pointer memoryKv, @Cast("const float*") Pointer stepKv, @Cast("const float* const*") PointerPointer<?> params, @Cast("const float*") Pointer memoryMask, int causal, int b, int t, int s, int c, int nh, float eps, @Cast("float*") Pointer workspace, Pointer stream);
    public static native int ct_attention_forward_cuda(@Cast("const float*") Pointer q, @Cast("const float*") Pointer k, @Cast("const float*") Pointer v, @Cast("const float*") Pointer mask, @Cast("float*") Pointer out, @Cast("float*") Pointer lse, int b, int nh, int tq, int tk, int hs, float scale, int causal, float pDrop, long seed, long offset, Pointer stream);
    public static native int ct_attention_backward_cuda(@Cast("const float*") Pointer dout, @Cast("const float*") Pointer q, @Cast("const float*") Pointer k, @Cast("const float*") Pointer v, @Cast("const float*") Pointer mask, @Cast("const float*") Pointer out, @Cast("const float*") Pointer lse, @Cast("float*") Pointer dq, @Cast("float*") Pointer dk, @Cast("float*") Pointer dv, int b, int nh, int tq, int tk, int hs, float scale, int causal, float pDrop, long seed, long offset, Pointer stream);
    public static native int ct_spatial_softmax_forward_cuda(@Cast("const float*") Pointer x, @Cast("float*") Pointer out, long n, int h, int w, float temperature, Pointer stream);
    public static native int ct_spatial_softmax_backward_cuda(@Cast("const float*") Pointer x, @Cast("const float*") Pointer out, @Cast("const float*") Pointer dout, @Cast("float*") Pointer dx, long n, int h, int w, float temperature, Pointer stream);
    public static native int ct_ddpm_add_noise_cuda(@Cast("const float*") Pointer x0, @Cast("const float*") Pointer eps, @Cast("const int32_t*") Pointer t, @Cast("const float*") Pointer abar, int numTimesteps, @Cast("float*") Pointer xt, int b, long n, Pointer stream);
    public static native int ct_ddpm_step_cuda(@Cast("const float*") Pointer model, @Cast("const float*") Pointer xt, @Cast("const int32_t*") Pointer t, @Cast("const int32_t*") Pointer prevT, @Cast("const float*") Pointer abar, int numTimesteps, int predictionType, int clip, float clipRange, @Cast("const float*") Pointer noise, long seed, long offset, @Cast("float*") Pointer out, int b, long n, Pointer stream);
    public static native int ct_ddim_step_cuda(@Cast("const float*") Pointer model, @Cast("const float*") Pointer xt, @Cast("const int32_t*") Pointer t, @Cast("const int32_t*") Pointer prevT, @Cast("const float*") Pointer abar, int numTimesteps, float finalAbar, float eta, int predictionType, int clip, float clipRange, int useClippedModelOutput, @Cast("const float*") Pointer noise, long seed, long offset, @Cast("float*") Pointer out, int b, long n, Pointer stream);
    public static native int ct_split_heads_cuda(@Cast("const float*") Pointer x, @Cast("float*") Pointer out, int b, int t, int nh, int hs, long w, long col, int accumulate, Pointer stream);
    public static native int ct_merge_heads_cuda(@Cast("const float*") Pointer y, @Cast("float*") Pointer x, int b, int t, int nh, int hs, long w, long col, int accumulate, Pointer stream);
    public static native int ct_ambient_batch_cuda(@Cast("const float*") Pointer x0, @Cast("const float*") Pointer eps, @Cast("const float*") Pointer z, @Cast("const int32_t*") Pointer t, @Cast("const int32_t*") Pointer tn, @Cast("const float*") Pointer abar, int numTimesteps, int predictionType, int weighting, @Cast("float*") Pointer xt, @Cast("float*") Pointer target, @Cast("float*") Pointer weight, int b, long n, Pointer stream);
    public static native int ct_bce_logits_forward_cuda(@Cast("const float*") Pointer x, @Cast("const float*") Pointer y, @Cast("float*") Pointer out, long n, Pointer stream);
    public static native int ct_bce_logits_backward_cuda(@Cast("const float*") Pointer x, @Cast("const float*") Pointer y, @Cast("const float*") Pointer dloss, @Cast("float*") Pointer dx, long n, float scale, Pointer stream);

    public static native int ct_add_relu_forward_cuda(@Cast("const float*") Pointer a, @Cast("const float*") Pointer b, @Cast("float*") Pointer y, long n, Pointer stream);
    public static native int ct_maxpool2d_forward_cuda(@Cast("const float*") Pointer x, @Cast("float*") Pointer y, @Cast("int32_t*") Pointer argmax, long planes, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, Pointer stream);
    public static native int ct_maxpool2d_backward_cuda(@Cast("const float*") Pointer dy, @Cast("const int32_t*") Pointer argmax, @Cast("float*") Pointer dx, long planes, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, Pointer stream);
    public static native int ct_groupnorm_forward_cuda(@Cast("const float*") Pointer x, @Cast("const float*") Pointer weight, @Cast("const float*") Pointer bias, @Cast("float*") Pointer y, @Cast("float*") Pointer mean, @Cast("float*") Pointer rstd, int n, int c, long hw, int groups, float eps, Pointer stream);
    public static native int ct_groupnorm_backward_cuda(@Cast("const float*") Pointer dy, @Cast("const float*") Pointer x, @Cast("const float*") Pointer weight, @Cast("const float*") Pointer mean, @Cast("const float*") Pointer rstd, @Cast("float*") Pointer dx, @Cast("float*") Pointer dweight, @Cast("float*") Pointer dbias, int n, int c, long hw, int groups, Pointer stream);
    public static native int ct_groupnorm_mish_forward_cuda(@Cast("const float*") Pointer x, @Cast("const float*") Pointer weight, @Cast("const float*") Pointer bias, @Cast("float*") Pointer y, @Cast("float*") Pointer mean, @Cast("float*") Pointer rstd, int n, int c, long hw, int groups, float eps, Pointer stream);
    public static native int ct_groupnorm_mish_backward_cuda(@Cast("const float*") Pointer dy, @Cast("const float*") Pointer x, @Cast("const float*") Pointer weight, @Cast("const float*") Pointer bias, @Cast("const float*") Pointer mean, @Cast("const float*") Pointer rstd, @Cast("float*") Pointer dx, @Cast("float*") Pointer dweight, @Cast("float*") Pointer dbias, int n, int c, long hw, int groups, Pointer stream);

    // film.h
    public static native int ct_film_forward_cuda(@Cast("const float*") Pointer x, @Cast("const float*") Pointer cond, @Cast("float*") Pointer y, int b, int c, long t, int hasScale, Pointer stream);
    public static native int ct_film_backward_cuda(@Cast("const float*") Pointer dy, @Cast("const float*") Pointer x, @Cast("const float*") Pointer cond, @Cast("float*") Pointer dx, @Cast("float*") Pointer dcond, int b, int c, long t, int hasScale, Pointer stream);
    public static native int ct_image_to_float_cuda(@Cast("const uint8_t*") Pointer images, @Cast("const int32_t*") Pointer offsets, @Cast("float*") Pointer out, int b, int h, int w, int c, int ho, int wo, Pointer stream);
    public static native int ct_random_crop_offsets_cuda(@Cast("int32_t*") Pointer offsets, int b, int h, int w, int ho, int wo, long seed, long offset, Pointer stream);
}
