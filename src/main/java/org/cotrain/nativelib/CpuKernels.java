package org.cotrain.nativelib;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP binding of the CPU backend, libcotrain_cpu: one Java declaration per C function of the headers in
 * native/include/cotrain, same name, same argument order. The javacpp Maven plugin generates the JNI glue from
 * this class. Nothing here checks its arguments: call through {@link org.cotrain.ops.Ops}, which does.
 *
 * <p>Pointers are untyped here ({@code const float*} is a {@link Pointer} cast in C), because a tensor's storage
 * is one {@link Pointer} whatever its element type.
 */
@Platform(
        include = {"cotrain/common.h", "cotrain/rng.h", "cotrain/matmul.h", "cotrain/elementwise.h",
                "cotrain/activation.h", "cotrain/layernorm.h", "cotrain/softmax.h", "cotrain/dropout.h",
                "cotrain/embedding.h", "cotrain/reduce.h", "cotrain/optim.h", "cotrain/attention.h",
                "cotrain/spatial_softmax.h", "cotrain/ddpm.h", "cotrain/permute.h", "cotrain/ambient.h",
                "cotrain/bce.h", "cotrain/conv2d.h", "cotrain/maxpool.h", "cotrain/groupnorm.h", "cotrain/image.h",
                "cotrain/packed_linear.h", "cotrain/decoder_inference.h", "cotrain/film.h"},
        link = "cotrain_cpu")
public final class CpuKernels {
    private CpuKernels() {}

    /** Loads libcotrain_cpu, OpenBLAS and the JNI glue (also done on first use of any method). */
    public static void load() {
        Loader.load(CpuKernels.class);
    }

