package org.cotrain.backend;

import static org.cotrain.nativelib.CudaKernels.*;
import static org.cotrain.tensor.Backend.ptr;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.cudnn.cudnnContext;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudnn;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.cotrain.nativelib.CudaKernels;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Device;
import org.cotrain.tensor.Tensor;

/**
 * The CUDA backend: device memory and the handwritten kernels of libcotrain_cuda, matrix products through cuBLAS
 * and convolutions through cuDNN (the org.bytedeco:cuda preset, loading the system libcublas and libcudnn, each on
 * first use). All work goes to one stream owned by the backend, in order; {@link #synchronize()} waits for it. Every CUDA status is checked and a failure becomes a
 * {@link CudaException} with the CUDA error string, never a crash.
 *
 * <p>Made by {@link Backends}, which probes for a usable device first.
 */
public final class CudaBackend implements Backend {
    // cudaError_t values the probe turns into a plain "no GPU here".
    private static final int CUDA_ERROR_INSUFFICIENT_DRIVER = 35;
    private static final int CUDA_ERROR_NO_DEVICE = 100;

    private final int deviceIndex;
    private final String deviceName;
    private final int computeMajor;
    private final int computeMinor;
    private final long totalMemory;
    private final int multiprocessors;
    private final Pointer stream;
    private final AtomicLong liveBytes = new AtomicLong();
    private cublasContext cublasHandle; // created on first matmul: cuBLAS loads only when used
    private final FloatPointer alphaBeta = new FloatPointer(2); // host scalars for cuBLAS
    private cudnnContext cudnnHandle; // created on first convolution, like cuBLAS
    private final Map<Conv2dDims, CudnnAlgorithms.Plan> convPlans = new HashMap<>();
    private Pointer convWorkspace; // device memory for cuDNN, grown to the largest algorithm's need
    private long convWorkspaceBytes;
    private final FloatPointer one = new FloatPointer(1f); // host scalars for cuDNN
    private final FloatPointer zero = new FloatPointer(0f);
    private boolean closed;

    /** Opens device {@code deviceIndex}; throws {@link CudaException} when it is not usable. */
    public CudaBackend(int deviceIndex) {
        CudaKernels.load();
        this.deviceIndex = deviceIndex;
        try (IntPointer count = new IntPointer(1)) {
            int status = ct_cuda_device_count(count);
            if (status == CUDA_ERROR_INSUFFICIENT_DRIVER || status == CUDA_ERROR_NO_DEVICE) {
                throw new CudaException("no NVIDIA GPU with a driver for CUDA 13 was found ("
                        + ct_cuda_error_string(status) + ")");
            }
            check(status, "cudaGetDeviceCount");
            if (deviceIndex < 0 || deviceIndex >= count.get()) {
                throw new CudaException("CUDA device " + deviceIndex + " does not exist (" + count.get()
                        + " device(s) found)");
            }
        }
        check(ct_cuda_set_device(deviceIndex), "cudaSetDevice");
        try (BytePointer name = new BytePointer(256); IntPointer major = new IntPointer(1);
             IntPointer minor = new IntPointer(1); LongPointer total = new LongPointer(1);
             IntPointer sms = new IntPointer(1)) {
            check(ct_cuda_device_properties(deviceIndex, name, 256, major, minor, total, sms),
                    "cudaGetDeviceProperties");
            this.deviceName = name.getString();
            this.computeMajor = major.get();
            this.computeMinor = minor.get();
            this.totalMemory = total.get();
            this.multiprocessors = sms.get();
        }
        try (PointerPointer<Pointer> holder = new PointerPointer<>(1)) {
            check(ct_cuda_stream_create(holder), "cudaStreamCreate");
            this.stream = holder.get(0);
        }
    }

