package org.cotrain.backend;

import static org.cotrain.nativelib.CpuKernels.*;
import static org.cotrain.tensor.Backend.ptr;

import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.cotrain.nativelib.CpuKernels;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Device;
import org.cotrain.tensor.Tensor;

/**
 * The CPU backend: host memory from JavaCPP, ops from libcotrain_cpu (OpenMP, OpenBLAS for matrix products).
 * The reference every other backend is tested against, and the one used where there is no GPU.
 */
public final class CpuBackend implements Backend {
    private final AtomicLong liveBytes = new AtomicLong();
    private volatile int threads;

    /** A CPU backend on {@code threads} threads (OpenMP and OpenBLAS); 0 means all cores. */
    public CpuBackend(int threads) {
        CpuKernels.load();
        setThreads(threads);
    }

    /** Sets the threads of every later op (OpenMP and OpenBLAS are process-wide); 0 means all cores. */
    public void setThreads(int threads) {
        if (threads < 0) {
            throw new IllegalArgumentException("CPU threads must be >= 0 (0 = all cores), got " + threads);
        }
        ct_cpu_set_num_threads(threads);
        this.threads = ct_cpu_get_num_threads();
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public String description() {
        String forced = System.getenv("OPENBLAS_CORETYPE");
        String avx512Unused = ct_blas_avx512_unused() == 0 ? ""
                : forced == null ? " (AVX2 only, but the CPU has AVX-512)"
                : " (AVX2 only, but the CPU has AVX-512: OPENBLAS_CORETYPE=" + forced + " forces them; unset it for"
                        + " ~1.8x faster GEMMs)";
        return "cpu: " + threads + " thread" + (threads == 1 ? "" : "s") + ", " + System.getProperty("os.arch")
                + ", libcotrain " + ct_version() + ", OpenBLAS " + blasCore() + " kernels" + avx512Unused;
    }

    public int threads() {
        return threads;
    }

    /** The OpenBLAS kernel set in use (e.g. "SkylakeX"), see native/src/matmul.cpp for how it is chosen. */
    public String blasCore() {
        return ct_blas_core();
    }

    // ---- memory ---------------------------------------------------------------------------------------------------

    @Override
    public Tensor empty(DType dtype, int... shape) {
        long n = Math.max(1, Tensor.numel(shape)); // never a zero-size allocation: its pointer would be NULL
        Pointer p = switch (dtype) {
            case F32 -> new FloatPointer(n);
            case I32 -> new IntPointer(n);
            case U8 -> new BytePointer(n);
        };
        if (p.isNull()) {
            throw new OutOfMemoryError("cannot allocate " + n * dtype.bytes() + " bytes of host memory for a tensor "
                    + Tensor.shapeString(shape));
        }
        Tensor t = Tensor.wrap(this, dtype, shape, p);
        liveBytes.addAndGet(t.bytes());
        return t;
    }

    @Override
    public void release(Pointer data, long bytes) {
        data.deallocate();
        liveBytes.addAndGet(-bytes);
    }

    @Override
    public long liveBytes() {
        return liveBytes.get();
    }

    @Override
    public void zero(Tensor t) {
        Pointer.memset(t.data(), 0, t.bytes());
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        Pointer.memcpy(dst.data(), src.data(), src.bytes());
    }

    @Override
    public void copyToHost(Tensor src, float[] dst) {
        ((FloatPointer) src.data()).get(dst, 0, dst.length);
    }

    @Override
    public void copyToHost(Tensor src, int[] dst) {
        ((IntPointer) src.data()).get(dst, 0, dst.length);
    }

    @Override
    public void copyFromHost(float[] src, Tensor dst) {
        ((FloatPointer) dst.data()).put(src, 0, src.length);
    }

    @Override
    public void copyFromHost(int[] src, Tensor dst) {
        ((IntPointer) dst.data()).put(src, 0, src.length);
    }

    @Override
    public void copyToHost(Tensor src, byte[] dst) {
        ((BytePointer) src.data()).get(dst, 0, dst.length);
    }

    @Override
    public void copyFromHost(byte[] src, Tensor dst) {
        ((BytePointer) dst.data()).put(src, 0, src.length);
    }

    @Override
    public void synchronize() {
        // CPU ops are synchronous.
    }

    @Override
    public void close() {
        // Nothing of its own to release: host memory belongs to the tensors.
    }

    @Override
    public void noop() {
        ct_noop();
    }

    // ---- ops: one call each, arguments checked by Ops -------------------------------------------------------------

    @Override
    public void randUniform(Tensor out, long seed, long offset) {
        ct_rng_uniform_cpu(out.data(), out.numel(), seed, offset);
    }

    @Override
    public void randNormal(Tensor out, long seed, long offset) {
        ct_rng_normal_cpu(out.data(), out.numel(), seed, offset);
    }

    @Override
    public void randInt(Tensor out, int low, int high, long seed, long offset) {
        ct_rng_randint_cpu(out.data(), out.numel(), low, high, seed, offset);
    }

    @Override
    public void matmul(Tensor a, Tensor b, Tensor bias, Tensor c, int batch, int m, int n, int k, boolean transA,
                       boolean transB, long strideA, long strideB, long strideC, float alpha, float beta) {
        ct_matmul_cpu(a.data(), b.data(), ptr(bias), c.data(), batch, m, n, k, transA ? 1 : 0, transB ? 1 : 0,
                strideA, strideB, strideC, alpha, beta);
    }

    @Override
    public void fill(Tensor out, float value) {
        ct_fill_cpu(out.data(), value, out.numel());
    }

    @Override
    public void axpby(Tensor a, Tensor b, Tensor out, float alpha, float beta) {
        ct_axpby_cpu(a.data(), b.data(), out.data(), alpha, beta, out.numel());
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        ct_mul_cpu(a.data(), b.data(), out.data(), out.numel());
    }

    @Override
    public void addBroadcast(Tensor a, Tensor b, Tensor out, long rows, long cols) {
        ct_add_broadcast_cpu(a.data(), b.data(), out.data(), rows, cols);
    }

    @Override
    public void geluForward(Tensor x, Tensor y) {
        ct_gelu_forward_cpu(x.data(), y.data(), x.numel());
    }

    @Override
    public void geluBackward(Tensor x, Tensor dy, Tensor dx) {
        ct_gelu_backward_cpu(x.data(), dy.data(), dx.data(), x.numel());
    }

    @Override
    public void mishForward(Tensor x, Tensor y) {
        ct_mish_forward_cpu(x.data(), y.data(), x.numel());
    }

    @Override
    public void mishBackward(Tensor x, Tensor dy, Tensor dx) {
        ct_mish_backward_cpu(x.data(), dy.data(), dx.data(), x.numel());
    }

    @Override
    public void reluForward(Tensor x, Tensor y) {
        ct_relu_forward_cpu(x.data(), y.data(), x.numel());
    }

    @Override
    public void reluBackward(Tensor x, Tensor dy, Tensor dx) {
        ct_relu_backward_cpu(x.data(), dy.data(), dx.data(), x.numel());
    }

    @Override
    public void layerNormForward(Tensor x, Tensor weight, Tensor bias, Tensor y, Tensor mean, Tensor rstd, long rows,
                                 int c, float eps) {
        ct_layernorm_forward_cpu(x.data(), weight.data(), bias.data(), y.data(), mean.data(), rstd.data(), rows, c,
                eps);
    }

    @Override
    public void layerNormBackward(Tensor dy, Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dx,
                                  Tensor dweight, Tensor dbias, long rows, int c) {
        ct_layernorm_backward_cpu(dy.data(), x.data(), weight.data(), mean.data(), rstd.data(), dx.data(),
                dweight.data(), dbias.data(), rows, c);
    }

    @Override
    public void softmaxForward(Tensor x, Tensor y, long rows, int cols) {
        ct_softmax_forward_cpu(x.data(), y.data(), rows, cols);
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor dy, Tensor dx, long rows, int cols) {
        ct_softmax_backward_cpu(y.data(), dy.data(), dx.data(), rows, cols);
    }

    @Override
    public void dropoutForward(Tensor x, Tensor y, Tensor mask, float p, long seed, long offset) {
        ct_dropout_forward_cpu(x.data(), y.data(), ptr(mask), x.numel(), p, seed, offset);
    }

    @Override
    public void dropoutBackward(Tensor dy, Tensor dx, Tensor mask, float p, long seed, long offset,
                                boolean accumulate) {
        ct_dropout_backward_cpu(dy.data(), dx.data(), ptr(mask), dy.numel(), p, seed, offset, accumulate ? 1 : 0);
    }

    @Override
    public void embeddingForward(Tensor table, Tensor index, Tensor out, long n, int v, int c) {
        ct_embedding_forward_cpu(table.data(), index.data(), out.data(), n, v, c);
    }

    @Override
    public void embeddingBackward(Tensor dout, Tensor index, Tensor dtable, long n, int v, int c) {
        ct_embedding_backward_cpu(dout.data(), index.data(), dtable.data(), n, v, c);
    }

    @Override
    public void sinusoidalEmbedding(Tensor t, Tensor out, long n, int dim) {
        ct_sinusoidal_embedding_cpu(t.data(), out.data(), n, dim);
    }

    @Override
    public void sum(Tensor x, Tensor out, float scale) {
        ct_sum_cpu(x.data(), out.data(), x.numel(), scale);
    }

    @Override
    public void sumBackward(Tensor dout, Tensor dx, float scale) {
        ct_sum_backward_cpu(dout.data(), dx.data(), dx.numel(), scale);
    }

    @Override
    public void sumRows(Tensor x, Tensor out, long rows, long cols) {
        ct_sum_rows_cpu(x.data(), out.data(), rows, cols);
    }

    @Override
    public void sumSquares(Tensor x, Tensor out) {
        ct_sum_squares_cpu(x.data(), out.data(), x.numel());
    }

    @Override
    public void mseForward(Tensor pred, Tensor target, Tensor weight, Tensor loss) {
        ct_mse_forward_cpu(pred.data(), target.data(), ptr(weight), loss.data(), pred.numel());
    }

    @Override
    public void mseBackward(Tensor pred, Tensor target, Tensor weight, Tensor dloss, Tensor dpred) {
        ct_mse_backward_cpu(pred.data(), target.data(), ptr(weight), dloss.data(), dpred.data(), pred.numel());
    }

    @Override
    public void adamwStep(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                          float eps, float weightDecay, float biasCorrection1, float biasCorrection2,
                          float gradScale) {
        ct_adamw_step_cpu(param.data(), grad.data(), m.data(), v.data(), param.numel(), lr, beta1, beta2, eps,
                weightDecay, biasCorrection1, biasCorrection2, gradScale);
    }

    @Override
    public void emaUpdate(Tensor ema, Tensor param, float decay) {
        ct_ema_update_cpu(ema.data(), param.data(), ema.numel(), decay);
    }

    @Override
    public void packPanels(Tensor w, Tensor packed, int row0, int rows, int k) {
        ct_pack_panels_cpu(w.data(), packed.data(), row0, rows, k);
    }

    @Override
    public void packedLinear(Tensor a, Tensor packed, Tensor bias, Tensor c, int m, int n, int k) {
        ct_packed_linear_cpu(a.data(), packed.data(), bias.data(), c.data(), m, n, k);
    }

    @Override
    public long decoderLayerWorkspaceSize(int b, int t, int s, int c) {
        return CpuKernels.ct_decoder_layer_workspace_size(b, t, s, c);
    }

    @Override
    public void decoderLayerInference(Tensor x, Tensor memory, Tensor memoryKv, Pointer stepKv,
                                      PointerPointer<?> params, Tensor memoryMask, boolean causal, int b, int t, int s,
                                      int c, int nh, float eps, Tensor workspace) {
        ct_decoder_layer_inference_cpu(x.data(), ptr(memory), ptr(memoryKv), stepKv, params, ptr(memoryMask),
                causal ? 1 : 0, b, t, s, c, nh, eps, workspace.data());
    }

    @Override
    public void attentionForward(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor out, Tensor lse, int b, int nh,
                                 int tq, int tk, int hs, float scale, boolean causal, float pDrop, long seed,
                                 long offset) {
        ct_attention_forward_cpu(q.data(), k.data(), v.data(), ptr(mask), out.data(), lse.data(), b, nh, tq, tk, hs,
                scale, causal ? 1 : 0, pDrop, seed, offset);
    }

    @Override
    public void attentionBackward(Tensor dout, Tensor q, Tensor k, Tensor v, Tensor mask, Tensor out, Tensor lse,
                                  Tensor dq, Tensor dk, Tensor dv, int b, int nh, int tq, int tk, int hs, float scale,
                                  boolean causal, float pDrop, long seed, long offset) {
        ct_attention_backward_cpu(dout.data(), q.data(), k.data(), v.data(), ptr(mask), out.data(), lse.data(),
                dq.data(), dk.data(), dv.data(), b, nh, tq, tk, hs, scale, causal ? 1 : 0, pDrop, seed, offset);
    }

    @Override
    public void spatialSoftmaxForward(Tensor x, Tensor out, long n, int h, int w, float temperature) {
        ct_spatial_softmax_forward_cpu(x.data(), out.data(), n, h, w, temperature);
    }

    @Override
    public void spatialSoftmaxBackward(Tensor x, Tensor out, Tensor dout, Tensor dx, long n, int h, int w,
                                       float temperature) {
        ct_spatial_softmax_backward_cpu(x.data(), out.data(), dout.data(), dx.data(), n, h, w, temperature);
    }

    @Override
    public void sumChannels(Tensor x, Tensor out, long n, long c, long hw) {
        ct_sum_channels_cpu(x.data(), out.data(), n, c, hw);
    }

    @Override
    public void addReluForward(Tensor a, Tensor b, Tensor y) {
        ct_add_relu_forward_cpu(a.data(), b.data(), y.data(), y.numel());
    }

    @Override
    public void conv2dForward(Tensor x, Tensor weight, Tensor bias, Tensor y, Conv2dDims d) {
        ct_conv2d_forward_cpu(x.data(), weight.data(), ptr(bias), y.data(), d.n(), d.ci(), d.h(), d.w(), d.co(), d.kh(),
                d.kw(), d.sh(), d.sw(), d.ph(), d.pw());
    }

    @Override
    public void conv2dBackwardData(Tensor dy, Tensor weight, Tensor dx, Conv2dDims d) {
        ct_conv2d_backward_data_cpu(dy.data(), weight.data(), dx.data(), d.n(), d.ci(), d.h(), d.w(), d.co(), d.kh(),
                d.kw(), d.sh(), d.sw(), d.ph(), d.pw());
    }

    @Override
    public void conv2dBackwardWeight(Tensor dy, Tensor x, Tensor dweight, Tensor dbias, Conv2dDims d) {
        ct_conv2d_backward_weight_cpu(dy.data(), x.data(), dweight.data(), ptr(dbias), d.n(), d.ci(), d.h(), d.w(),
                d.co(), d.kh(), d.kw(), d.sh(), d.sw(), d.ph(), d.pw());
    }

    /** How the CPU convolution groups samples into GEMMs (conv2d.h); process-wide. */
    public enum ConvStrategy {
        AUTO,
        PER_SAMPLE,
        BATCHED
    }

    /** Forces a convolution strategy for every later call (benchmarks and tests); AUTO chooses per shape. */
    public static void setConvStrategy(ConvStrategy strategy) {
        CpuKernels.load();
        ct_conv2d_cpu_set_strategy(strategy.ordinal());
    }

    public static ConvStrategy convStrategy() {
        CpuKernels.load();
        return ConvStrategy.values()[ct_conv2d_cpu_get_strategy()];
    }

    @Override
    public void maxPool2dForward(Tensor x, Tensor y, Tensor argmax, long planes, int h, int w, int kh, int kw, int sh,
                                 int sw, int ph, int pw) {
        ct_maxpool2d_forward_cpu(x.data(), y.data(), argmax.data(), planes, h, w, kh, kw, sh, sw, ph, pw);
    }

    @Override
    public void maxPool2dBackward(Tensor dy, Tensor argmax, Tensor dx, long planes, int h, int w, int kh, int kw,
                                  int sh, int sw, int ph, int pw) {
        ct_maxpool2d_backward_cpu(dy.data(), argmax.data(), dx.data(), planes, h, w, kh, kw, sh, sw, ph, pw);
    }

    @Override
    public void groupNormForward(Tensor x, Tensor weight, Tensor bias, Tensor y, Tensor mean, Tensor rstd, int n,
                                 int c, long hw, int groups, float eps) {
        ct_groupnorm_forward_cpu(x.data(), weight.data(), bias.data(), y.data(), mean.data(), rstd.data(), n, c, hw,
                groups, eps);
    }

    @Override
    public void groupNormBackward(Tensor dy, Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dx,
                                  Tensor dweight, Tensor dbias, int n, int c, long hw, int groups) {
        ct_groupnorm_backward_cpu(dy.data(), x.data(), weight.data(), mean.data(), rstd.data(), dx.data(),
                dweight.data(), dbias.data(), n, c, hw, groups);
    }

    @Override
    public void groupNormMishForward(Tensor x, Tensor weight, Tensor bias, Tensor y, Tensor mean, Tensor rstd, int n,
                                     int c, long hw, int groups, float eps) {
        ct_groupnorm_mish_forward_cpu(x.data(), weight.data(), bias.data(), y.data(), mean.data(), rstd.data(), n, c,
                hw, groups, eps);
    }

    @Override
    public void groupNormMishBackward(Tensor dy, Tensor x, Tensor weight, Tensor bias, Tensor mean, Tensor rstd,
                                      Tensor dx, Tensor dweight, Tensor dbias, int n, int c, long hw, int groups) {
        ct_groupnorm_mish_backward_cpu(dy.data(), x.data(), weight.data(), bias.data(), mean.data(), rstd.data(),
                dx.data(), dweight.data(), dbias.data(), n, c, hw, groups);
    }

    @Override
    public void filmForward(Tensor x, Tensor cond, Tensor y, int b, int c, long t, boolean hasScale) {
        ct_film_forward_cpu(x.data(), cond.data(), y.data(), b, c, t, hasScale ? 1 : 0);
    }

    @Override
    public void filmBackward(Tensor dy, Tensor x, Tensor cond, Tensor dx, Tensor dcond, int b, int c, long t,
                             boolean hasScale) {
        ct_film_backward_cpu(dy.data(), x.data(), cond.data(), dx == null ? null : dx.data(), dcond.data(), b, c, t,
                hasScale ? 1 : 0);
    }

    @Override
    public void imageToFloat(Tensor images, Tensor offsets, Tensor out, int b, int h, int w, int c, int ho, int wo) {
        ct_image_to_float_cpu(images.data(), ptr(offsets), out.data(), b, h, w, c, ho, wo);
    }

    @Override
    public void randomCropOffsets(Tensor offsets, int b, int h, int w, int ho, int wo, long seed, long offset) {
        ct_random_crop_offsets_cpu(offsets.data(), b, h, w, ho, wo, seed, offset);
    }

    @Override
    public void ddpmAddNoise(Tensor x0, Tensor eps, Tensor t, Tensor abar, int numTimesteps, Tensor xt, int b,
                             long n) {
        ct_ddpm_add_noise_cpu(x0.data(), eps.data(), t.data(), abar.data(), numTimesteps, xt.data(), b, n);
    }

    @Override
    public void ddpmStep(Tensor model, Tensor xt, Tensor t, Tensor prevT, Tensor abar, int numTimesteps,
                         int predictionType, boolean clip, float clipRange, Tensor noise, long seed, long offset,
                         Tensor out, int b, long n) {
        ct_ddpm_step_cpu(model.data(), xt.data(), t.data(), prevT.data(), abar.data(), numTimesteps, predictionType,
                clip ? 1 : 0, clipRange, ptr(noise), seed, offset, out.data(), b, n);
    }

    @Override
    public void ddimStep(Tensor model, Tensor xt, Tensor t, Tensor prevT, Tensor abar, int numTimesteps,
                         float finalAbar, float eta, int predictionType, boolean clip, float clipRange,
                         boolean useClippedModelOutput, Tensor noise, long seed, long offset, Tensor out, int b,
                         long n) {
        ct_ddim_step_cpu(model.data(), xt.data(), t.data(), prevT.data(), abar.data(), numTimesteps, finalAbar, eta,
                predictionType, clip ? 1 : 0, clipRange, useClippedModelOutput ? 1 : 0, ptr(noise), seed, offset,
                out.data(), b, n);
    }

    @Override
    public void splitHeads(Tensor x, Tensor out, int b, int t, int nh, int hs, long w, long col, boolean accumulate) {
        ct_split_heads_cpu(x.data(), out.data(), b, t, nh, hs, w, col, accumulate ? 1 : 0);
    }

    @Override
    public void mergeHeads(Tensor y, Tensor x, int b, int t, int nh, int hs, long w, long col, boolean accumulate) {
        ct_merge_heads_cpu(y.data(), x.data(), b, t, nh, hs, w, col, accumulate ? 1 : 0);
    }

    @Override
    public void ambientBatch(Tensor x0, Tensor eps, Tensor z, Tensor t, Tensor tn, Tensor abar, int numTimesteps,
                             int predictionType, boolean weighting, Tensor xt, Tensor target, Tensor weight, int b,
                             long n) {
        ct_ambient_batch_cpu(x0.data(), eps.data(), z.data(), t.data(), tn.data(), abar.data(), numTimesteps,
                predictionType, weighting ? 1 : 0, xt.data(), target.data(), ptr(weight), b, n);
    }

    @Override
    public void bceLogitsForward(Tensor x, Tensor y, Tensor out) {
        ct_bce_logits_forward_cpu(x.data(), y.data(), out.data(), x.numel());
    }

    @Override
    public void bceLogitsBackward(Tensor x, Tensor y, Tensor dloss, Tensor dx, float scale) {
        ct_bce_logits_backward_cpu(x.data(), y.data(), dloss.data(), dx.data(), x.numel(), scale);
    }
}