    static {
        // libcotrain_cpu needs libopenblas.so.0: load the one inside the openblas jar first, so that the dynamic
        // linker finds it by soname when it loads ours.
        Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class);
        Loader.load();
    }

    // common.h
    public static native String ct_version();
    public static native void ct_cpu_set_num_threads(int n);
    public static native int ct_cpu_get_num_threads();
    public static native void ct_noop();

    // rng.h
    public static native void ct_rng_uniform_cpu(@Cast("float*") Pointer out, long n, long seed, long offset);
    public static native void ct_rng_normal_cpu(@Cast("float*") Pointer out, long n, long seed, long offset);
    public static native void ct_rng_randint_cpu(@Cast("int32_t*") Pointer out, long n, int low, int high,
                                                 long seed, long offset);

    // matmul.h
    public static native void ct_matmul_cpu(@Cast("const float*") Pointer a, @Cast("const float*") Pointer b,
                                            @Cast("const float*") Pointer bias, @Cast("float*") Pointer c,
                                            int batch, int m, int n, int k, int transA, int transB,
                                            long strideA, long strideB, long strideC, float alpha, float beta);
    public static native void ct_blas_set_num_threads(int n);
    public static native String ct_blas_core();
    public static native int ct_blas_avx512_unused();
    public static native int ct_matmul_set_isa(int maxLevel);

    // elementwise.h
    public static native void ct_fill_cpu(@Cast("float*") Pointer out, float value, long n);
    public static native void ct_axpby_cpu(@Cast("const float*") Pointer a, @Cast("const float*") Pointer b,
                                           @Cast("float*") Pointer out, float alpha, float beta, long n);
    public static native void ct_mul_cpu(@Cast("const float*") Pointer a, @Cast("const float*") Pointer b,
                                         @Cast("float*") Pointer out, long n);
    public static native void ct_add_broadcast_cpu(@Cast("const float*") Pointer a, @Cast("const float*") Pointer b,
                                                   @Cast("float*") Pointer out, long rows, long cols);

    // activation.h
    public static native void ct_gelu_forward_cpu(@Cast("const float*") Pointer x, @Cast("float*") Pointer y, long n);
    public static native void ct_gelu_backward_cpu(@Cast("const float*") Pointer x, @Cast("const float*") Pointer dy,
                                                   @Cast("float*") Pointer dx, long n);
    public static native void ct_mish_forward_cpu(@Cast("const float*") Pointer x, @Cast("float*") Pointer y, long n);
    public static native void ct_mish_backward_cpu(@Cast("const float*") Pointer x, @Cast("const float*") Pointer dy,
                                                   @Cast("float*") Pointer dx, long n);
    public static native void ct_relu_forward_cpu(@Cast("const float*") Pointer x, @Cast("float*") Pointer y, long n);
    public static native void ct_relu_backward_cpu(@Cast("const float*") Pointer x, @Cast("const float*") Pointer dy,
                                                   @Cast("float*") Pointer dx, long n);
    public static native void ct_add_relu_forward_cpu(@Cast("const float*") Pointer a, @Cast("const float*") Pointer b,
                                                      @Cast("float*") Pointer y, long n);

    // layernorm.h
    public static native void ct_layernorm_forward_cpu(@Cast("const float*") Pointer x,
                                                       @Cast("const float*") Pointer weight,
                                                       @Cast("const float*") Pointer bias, @Cast("float*") Pointer y,
                                                       @Cast("float*") Pointer mean, @Cast("float*") Pointer rstd,
                                                       long rows, int c, float eps);
    public static native void ct_layernorm_backward_cpu(@Cast("const float*") Pointer dy,
                                                        @Cast("const float*") Pointer x,
                                                        @Cast("const float*") Pointer weight,
                                                        @Cast("const float*") Pointer mean,
                                                        @Cast("const float*") Pointer rstd, @Cast("float*") Pointer dx,
                                                        @Cast("float*") Pointer dweight, @Cast("float*") Pointer dbias,
                                                        long rows, int c);

    // softmax.h
    public static native void ct_softmax_forward_cpu(@Cast("const float*") Pointer x, @Cast("float*") Pointer y,
                                                     long rows, int cols);
    public static native void ct_softmax_backward_cpu(@Cast("const float*") Pointer y, @Cast("const float*") Pointer dy,
                                                      @Cast("float*") Pointer dx, long rows, int cols);

    // dropout.h
    public static native void ct_dropout_forward_cpu(@Cast("const float*") Pointer x, @Cast("float*") Pointer y,
                                                     @Cast("uint8_t*") Pointer mask, long n, float p, long seed,
                                                     long offset);
    public static native void ct_dropout_backward_cpu(@Cast("const float*") Pointer dy, @Cast("float*") Pointer dx,
                                                      @Cast("const uint8_t*") Pointer mask, long n, float p,
                                                      long seed, long offset, int accumulate);

    // embedding.h
    public static native void ct_embedding_forward_cpu(@Cast("const float*") Pointer table,
                                                       @Cast("const int32_t*") Pointer index,
                                                       @Cast("float*") Pointer out, long n, int v, int c);
    public static native void ct_embedding_backward_cpu(@Cast("const float*") Pointer dout,
                                                        @Cast("const int32_t*") Pointer index,
                                                        @Cast("float*") Pointer dtable, long n, int v, int c);
    public static native void ct_sinusoidal_embedding_cpu(@Cast("const float*") Pointer t, @Cast("float*") Pointer out,
                                                          long n, int dim);

    // reduce.h
    public static native void ct_sum_cpu(@Cast("const float*") Pointer x, @Cast("float*") Pointer out, long n,
                                         float scale);
    public static native void ct_sum_backward_cpu(@Cast("const float*") Pointer dout, @Cast("float*") Pointer dx,
                                                  long n, float scale);
    public static native void ct_sum_rows_cpu(@Cast("const float*") Pointer x, @Cast("float*") Pointer out, long rows,
                                              long cols);
    public static native void ct_sum_channels_cpu(@Cast("const float*") Pointer x, @Cast("float*") Pointer out, long n,
                                                  long c, long hw);
    public static native void ct_sum_squares_cpu(@Cast("const float*") Pointer x, @Cast("float*") Pointer out, long n);
    public static native void ct_mse_forward_cpu(@Cast("const float*") Pointer pred,
                                                 @Cast("const float*") Pointer target,
                                                 @Cast("const float*") Pointer weight, @Cast("float*") Pointer loss,
                                                 long n);
    public static native void ct_mse_backward_cpu(@Cast("const float*") Pointer pred,
                                                  @Cast("const float*") Pointer target,
                                                  @Cast("const float*") Pointer weight,
                                                  @Cast("const float*") Pointer dloss, @Cast("float*") Pointer dpred,
                                                  long n);

    // optim.h
    public static native void ct_adamw_step_cpu(@Cast("float*") Pointer param, @Cast("const float*") Pointer grad,
                                                @Cast("float*") Pointer m, @Cast("float*") Pointer v, long n, float lr,
                                                float beta1, float beta2, float eps, float weightDecay,
                                                float biasCorrection1, float biasCorrection2, float gradScale);
    public static native void ct_ema_update_cpu(@Cast("float*") Pointer ema, @Cast("const float*") Pointer param,
                                                long n, float decay);

    // packed_linear.h
    public static native long ct_packed_panels_size(int rows, int k);
    public static native void ct_pack_panels_cpu(@Cast("const float*") Pointer w, @Cast("float*") Pointer packed,
                                                 int row0, int rows, int k);
    public static native void ct_packed_linear_cpu(@Cast("const float*") Pointer a,
                                                   @Cast("const float*") Pointer packed,
                                                   @Cast("const float*") Pointer bias, @Cast("float*") Pointer c,
                                                   int m, int n, int k);

    // decoder_inference.h
    public static native long ct_decoder_layer_workspace_size(int b, int t, int s, int c);
    public static native void ct_decoder_layer_inference_cpu(@Cast("float*") Pointer x,
                                                             @Cast("const float*") Pointer memory,
                                                             @Cast("const float*") Pointer memoryKv,
                                                             @Cast("const float*") Pointer stepKv,
                                                             @Cast("const float* const*") PointerPointer<?> params,
                                                             @Cast("const float*") Pointer memoryMask, int causal,
                                                             int b, int t, int s, int c, int nh, float eps,
                                                             @Cast("float*") Pointer workspace);

    // attention.h
    public static native void ct_attention_forward_cpu(@Cast("const float*") Pointer q, @Cast("const float*") Pointer k,
                                                       @Cast("const float*") Pointer v,
                                                       @Cast("const float*") Pointer mask, @Cast("float*") Pointer out,
                                                       @Cast("float*") Pointer lse, int b, int nh, int tq, int tk,
                                                       int hs, float scale, int causal, float pDrop, long seed,
                                                       long offset);
    public static native void ct_attention_backward_cpu(@Cast("const float*") Pointer dout,
                                                        @Cast("const float*") Pointer q, @Cast("const float*") Pointer k,
                                                        @Cast("const float*") Pointer v,
                                                        @Cast("const float*") Pointer mask,
                                                        @Cast("const float*") Pointer out,
                                                        @Cast("const float*") Pointer lse, @Cast("float*") Pointer dq,
                                                        @Cast("float*") Pointer dk, @Cast("float*") Pointer dv, int b,
                                                        int nh, int tq, int tk, int hs, float scale, int causal,
                                                        float pDrop, long seed, long offset);

    // spatial_softmax.h
    public static native void ct_spatial_softmax_forward_cpu(@Cast("const float*") Pointer x,
                                                             @Cast("float*") Pointer out, long n, int h, int w,
                                                             float temperature);
    public static native void ct_spatial_softmax_backward_cpu(@Cast("const float*") Pointer x,
                                                              @Cast("const float*") Pointer out,
                                                              @Cast("const float*") Pointer dout,
                                                              @Cast("float*") Pointer dx, long n, int h, int w,
                                                              float temperature);

    // ddpm.h
    public static native void ct_ddpm_add_noise_cpu(@Cast("const float*") Pointer x0, @Cast("const float*") Pointer eps,
                                                    @Cast("const int32_t*") Pointer t,
                                                    @Cast("const float*") Pointer abar, int numTimesteps,
                                                    @Cast("float*") Pointer xt, int b, long n);
    public static native void ct_ddpm_step_cpu(@Cast("const float*") Pointer model, @Cast("const float*") Pointer xt,
                                               @Cast("const int32_t*") Pointer t,
                                               @Cast("const int32_t*") Pointer prevT,
                                               @Cast("const float*") Pointer abar, int numTimesteps,
                                               int predictionType, int clip, float clipRange,
                                               @Cast("const float*") Pointer noise, long seed, long offset,
                                               @Cast("float*") Pointer out, int b, long n);
    public static native void ct_ddim_step_cpu(@Cast("const float*") Pointer model, @Cast("const float*") Pointer xt,
                                               @Cast("const int32_t*") Pointer t,
                                               @Cast("const int32_t*") Pointer prevT,
                                               @Cast("const float*") Pointer abar, int numTimesteps, float finalAbar,
                                               float eta, int predictionType, int clip, float clipRange,
                                               int useClippedModelOutput, @Cast("const float*") Pointer noise,
                                               long seed, long offset, @Cast("float*") Pointer out, int b, long n);

    // permute.h
    public static native void ct_split_heads_cpu(@Cast("const float*") Pointer x, @Cast("float*") Pointer out, int b,
                                                 int t, int nh, int hs, long w, long col, int accumulate);
    public static native void ct_merge_heads_cpu(@Cast("const float*") Pointer y, @Cast("float*") Pointer x, int b,
                                                 int t, int nh, int hs, long w, long col, int accumulate);

    // ambient.h
    public static native void ct_ambient_batch_cpu(@Cast("const float*") Pointer x0, @Cast("const float*") Pointer eps,
                                                   @Cast("const float*") Pointer z, @Cast("const int32_t*") Pointer t,
                                                   @Cast("const int32_t*") Pointer tn,
                                                   @Cast("const float*") Pointer abar, int numTimesteps,
                                                   int predictionType, int weighting, @Cast("float*") Pointer xt,
                                                   @Cast("float*") Pointer target, @Cast("float*") Pointer weight,
                                                   int b, long n);

    // bce.h
    public static native void ct_bce_logits_forward_cpu(@Cast("const float*") Pointer x, @Cast("const float*") Pointer y,
                                                        @Cast("float*") Pointer out, long n);
    public static native void ct_bce_logits_backward_cpu(@Cast("const float*") Pointer x,
                                                         @Cast("const float*") Pointer y,
                                                         @Cast("const float*") Pointer dloss,
                                                         @Cast("float*") Pointer dx, long n, float scale);
    // conv2d.h
    public static native void ct_conv2d_forward_cpu(@Cast("const float*") Pointer x, @Cast("const float*") Pointer w,
                                                    @Cast("const float*") Pointer bias, @Cast("float*") Pointer y,
                                                    int n, int ci, int h, int wi, int co, int kh, int kw, int sh,
                                                    int sw, int ph, int pw);
    public static native void ct_conv2d_backward_data_cpu(@Cast("const float*") Pointer dy,
                                                          @Cast("const float*") Pointer w, @Cast("float*") Pointer dx,
                                                          int n, int ci, int h, int wi, int co, int kh, int kw, int sh,
                                                          int sw, int ph, int pw);
    public static native void ct_conv2d_backward_weight_cpu(@Cast("const float*") Pointer dy,
                                                            @Cast("const float*") Pointer x,
                                                            @Cast("float*") Pointer dw, @Cast("float*") Pointer dbias,
                                                            int n, int ci, int h, int wi, int co, int kh, int kw,
                                                            int sh, int sw, int ph, int pw);
    public static native void ct_conv2d_cpu_set_strategy(int strategy);
    public static native int ct_conv2d_cpu_get_strategy();

    // maxpool.h
    public static native void ct_maxpool2d_forward_cpu(@Cast("const float*") Pointer x, @Cast("float*") Pointer y,
                                                       @Cast("int32_t*") Pointer argmax, long planes, int h, int w,
                                                       int kh, int kw, int sh, int sw, int ph, int pw);
    public static native void ct_maxpool2d_backward_cpu(@Cast("const float*") Pointer dy,
                                                        @Cast("const int32_t*") Pointer argmax,
                                                        @Cast("float*") Pointer dx, long planes, int h, int w, int kh,
                                                        int kw, int sh, int sw, int ph, int pw);

    // groupnorm.h
    public static native void ct_groupnorm_forward_cpu(@Cast("const float*") Pointer x,
                                                       @Cast("const float*") Pointer weight,
                                                       @Cast("const float*") Pointer bias, @Cast("float*") Pointer y,
                                                       @Cast("float*") Pointer mean, @Cast("float*") Pointer rstd,
                                                       int n, int c, long hw, int groups, float eps);
    public static native void ct_groupnorm_backward_cpu(@Cast("const float*") Pointer dy,
                                                        @Cast("const float*") Pointer x,
                                                        @Cast("const float*") Pointer weight,
                                                        @Cast("const float*") Pointer mean,
                                                        @Cast("const float*") Pointer rstd, @Cast("float*") Pointer dx,
                                                        @Cast("float*") Pointer dweight, @Cast("float*") Pointer dbias,
                                                        int n, int c, long hw, int groups);
    public static native void ct_groupnorm_mish_forward_cpu(@Cast("const float*") Pointer x,
                                                            @Cast("const float*") Pointer weight,
                                                            @Cast("const float*") Pointer bias,
                                                            @Cast("float*") Pointer y, @Cast("float*") Pointer mean,
                                                            @Cast("float*") Pointer rstd, int n, int c, long hw,
                                                            int groups, float eps);
    public static native void ct_groupnorm_mish_backward_cpu(@Cast("const float*") Pointer dy,
                                                             @Cast("const float*") Pointer x,
                                                             @Cast("const float*") Pointer weight,
                                                             @Cast("const float*") Pointer bias,
                                                             @Cast("const float*") Pointer mean,
                                                             @Cast("const float*") Pointer rstd,
                                                             @Cast("float*") Pointer dx,
                                                             @Cast("float*") Pointer dweight,
                                                             @Cast("float*") Pointer dbias, int n, int c, long hw,
                                                             int groups);

    // film.h
    public static native void ct_film_forward_cpu(@Cast("const float*") Pointer x, @Cast("const float*") Pointer cond,
                                                  @Cast("float*") Pointer y, int b, int c, long t, int hasScale);
    public static native void ct_film_backward_cpu(@Cast("const float*") Pointer dy, @Cast("const float*") Pointer x,
                                                   @Cast("const float*") Pointer cond, @Cast("float*") Pointer dx,
                                                   @Cast("float*") Pointer dcond, int b, int c, long t,
                                                   int hasScale);

    // image.h
    public static native void ct_image_to_float_cpu(@Cast("const uint8_t*") Pointer images,
                                                    @Cast("const int32_t*") Pointer offsets, @Cast("float*") Pointer out,
                                                    int b, int h, int w, int c, int ho, int wo);
    public static native void ct_random_crop_offsets_cpu(@Cast("int32_t*") Pointer offsets, int b, int h, int w,
                                                         int ho, int wo, long seed, long offset);
}