    /** Raises a CudaException for a non-zero CUDA status. */
    static void check(int status, String what) {
        if (status != 0) {
            throw new CudaException(what + " failed: " + ct_cuda_error_string(status) + " (CUDA error " + status
                    + ")");
        }
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public Device device() {
        return Device.CUDA;
    }

    @Override
    public String description() {
        return String.format("cuda:%d: %s, compute capability %d.%d, %d SMs, %.1f GiB", deviceIndex, deviceName,
                computeMajor, computeMinor, multiprocessors, totalMemory / (double) (1L << 30));
    }

    /** The stream all work of this backend is queued on (a cudaStream_t). */
    public Pointer stream() {
        return stream;
    }

    // ---- memory ---------------------------------------------------------------------------------------------------

    @Override
    public Tensor empty(DType dtype, int... shape) {
        long bytes = Math.max(1, Tensor.numel(shape)) * dtype.bytes();
        Pointer p;
        try (PointerPointer<Pointer> holder = new PointerPointer<>(1)) {
            check(ct_cuda_malloc(holder, bytes), "cudaMalloc of " + bytes + " bytes for " + Tensor.shapeString(shape));
            p = holder.get(0);
        }
        Tensor t = Tensor.wrap(this, dtype, shape, p);
        liveBytes.addAndGet(t.bytes());
        return t;
    }

    @Override
    public void release(Pointer data, long bytes) {
        check(ct_cuda_free(data), "cudaFree");
        liveBytes.addAndGet(-bytes);
    }

    @Override
    public long liveBytes() {
        return liveBytes.get();
    }

    @Override
    public void zero(Tensor t) {
        check(ct_cuda_memset_async(t.data(), 0, t.bytes(), stream), "cudaMemsetAsync");
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        check(ct_cuda_memcpy_d2d_async(dst.data(), src.data(), src.bytes(), stream), "cudaMemcpyAsync");
    }

    @Override
    public void copyToHost(Tensor src, float[] dst) {
        try (FloatPointer host = new FloatPointer(Math.max(1, dst.length))) {
            check(ct_cuda_memcpy_d2h_async(host, src.data(), (long) dst.length * 4, stream), "cudaMemcpyAsync");
            synchronize();
            host.get(dst, 0, dst.length);
        }
    }

    @Override
    public void copyToHost(Tensor src, int[] dst) {
        try (IntPointer host = new IntPointer(Math.max(1, dst.length))) {
            check(ct_cuda_memcpy_d2h_async(host, src.data(), (long) dst.length * 4, stream), "cudaMemcpyAsync");
            synchronize();
            host.get(dst, 0, dst.length);
        }
    }

    @Override
    public void copyFromHost(float[] src, Tensor dst) {
        try (FloatPointer host = new FloatPointer(src)) {
            check(ct_cuda_memcpy_h2d_async(dst.data(), host, (long) src.length * 4, stream), "cudaMemcpyAsync");
            synchronize(); // the pageable staging buffer is freed on return
        }
    }

    @Override
    public void copyFromHost(int[] src, Tensor dst) {
        try (IntPointer host = new IntPointer(src)) {
            check(ct_cuda_memcpy_h2d_async(dst.data(), host, (long) src.length * 4, stream), "cudaMemcpyAsync");
            synchronize();
        }
    }

    @Override
    public void copyToHost(Tensor src, byte[] dst) {
        try (BytePointer host = new BytePointer(Math.max(1, dst.length))) {
            check(ct_cuda_memcpy_d2h_async(host, src.data(), dst.length, stream), "cudaMemcpyAsync");
            synchronize();
            host.get(dst, 0, dst.length);
        }
    }

    @Override
    public void copyFromHost(byte[] src, Tensor dst) {
        try (BytePointer host = new BytePointer(src)) {
            check(ct_cuda_memcpy_h2d_async(dst.data(), host, src.length, stream), "cudaMemcpyAsync");
            synchronize();
        }
    }

    @Override
    public void synchronize() {
        check(ct_cuda_stream_synchronize(stream), "cudaStreamSynchronize");
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (cublasHandle != null) {
            cublas.cublasDestroy_v2(cublasHandle);
        }
        for (CudnnAlgorithms.Plan plan : convPlans.values()) {
            plan.close();
        }
        convPlans.clear();
        if (cudnnHandle != null) {
            cudnn.cudnnDestroy(cudnnHandle);
        }
        if (convWorkspace != null) {
            check(ct_cuda_free(convWorkspace), "cudaFree of the cuDNN workspace");
        }
        one.deallocate();
        zero.deallocate();
        check(ct_cuda_stream_destroy(stream), "cudaStreamDestroy");
        alphaBeta.deallocate();
    }

    @Override
    public void noop() {
        check(ct_cuda_noop_kernel(stream), "noop kernel");
    }

    // ---- matmul through cuBLAS ------------------------------------------------------------------------------------

    private cublasContext cublas() {
        if (cublasHandle == null) {
            try {
                Loader.load(cublas.class);
            } catch (Throwable e) {
                throw new CudaException("cuBLAS could not be loaded (is libcublas.so.13 installed?): " + e);
            }
            cublasContext handle = new cublasContext();
            checkCublas(cublas.cublasCreate_v2(handle), "cublasCreate");
            checkCublas(cublas.cublasSetStream_v2(handle, new CUstream_st(stream)), "cublasSetStream");
            // Full float32 products (no TF32), as PyTorch's default, so CUDA matches the CPU reference.
            checkCublas(cublas.cublasSetMathMode(handle, cublas.CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
            cublasHandle = handle;
        }
        return cublasHandle;
    }

    private static void checkCublas(int status, String what) {
        if (status != 0) {
            BytePointer s = cublas.cublasGetStatusString(status);
            throw new CudaException(what + " failed: " + (s == null ? "" : s.getString()) + " (cuBLAS status "
                    + status + ")");
        }
    }

    /**
     * Row-major C = alpha op(A) op(B) + beta C is column-major C^T = alpha op(B)^T op(A)^T + beta C^T: cuBLAS gets
     * the operands swapped, with the row-major leading dimensions (storage row lengths).
     */
    @Override
    public synchronized void matmul(Tensor a, Tensor b, Tensor bias, Tensor c, int batch, int m, int n, int k,
                                    boolean transA, boolean transB, long strideA, long strideB, long strideC,
                                    float alpha, float beta) {
        int lda = transA ? m : k;
        int ldb = transB ? k : n;
        alphaBeta.put(0, alpha).put(1, beta);
        checkCublas(cublas.cublasSgemmStridedBatched(cublas(),
                transB ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N, transA ? cublas.CUBLAS_OP_T : cublas.CUBLAS_OP_N,
                n, m, k, alphaBeta.position(0), new FloatPointer(b.data()), ldb, strideB,
                new FloatPointer(a.data()), lda, strideA, alphaBeta.getPointer(1), new FloatPointer(c.data()), n,
                strideC, batch), "cublasSgemmStridedBatched");
        alphaBeta.position(0);
        if (bias != null) {
            check(ct_add_broadcast_cuda(c.data(), bias.data(), c.data(), (long) batch * m, n, stream), "bias add");
        }
    }

    // ---- convolution through cuDNN ---------------------------------------------------------------------------------
    //
    // Called from Java through the preset, as cuBLAS is: no native code of ours links cuDNN (this machine's build has
    // no cuDNN headers, see cmake/CotrainCuda.cmake). Per shape (Conv2dDims) a CudnnAlgorithms.Plan holds the
    // tensor, filter and convolution descriptors and, chosen on first use of each direction, the algorithm
    // (CudnnAlgorithms: the fastest deterministic FMA one within its workspace limit). The workspace is one device
    // buffer shared by every plan, grown to the largest need. Forward uses beta 0 (y is overwritten); the
    // backward calls use beta 1, accumulating like every other backward op. The bias gradient is ct_sum_channels
    // (deterministic), the bias add cudnnAddTensor.

    private cudnnContext cudnn() {
        if (cudnnHandle == null) {
            try {
                Loader.load(cudnn.class);
            } catch (Throwable e) {
                throw new CudaException("cuDNN could not be loaded (is libcudnn.so.9 installed?): " + e);
            }
            cudnnContext handle = new cudnnContext();
            checkCudnn(cudnn.cudnnCreate(handle), "cudnnCreate");
            checkCudnn(cudnn.cudnnSetStream(handle, new CUstream_st(stream)), "cudnnSetStream");
            cudnnHandle = handle;
        }
        return cudnnHandle;
    }

    private static void checkCudnn(int status, String what) {
        CudnnAlgorithms.check(status, what);
    }

    private CudnnAlgorithms.Plan convPlan(Conv2dDims d) {
        CudnnAlgorithms.Plan plan = convPlans.get(d);
        if (plan == null) {
            cudnn(); // loads cuDNN before its descriptor functions are called
            plan = new CudnnAlgorithms.Plan(d);
            convPlans.put(d, plan);
        }
        return plan;
    }

    /** The shared workspace, at least bytes large (null for 0). Growing it waits for queued work that may use it. */
    private Pointer convWorkspace(long bytes) {
        if (bytes <= 0) {
            return null;
        }
        if (bytes > convWorkspaceBytes) {
            if (convWorkspace != null) {
                synchronize();
                check(ct_cuda_free(convWorkspace), "cudaFree of the cuDNN workspace");
                convWorkspace = null;
                convWorkspaceBytes = 0;
            }
            try (PointerPointer<Pointer> holder = new PointerPointer<>(1)) {
                check(ct_cuda_malloc(holder, bytes), "cudaMalloc of " + bytes + " bytes of cuDNN workspace");
                convWorkspace = holder.get(0);
            }
            convWorkspaceBytes = bytes;
        }
        return convWorkspace;
    }

    @Override
    public synchronized void conv2dForward(Tensor x, Tensor weight, Tensor bias, Tensor y, Conv2dDims d) {
        if (d.n() == 0) { // Ops guarantees every other dimension is positive
            return;
        }
        CudnnAlgorithms.Plan p = convPlan(d);
        if (p.forwardAlgo < 0) {
            CudnnAlgorithms.chooseForward(cudnn(), p, d);
        }
        Pointer ws = convWorkspace(p.forwardBytes);
        checkCudnn(cudnn.cudnnConvolutionForward(cudnn(), one, p.x, x.data(), p.w, weight.data(), p.conv, p.forwardAlgo,
                ws, p.forwardBytes, zero, p.y, y.data()), "cudnnConvolutionForward");
        if (bias != null) {
            checkCudnn(cudnn.cudnnAddTensor(cudnn(), one, p.bias, bias.data(), one, p.y, y.data()), "cudnnAddTensor");
        }
    }

    @Override
    public synchronized void conv2dBackwardData(Tensor dy, Tensor weight, Tensor dx, Conv2dDims d) {
        if (d.n() == 0) {
            return;
        }
        CudnnAlgorithms.Plan p = convPlan(d);
        if (p.dataAlgo < 0) {
            CudnnAlgorithms.chooseBackwardData(cudnn(), p, d);
        }
        Pointer ws = convWorkspace(p.dataBytes);
        checkCudnn(cudnn.cudnnConvolutionBackwardData(cudnn(), one, p.w, weight.data(), p.y, dy.data(), p.conv,
                p.dataAlgo, ws, p.dataBytes, one, p.x, dx.data()), "cudnnConvolutionBackwardData");
    }

    @Override
    public synchronized void conv2dBackwardWeight(Tensor dy, Tensor x, Tensor dweight, Tensor dbias, Conv2dDims d) {
        if (d.n() == 0) {
            return;
        }
        if (dbias != null) {
            check(ct_sum_channels_cuda(dy.data(), dbias.data(), d.n(), d.co(), (long) d.ho() * d.wo(), stream),
                    "conv2d bias gradient");
        }
        CudnnAlgorithms.Plan p = convPlan(d);
        if (p.filterAlgo < 0) {
            CudnnAlgorithms.chooseBackwardFilter(cudnn(), p, d);
        }
        Pointer ws = convWorkspace(p.filterBytes);
        checkCudnn(cudnn.cudnnConvolutionBackwardFilter(cudnn(), one, p.x, x.data(), p.y, dy.data(), p.conv,
                p.filterAlgo, ws, p.filterBytes, one, p.w, dweight.data()), "cudnnConvolutionBackwardFilter");
    }

    // ---- ops: one call each, arguments checked by Ops -------------------------------------------------------------

    @Override
    public void randUniform(Tensor out, long seed, long offset) {
        check(ct_rng_uniform_cuda(out.data(), out.numel(), seed, offset, stream), "rng_uniform");
    }

    @Override
    public void randNormal(Tensor out, long seed, long offset) {
        check(ct_rng_normal_cuda(out.data(), out.numel(), seed, offset, stream), "rng_normal");
    }

    @Override
    public void randInt(Tensor out, int low, int high, long seed, long offset) {
        check(ct_rng_randint_cuda(out.data(), out.numel(), low, high, seed, offset, stream), "rng_randint");
    }

    @Override
    public void fill(Tensor out, float value) {
        check(ct_fill_cuda(out.data(), value, out.numel(), stream), "fill");
    }

    @Override
    public void axpby(Tensor a, Tensor b, Tensor out, float alpha, float beta) {
        check(ct_axpby_cuda(a.data(), b.data(), out.data(), alpha, beta, out.numel(), stream), "axpby");
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        check(ct_mul_cuda(a.data(), b.data(), out.data(), out.numel(), stream), "mul");
    }

    @Override
    public void addBroadcast(Tensor a, Tensor b, Tensor out, long rows, long cols) {
        check(ct_add_broadcast_cuda(a.data(), b.data(), out.data(), rows, cols, stream), "add_broadcast");
    }

    @Override
    public void geluForward(Tensor x, Tensor y) {
        check(ct_gelu_forward_cuda(x.data(), y.data(), x.numel(), stream), "gelu_forward");
    }

    @Override
    public void geluBackward(Tensor x, Tensor dy, Tensor dx) {
        check(ct_gelu_backward_cuda(x.data(), dy.data(), dx.data(), x.numel(), stream), "gelu_backward");
    }

    @Override
    public void mishForward(Tensor x, Tensor y) {
        check(ct_mish_forward_cuda(x.data(), y.data(), x.numel(), stream), "mish_forward");
    }

    @Override
    public void mishBackward(Tensor x, Tensor dy, Tensor dx) {
        check(ct_mish_backward_cuda(x.data(), dy.data(), dx.data(), x.numel(), stream), "mish_backward");
    }

    @Override
    public void reluForward(Tensor x, Tensor y) {
        check(ct_relu_forward_cuda(x.data(), y.data(), x.numel(), stream), "relu_forward");
    }

    @Override
    public void reluBackward(Tensor x, Tensor dy, Tensor dx) {
        check(ct_relu_backward_cuda(x.data(), dy.data(), dx.data(), x.numel(), stream), "relu_backward");
    }

    @Override
    public void layerNormForward(Tensor x, Tensor weight, Tensor bias, Tensor y, Tensor mean, Tensor rstd, long rows,
                                 int c, float eps) {
        check(ct_layernorm_forward_cuda(x.data(), weight.data(), bias.data(), y.data(), mean.data(), rstd.data(), rows, c,
                eps, stream), "layernorm_forward");
    }

    @Override
    public void layerNormBackward(Tensor dy, Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dx,
                                  Tensor dweight, Tensor dbias, long rows, int c) {
        check(ct_layernorm_backward_cuda(dy.data(), x.data(), weight.data(), mean.data(), rstd.data(), dx.data(),
                dweight.data(), dbias.data(), rows, c, stream), "layernorm_backward");
    }

    @Override
    public void softmaxForward(Tensor x, Tensor y, long rows, int cols) {
        check(ct_softmax_forward_cuda(x.data(), y.data(), rows, cols, stream), "softmax_forward");
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor dy, Tensor dx, long rows, int cols) {
        check(ct_softmax_backward_cuda(y.data(), dy.data(), dx.data(), rows, cols, stream), "softmax_backward");
    }

    @Override
    public void dropoutForward(Tensor x, Tensor y, Tensor mask, float p, long seed, long offset) {
        check(ct_dropout_forward_cuda(x.data(), y.data(), ptr(mask), x.numel(), p, seed, offset, stream),
                "dropout_forward");
    }

    @Override
    public void dropoutBackward(Tensor dy, Tensor dx, Tensor mask, float p, long seed, long offset,
                                boolean accumulate) {
        check(ct_dropout_backward_cuda(dy.data(), dx.data(), ptr(mask), dy.numel(), p, seed, offset,
                accumulate ? 1 : 0, stream), "dropout_backward");
    }

    @Override
    public void embeddingForward(Tensor table, Tensor index, Tensor out, long n, int v, int c) {
        check(ct_embedding_forward_cuda(table.data(), index.data(), out.data(), n, v, c, stream), "embedding_forward");
    }

    @Override
    public void embeddingBackward(Tensor dout, Tensor index, Tensor dtable, long n, int v, int c) {
        check(ct_embedding_backward_cuda(dout.data(), index.data(), dtable.data(), n, v, c, stream), "embedding_backward");
    }

    @Override
    public void sinusoidalEmbedding(Tensor t, Tensor out, long n, int dim) {
        check(ct_sinusoidal_embedding_cuda(t.data(), out.data(), n, dim, stream), "sinusoidal_embedding");
    }

    @Override
    public void sum(Tensor x, Tensor out, float scale) {
        check(ct_sum_cuda(x.data(), out.data(), x.numel(), scale, stream), "sum");
    }

    @Override
    public void sumBackward(Tensor dout, Tensor dx, float scale) {
        check(ct_sum_backward_cuda(dout.data(), dx.data(), dx.numel(), scale, stream), "sum_backward");
    }

    @Override
    public void sumRows(Tensor x, Tensor out, long rows, long cols) {
        check(ct_sum_rows_cuda(x.data(), out.data(), rows, cols, stream), "sum_rows");
    }

    @Override
    public void sumSquares(Tensor x, Tensor out) {
        check(ct_sum_squares_cuda(x.data(), out.data(), x.numel(), stream), "sum_squares");
    }

    @Override
    public void mseForward(Tensor pred, Tensor target, Tensor weight, Tensor loss) {
        check(ct_mse_forward_cuda(pred.data(), target.data(), ptr(weight), loss.data(), pred.numel(), stream), "mse_forward");
    }

    @Override
    public void mseBackward(Tensor pred, Tensor target, Tensor weight, Tensor dloss, Tensor dpred) {
        check(ct_mse_backward_cuda(pred.data(), target.data(), ptr(weight), dloss.data(), dpred.data(), pred.numel(), stream), "mse_backward");
    }

    @Override
    public void adamwStep(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                          float eps, float weightDecay, float biasCorrection1, float biasCorrection2,
                          float gradScale) {
        check(ct_adamw_step_cuda(param.data(), grad.data(), m.data(), v.data(), param.numel(), lr, beta1, beta2, eps,
                weightDecay, biasCorrection1, biasCorrection2, gradScale, stream), "adamw_step");
    }

    @Override
    public void emaUpdate(Tensor ema, Tensor param, float decay) {
        check(ct_ema_update_cuda(ema.data(), param.data(), ema.numel(), decay, stream), "ema_update");
    }

    @Override
    public void packPanels(Tensor w, Tensor packed, int row0, int rows, int k) {
        check(ct_pack_panels_cuda(w.data(), packed.data(), row0, rows, k, stream), "pack_panels");
    }

    @Override
    public void packedLinear(Tensor a, Tensor packed, Tensor bias, Tensor c, int m, int n, int k) {
        check(ct_packed_linear_cuda(a.data(), packed.data(), bias.data(), c.data(), m, n, k, stream), "packed_linear");
    }

    @Override
    public long decoderLayerWorkspaceSize(int b, int t, int s, int c) {
        // a host-side formula: the CUDA kernel lays its workspace out as the CPU one (decoder_inference.cu)
        return org.cotrain.nativelib.CpuKernels.ct_decoder_layer_workspace_size(b, t, s, c);
    }

    @Override
    public void decoderLayerInference(Tensor x, Tensor memory, Tensor memoryKv, Pointer stepKv,
                                      PointerPointer<?> params, Tensor memoryMask, boolean causal, int b, int t, int s,
                                      int c, int nh, float eps, Tensor workspace) {
        check(ct_decoder_layer_inference_cuda(x.data(), ptr(memory), ptr(memoryKv), stepKv, params, ptr(memoryMask),
                causal ? 1 : 0, b, t, s, c, nh, eps, workspace.data(), stream), "decoder_layer_inference");
    }

    @Override
    public void attentionForward(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor out, Tensor lse, int b, int nh,
                                 int tq, int tk, int hs, float scale, boolean causal, float pDrop, long seed,
                                 long offset) {
        check(ct_attention_forward_cuda(q.data(), k.data(), v.data(), ptr(mask), out.data(), lse.data(), b, nh, tq, tk, hs,
                scale, causal ? 1 : 0, pDrop, seed, offset, stream), "attention_forward");
    }

    @Override
    public void attentionBackward(Tensor dout, Tensor q, Tensor k, Tensor v, Tensor mask, Tensor out, Tensor lse,
                                  Tensor dq, Tensor dk, Tensor dv, int b, int nh, int tq, int tk, int hs, float scale,
                                  boolean causal, float pDrop, long seed, long offset) {
        check(ct_attention_backward_cuda(dout.data(), q.data(), k.data(), v.data(), ptr(mask), out.data(), lse.data(),
                dq.data(), dk.data(), dv.data(), b, nh, tq, tk, hs, scale, causal ? 1 : 0, pDrop, seed, offset, stream), "attention_backward");
    }

    @Override
    public void spatialSoftmaxForward(Tensor x, Tensor out, long n, int h, int w, float temperature) {
        check(ct_spatial_softmax_forward_cuda(x.data(), out.data(), n, h, w, temperature, stream), "spatial_softmax_forward");
    }

    @Override
    public void spatialSoftmaxBackward(Tensor x, Tensor out, Tensor dout, Tensor dx, long n, int h, int w,
                                       float temperature) {
        check(ct_spatial_softmax_backward_cuda(x.data(), out.data(), dout.data(), dx.data(), n, h, w, temperature, stream), "spatial_softmax_backward");
    }

    @Override
    public void sumChannels(Tensor x, Tensor out, long n, long c, long hw) {
        check(ct_sum_channels_cuda(x.data(), out.data(), n, c, hw, stream), "sum_channels");
    }

    @Override
    public void addReluForward(Tensor a, Tensor b, Tensor y) {
        check(ct_add_relu_forward_cuda(a.data(), b.data(), y.data(), y.numel(), stream), "add_relu_forward");
    }

    @Override
    public void maxPool2dForward(Tensor x, Tensor y, Tensor argmax, long planes, int h, int w, int kh, int kw, int sh,
                                 int sw, int ph, int pw) {
        check(ct_maxpool2d_forward_cuda(x.data(), y.data(), argmax.data(), planes, h, w, kh, kw, sh, sw, ph, pw,
                stream), "maxpool2d_forward");
    }

    @Override
    public void maxPool2dBackward(Tensor dy, Tensor argmax, Tensor dx, long planes, int h, int w, int kh, int kw,
                                  int sh, int sw, int ph, int pw) {
        check(ct_maxpool2d_backward_cuda(dy.data(), argmax.data(), dx.data(), planes, h, w, kh, kw, sh, sw, ph, pw,
                stream), "maxpool2d_backward");
    }

    @Override
    public void groupNormForward(Tensor x, Tensor weight, Tensor bias, Tensor y, Tensor mean, Tensor rstd, int n,
                                 int c, long hw, int groups, float eps) {
        check(ct_groupnorm_forward_cuda(x.data(), weight.data(), bias.data(), y.data(), mean.data(), rstd.data(), n, c,
                hw, groups, eps, stream), "groupnorm_forward");
    }

    @Override
    public void groupNormBackward(Tensor dy, Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dx,
                                  Tensor dweight, Tensor dbias, int n, int c, long hw, int groups) {
        check(ct_groupnorm_backward_cuda(dy.data(), x.data(), weight.data(), mean.data(), rstd.data(), dx.data(),
                dweight.data(), dbias.data(), n, c, hw, groups, stream), "groupnorm_backward");
    }

    @Override
    public void groupNormMishForward(Tensor x, Tensor weight, Tensor bias, Tensor y, Tensor mean, Tensor rstd, int n,
                                     int c, long hw, int groups, float eps) {
        check(ct_groupnorm_mish_forward_cuda(x.data(), weight.data(), bias.data(), y.data(), mean.data(),
                rstd.data(), n, c, hw, groups, eps, stream), "groupnorm_mish_forward");
    }

    @Override
    public void groupNormMishBackward(Tensor dy, Tensor x, Tensor weight, Tensor bias, Tensor mean, Tensor rstd,
                                      Tensor dx, Tensor dweight, Tensor dbias, int n, int c, long hw, int groups) {
        check(ct_groupnorm_mish_backward_cuda(dy.data(), x.data(), weight.data(), bias.data(), mean.data(),
                rstd.data(), dx.data(), dweight.data(), dbias.data(), n, c, hw, groups, stream),
                "groupnorm_mish_backward");
    }

    @Override
    public void filmForward(Tensor x, Tensor cond, Tensor y, int b, int c, long t, boolean hasScale) {
        check(ct_film_forward_cuda(x.data(), cond.data(), y.data(), b, c, t, hasScale ? 1 : 0, stream),
                "film_forward");
    }

    @Override
    public void filmBackward(Tensor dy, Tensor x, Tensor cond, Tensor dx, Tensor dcond, int b, int c, long t,
                             boolean hasScale) {
        check(ct_film_backward_cuda(dy.data(), x.data(), cond.data(), dx == null ? null : dx.data(), dcond.data(), b,
                c, t, hasScale ? 1 : 0, stream), "film_backward");
    }

    @Override
    public void imageToFloat(Tensor images, Tensor offsets, Tensor out, int b, int h, int w, int c, int ho, int wo) {
        check(ct_image_to_float_cuda(images.data(), ptr(offsets), out.data(), b, h, w, c, ho, wo, stream),
                "image_to_float");
    }

    @Override
    public void randomCropOffsets(Tensor offsets, int b, int h, int w, int ho, int wo, long seed, long offset) {
        check(ct_random_crop_offsets_cuda(offsets.data(), b, h, w, ho, wo, seed, offset, stream),
                "random_crop_offsets");
    }

    @Override
    public void ddpmAddNoise(Tensor x0, Tensor eps, Tensor t, Tensor abar, int numTimesteps, Tensor xt, int b,
                             long n) {
        check(ct_ddpm_add_noise_cuda(x0.data(), eps.data(), t.data(), abar.data(), numTimesteps, xt.data(), b, n, stream), "ddpm_add_noise");
    }

    @Override
    public void ddpmStep(Tensor model, Tensor xt, Tensor t, Tensor prevT, Tensor abar, int numTimesteps,
                         int predictionType, boolean clip, float clipRange, Tensor noise, long seed, long offset,
                         Tensor out, int b, long n) {
        check(ct_ddpm_step_cuda(model.data(), xt.data(), t.data(), prevT.data(), abar.data(), numTimesteps, predictionType,
                clip ? 1 : 0, clipRange, ptr(noise), seed, offset, out.data(), b, n, stream), "ddpm_step");
    }

    @Override
    public void ddimStep(Tensor model, Tensor xt, Tensor t, Tensor prevT, Tensor abar, int numTimesteps,
                         float finalAbar, float eta, int predictionType, boolean clip, float clipRange,
                         boolean useClippedModelOutput, Tensor noise, long seed, long offset, Tensor out, int b,
                         long n) {
        check(ct_ddim_step_cuda(model.data(), xt.data(), t.data(), prevT.data(), abar.data(), numTimesteps, finalAbar, eta,
                predictionType, clip ? 1 : 0, clipRange, useClippedModelOutput ? 1 : 0, ptr(noise), seed, offset,
                out.data(), b, n, stream), "ddim_step");
    }

    @Override
    public void splitHeads(Tensor x, Tensor out, int b, int t, int nh, int hs, long w, long col, boolean accumulate) {
        check(ct_split_heads_cuda(x.data(), out.data(), b, t, nh, hs, w, col, accumulate ? 1 : 0, stream),
                "split_heads");
    }

    @Override
    public void mergeHeads(Tensor y, Tensor x, int b, int t, int nh, int hs, long w, long col, boolean accumulate) {
        check(ct_merge_heads_cuda(y.data(), x.data(), b, t, nh, hs, w, col, accumulate ? 1 : 0, stream),
                "merge_heads");
    }

    @Override
    public void ambientBatch(Tensor x0, Tensor eps, Tensor z, Tensor t, Tensor tn, Tensor abar, int numTimesteps,
                             int predictionType, boolean weighting, Tensor xt, Tensor target, Tensor weight, int b,
                             long n) {
        check(ct_ambient_batch_cuda(x0.data(), eps.data(), z.data(), t.data(), tn.data(), abar.data(), numTimesteps,
                predictionType, weighting ? 1 : 0, xt.data(), target.data(), ptr(weight), b, n, stream),
                "ambient_batch");
    }

    @Override
    public void bceLogitsForward(Tensor x, Tensor y, Tensor out) {
        check(ct_bce_logits_forward_cuda(x.data(), y.data(), out.data(), x.numel(), stream), "bce_logits_forward");
    }

    @Override
    public void bceLogitsBackward(Tensor x, Tensor y, Tensor dloss, Tensor dx, float scale) {
        check(ct_bce_logits_backward_cuda(x.data(), y.data(), dloss.data(), dx.data(), x.numel(), scale, stream),
                "bce_logits_backward");
    }
}
