package org.cotrain.tensor;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * A place to store tensors and run the native ops: {@code backend.CpuBackend} (native/, always there) or
 * {@code backend.CudaBackend} (cuda-kernels/ plus cuBLAS, where a GPU is usable). {@code backend.Backends} picks one.
 *
 * <p>The op methods below are one-to-one with the C functions of native/include/cotrain (the CPU backend calls
 * {@code ct_X_cpu}, the CUDA backend {@code ct_X_cuda}), with tensors in place of pointers and the dimensions
 * spelled out. They trust their arguments: user code calls {@code ops.Ops}, which checks shapes,
 * element types and devices first, so that bad input never reaches native code.
 */
public interface Backend extends AutoCloseable {

    /** "cpu" or "cuda". */
    String name();

    Device device();

    /** One line for humans: the device and how it is configured. */
    String description();

    // ---- memory ---------------------------------------------------------------------------------------------------

    /** A tensor with uninitialised contents. */
    Tensor empty(DType dtype, int... shape);

    default Tensor empty(int... shape) {
        return empty(DType.F32, shape);
    }

    default Tensor zeros(DType dtype, int... shape) {
        Tensor t = empty(dtype, shape);
        zero(t);
        return t;
    }

    default Tensor zeros(int... shape) {
        return zeros(DType.F32, shape);
    }

    default Tensor of(float[] values, int... shape) {
        Tensor t = empty(DType.F32, shape);
        try {
            return t.copyFrom(values);
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    default Tensor of(int[] values, int... shape) {
        Tensor t = empty(DType.I32, shape);
        try {
            return t.copyFrom(values);
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    default Tensor of(byte[] values, int... shape) {
        Tensor t = empty(DType.U8, shape);
        try {
            return t.copyFrom(values);
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    /** Sets every byte of the tensor to zero. */
    void zero(Tensor t);

    /** dst = src, element for element (same backend, same number of elements and type). */
    void copy(Tensor src, Tensor dst);

    void copyToHost(Tensor src, float[] dst);

    void copyToHost(Tensor src, int[] dst);

    void copyFromHost(float[] src, Tensor dst);

    void copyFromHost(int[] src, Tensor dst);

    void copyToHost(Tensor src, byte[] dst);

    void copyFromHost(byte[] src, Tensor dst);

    /** Frees storage made by {@link #empty}; called by {@link Tensor#close()}. */
    void release(Pointer data, long bytes);

    /** Bytes held by this backend's open tensors: returns to its earlier value when they are all closed. */
    long liveBytes();

    /** Waits for all work queued on this backend, and reports any error it raised. */
    void synchronize();

    /** Releases the backend's own resources (streams, library handles). Open tensors must be closed first. */
    @Override
    void close();

    /** An op that does nothing, through the same native call path as the others: the overhead baseline. */
    void noop();

    // ---- random numbers (rng.h) -----------------------------------------------------------------------------------

    void randUniform(Tensor out, long seed, long offset);

    void randNormal(Tensor out, long seed, long offset);

    void randInt(Tensor out, int low, int high, long seed, long offset);

    // ---- matmul.h -------------------------------------------------------------------------------------------------

    void matmul(Tensor a, Tensor b, Tensor bias, Tensor c, int batch, int m, int n, int k, boolean transA,
                boolean transB, long strideA, long strideB, long strideC, float alpha, float beta);

    // ---- elementwise.h --------------------------------------------------------------------------------------------

    void fill(Tensor out, float value);

    void axpby(Tensor a, Tensor b, Tensor out, float alpha, float beta);

    void mul(Tensor a, Tensor b, Tensor out);

    void addBroadcast(Tensor a, Tensor b, Tensor out, long rows, long cols);

    // ---- activation.h ---------------------------------------------------------------------------------------------

    void geluForward(Tensor x, Tensor y);

    void geluBackward(Tensor x, Tensor dy, Tensor dx);

    void mishForward(Tensor x, Tensor y);

    void mishBackward(Tensor x, Tensor dy, Tensor dx);

    void reluForward(Tensor x, Tensor y);

    void reluBackward(Tensor x, Tensor dy, Tensor dx);

    void addReluForward(Tensor a, Tensor b, Tensor y);

    // ---- layernorm.h, softmax.h, dropout.h ------------------------------------------------------------------------

    void layerNormForward(Tensor x, Tensor weight, Tensor bias, Tensor y, Tensor mean, Tensor rstd, long rows, int c,
                          float eps);

    void layerNormBackward(Tensor dy, Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dx, Tensor dweight,
                           Tensor dbias, long rows, int c);

    void softmaxForward(Tensor x, Tensor y, long rows, int cols);

    void softmaxBackward(Tensor y, Tensor dy, Tensor dx, long rows, int cols);

    /** mask: null, or an int32 tensor whose bytes (at least numel of x) receive the keep decisions. */
    void dropoutForward(Tensor x, Tensor y, Tensor mask, float p, long seed, long offset);

    /** mask: null (recompute the decisions), or the forward's. */
    void dropoutBackward(Tensor dy, Tensor dx, Tensor mask, float p, long seed, long offset, boolean accumulate);

    // ---- embedding.h ----------------------------------------------------------------------------------------------

    void embeddingForward(Tensor table, Tensor index, Tensor out, long n, int v, int c);

    void embeddingBackward(Tensor dout, Tensor index, Tensor dtable, long n, int v, int c);

    void sinusoidalEmbedding(Tensor t, Tensor out, long n, int dim);

    // ---- reduce.h -------------------------------------------------------------------------------------------------

    void sum(Tensor x, Tensor out, float scale);

    void sumBackward(Tensor dout, Tensor dx, float scale);

    void sumRows(Tensor x, Tensor out, long rows, long cols);

    void sumSquares(Tensor x, Tensor out);

    void sumChannels(Tensor x, Tensor out, long n, long c, long hw);

    void mseForward(Tensor pred, Tensor target, Tensor weight, Tensor loss);

    void mseBackward(Tensor pred, Tensor target, Tensor weight, Tensor dloss, Tensor dpred);

    // ---- optim.h --------------------------------------------------------------------------------------------------

    void adamwStep(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
                   float weightDecay, float biasCorrection1, float biasCorrection2, float gradScale);

    void emaUpdate(Tensor ema, Tensor param, float decay);

    // ---- attention.h ----------------------------------------------------------------------------------------------

    void attentionForward(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor out, Tensor lse, int b, int nh, int tq,
                          int tk, int hs, float scale, boolean causal, float pDrop, long seed, long offset);

    void attentionBackward(Tensor dout, Tensor q, Tensor k, Tensor v, Tensor mask, Tensor out, Tensor lse, Tensor dq,
                           Tensor dk, Tensor dv, int b, int nh, int tq, int tk, int hs, float scale, boolean causal,
                           float pDrop, long seed, long offset);

    // ---- packed_linear.h ------------------------------------------------------------------------------------------

    /** packed &lt;- rows [row0, row0 + rows) of w (N, K) in panels of 32 output columns (ct_pack_panels). */
    void packPanels(Tensor w, Tensor packed, int row0, int rows, int k);

    /** c (M, N) = a (M, K) W^T + bias, W packed by {@link #packPanels}. */
    void packedLinear(Tensor a, Tensor packed, Tensor bias, Tensor c, int m, int n, int k);

    // ---- decoder_inference.h --------------------------------------------------------------------------------------

    /** Floats of {@link #decoderLayerInference}'s workspace for b sequences of t tokens, s memory tokens, width c. */
    long decoderLayerWorkspaceSize(int b, int t, int s, int c);

    /**
     * One decoder layer's evaluation forward, x (B, T, C) overwritten; params: the CT_DEC_PARAMS device pointers of
     * decoder_inference.h, in its order; memoryKv (B, S, 2C) and stepKv (2C): the memory's keys and values computed
     * ahead, or null (stepKv may point into a larger table).
     */
    void decoderLayerInference(Tensor x, Tensor memory, Tensor memoryKv, Pointer stepKv, PointerPointer<?> params,
                               Tensor memoryMask, boolean causal, int b, int t, int s, int c, int nh, float eps,
                               Tensor workspace);

    // ---- spatial_softmax.h ----------------------------------------------------------------------------------------

    void spatialSoftmaxForward(Tensor x, Tensor out, long n, int h, int w, float temperature);

    void spatialSoftmaxBackward(Tensor x, Tensor out, Tensor dout, Tensor dx, long n, int h, int w,
                                float temperature);

    // ---- conv2d.h (CPU: im2col + OpenBLAS; CUDA: cuDNN) -------------------------------------------------------------

    /** The dimensions of one convolution: x (n, ci, h, w), weight (co, ci, kh, kw), stride, padding. */
    record Conv2dDims(int n, int ci, int h, int w, int co, int kh, int kw, int sh, int sw, int ph, int pw) {
        public int ho() {
            return (h + 2 * ph - kh) / sh + 1;
        }

        public int wo() {
            return (w + 2 * pw - kw) / sw + 1;
        }
    }

    void conv2dForward(Tensor x, Tensor weight, Tensor bias, Tensor y, Conv2dDims d);

    void conv2dBackwardData(Tensor dy, Tensor weight, Tensor dx, Conv2dDims d);

    void conv2dBackwardWeight(Tensor dy, Tensor x, Tensor dweight, Tensor dbias, Conv2dDims d);

    // ---- maxpool.h, groupnorm.h, image.h --------------------------------------------------------------------------

    void maxPool2dForward(Tensor x, Tensor y, Tensor argmax, long planes, int h, int w, int kh, int kw, int sh, int sw,
                          int ph, int pw);

    void maxPool2dBackward(Tensor dy, Tensor argmax, Tensor dx, long planes, int h, int w, int kh, int kw, int sh,
                           int sw, int ph, int pw);

    void groupNormForward(Tensor x, Tensor weight, Tensor bias, Tensor y, Tensor mean, Tensor rstd, int n, int c,
                          long hw, int groups, float eps);

    void groupNormBackward(Tensor dy, Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dx, Tensor dweight,
                           Tensor dbias, int n, int c, long hw, int groups);

    void groupNormMishForward(Tensor x, Tensor weight, Tensor bias, Tensor y, Tensor mean, Tensor rstd, int n, int c,
                              long hw, int groups, float eps);

    void groupNormMishBackward(Tensor dy, Tensor x, Tensor weight, Tensor bias, Tensor mean, Tensor rstd, Tensor dx,
                               Tensor dweight, Tensor dbias, int n, int c, long hw, int groups);

    // ---- film.h ---------------------------------------------------------------------------------------------------

    void filmForward(Tensor x, Tensor cond, Tensor y, int b, int c, long t, boolean hasScale);

    /** dx may be null. */
    void filmBackward(Tensor dy, Tensor x, Tensor cond, Tensor dx, Tensor dcond, int b, int c, long t,
                      boolean hasScale);

    void imageToFloat(Tensor images, Tensor offsets, Tensor out, int b, int h, int w, int c, int ho, int wo);

    void randomCropOffsets(Tensor offsets, int b, int h, int w, int ho, int wo, long seed, long offset);

    // ---- ddpm.h ---------------------------------------------------------------------------------------------------

    void ddpmAddNoise(Tensor x0, Tensor eps, Tensor t, Tensor abar, int numTimesteps, Tensor xt, int b, long n);

    void ddpmStep(Tensor model, Tensor xt, Tensor t, Tensor prevT, Tensor abar, int numTimesteps,
                  int predictionType, boolean clip, float clipRange, Tensor noise, long seed, long offset, Tensor out,
                  int b, long n);

    void ddimStep(Tensor model, Tensor xt, Tensor t, Tensor prevT, Tensor abar, int numTimesteps, float finalAbar,
                  float eta, int predictionType, boolean clip, float clipRange, boolean useClippedModelOutput,
                  Tensor noise, long seed, long offset, Tensor out, int b, long n);

    // ---- ambient.h ------------------------------------------------------------------------------------------------

    void ambientBatch(Tensor x0, Tensor eps, Tensor z, Tensor t, Tensor tn, Tensor abar, int numTimesteps,
                      int predictionType, boolean weighting, Tensor xt, Tensor target, Tensor weight, int b, long n);

    // ---- bce.h ----------------------------------------------------------------------------------------------------

    void bceLogitsForward(Tensor x, Tensor y, Tensor out);

    void bceLogitsBackward(Tensor x, Tensor y, Tensor dloss, Tensor dx, float scale);

    // ---- permute.h ------------------------------------------------------------------------------------------------

    void splitHeads(Tensor x, Tensor out, int b, int t, int nh, int hs, long w, long col, boolean accumulate);

    void mergeHeads(Tensor y, Tensor x, int b, int t, int nh, int hs, long w, long col, boolean accumulate);

    /** The tensor's storage, or NULL for an absent optional argument. */
    static Pointer ptr(Tensor t) {
        return t == null ? null : t.data();
    }
}
