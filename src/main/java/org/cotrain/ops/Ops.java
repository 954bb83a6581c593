package org.cotrain.ops;

import java.util.Arrays;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.cotrain.tensor.Backend.Conv2dDims;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Device;
import org.cotrain.tensor.Tensor;

/**
 * Every native op, checked. Each method validates shapes, element types, devices and scalar arguments (throwing
 * {@link IllegalArgumentException} with the op, the argument names and their shapes), then runs the op on the
 * tensors' backend. Nothing unchecked reaches native code, so bad input is an exception, never a crash.
 *
 * <p>Ops never allocate: outputs are passed in. Backward ops accumulate into their gradient outputs (dx += ...),
 * so zero gradient buffers once per step. The math of each op is documented in its C header under
 * native/include/cotrain; the method names follow the C names.
 */
public final class Ops {
    /** Largest attention head size of the CUDA kernel (attention.h). */
    public static final int MAX_CUDA_HEAD_SIZE = 256;

    /**
     * Largest (CI KH KW + CO) Ho Wo of a convolution: the im2col scratch of one sample on the CPU (conv2d.h), 1 GiB
     * of floats. ResNet18's largest layer at 96x96 input needs 0.4 M.
     */
    public static final long MAX_CONV_COLUMN_FLOATS = 1L << 28;

    private Ops() {}

    // ---- random numbers (rng.h) -----------------------------------------------------------------------------------

    /** out[i] = uniform [0, 1) at (seed, offset + i). */
    public static void randUniform(Tensor out, long seed, long offset) {
        f32("randUniform", "out", out);
        out.backend().randUniform(out, seed, offset);
    }

    /** out[i] = standard normal at (seed, offset + i). */
    public static void randNormal(Tensor out, long seed, long offset) {
        f32("randNormal", "out", out);
        out.backend().randNormal(out, seed, offset);
    }

    /** out[i] = integer in [low, high) at (seed, offset + i); out is int32. */
    public static void randInt(Tensor out, int low, int high, long seed, long offset) {
        i32("randInt", "out", out);
        if (high <= low) {
            throw new IllegalArgumentException("randInt: empty range [" + low + ", " + high + ")");
        }
        out.backend().randInt(out, low, high, seed, offset);
    }

    // ---- packed_linear.h ------------------------------------------------------------------------------------------

    /** Panel width of packed_linear.h (CT_PANEL). */
    public static final int PANEL = 32;

    /** Floats of a (rows, k) weight packed in panels: ceil(rows / 32) * 32 * k (ct_packed_panels_size). */
    public static long packedPanelsSize(int rows, int k) {
        return (long) ((rows + PANEL - 1) / PANEL) * PANEL * k;
    }

    /** A new, unfilled tensor for w (N, K) packed in panels, on w's backend. */
    public static Tensor packedWeight(Tensor w) {
        rank("packedWeight", "weight", w, 2, 2);
        return w.backend().empty(Math.toIntExact(packedPanelsSize(w.dim(0), w.dim(1))));
    }

    /** packed &lt;- w (N, K) in panels of 32 output columns (packed_linear.h); packed from {@link #packedWeight}. */
    public static void packPanels(Tensor w, Tensor packed) {
        String op = "packPanels";
        sameBackend(op, w, packed);
        allF32(op, w, packed);
        rank(op, "weight", w, 2, 2);
        numel(op, "packed", packed, packedPanelsSize(w.dim(0), w.dim(1)));
        w.backend().packPanels(w, packed, 0, w.dim(0), w.dim(1));
    }

    /** c (M, N) = a (M, K) W^T + bias (N), with W (N, K) packed by {@link #packPanels}. */
    public static void packedLinear(Tensor a, Tensor packed, int n, Tensor bias, Tensor c) {
        String op = "packedLinear";
        sameBackend(op, a, packed, bias, c);
        allF32(op, a, packed, bias, c);
        rank(op, "a", a, 2, 2);
        int m = a.dim(0);
        int k = a.dim(1);
        numel(op, "packed weight", packed, packedPanelsSize(n, k));
        shape(op, "bias", bias, n);
        shape(op, "c", c, m, n);
        distinct(op, "a", a, "c", c);
        a.backend().packedLinear(a, packed, bias, c, m, n, k);
    }

    // ---- decoder_inference.h --------------------------------------------------------------------------------------

    /** Floats of {@link #decoderLayerInference}'s workspace on {@code backend}. */
    public static long decoderLayerWorkspaceSize(Backend backend, int b, int t, int s, int c) {
        return backend.decoderLayerWorkspaceSize(b, t, s, c);
    }

    /**
     * One pre-norm decoder layer's evaluation forward in one native call (decoder_inference.h), x (B, T, C)
     * overwritten. The memory comes as its tokens (B, S, C) or, with {@code memory} null, as its keys and values
     * computed ahead, memoryKv (B, S, 2C), with stepKv (2C) replacing token 0's (or null). params: the CT_DEC_PARAMS
     * weight pointers of the header, packed as it says, which the caller ({@code nn/PackedDecoderLayer}) owns and
     * checks; memoryMask: additive (T, S) or null; workspace: at least {@link #decoderLayerWorkspaceSize} floats.
     */
    public static void decoderLayerInference(Tensor x, Tensor memory, Tensor memoryKv, Pointer stepKv,
                                             PointerPointer<?> params, Tensor memoryMask, boolean causal, int nh,
                                             float eps, Tensor workspace) {
        String op = "decoderLayerInference";
        sameBackend(op, x, memory, memoryKv, memoryMask, workspace);
        allF32(op, x, memory, memoryKv, memoryMask, workspace);
        rank(op, "x", x, 3, 3);
        int b = x.dim(0);
        int t = x.dim(1);
        int c = x.dim(2);
        if ((memory == null) == (memoryKv == null)) {
            throw new IllegalArgumentException(op + ": give the memory or its keys and values, exactly one");
        }
        if (stepKv != null && memoryKv == null) {
            throw new IllegalArgumentException(op + ": step keys and values come with the memory's keys and values");
        }
        Tensor m = memory != null ? memory : memoryKv;
        rank(op, memory != null ? "memory" : "memory keys and values", m, 3, 3);
        int s = m.dim(1);
        shape(op, memory != null ? "memory" : "memory keys and values", m, b, s, memory != null ? c : 2 * c);
        if (memoryMask != null) {
            shape(op, "memory mask", memoryMask, t, s);
        }
        if (nh <= 0 || c % nh != 0) {
            throw new IllegalArgumentException(op + ": width " + c + " is not a multiple of " + nh + " heads");
        }
        if (params == null || params.capacity() < CT_DEC_PARAMS) {
            throw new IllegalArgumentException(op + ": expected " + CT_DEC_PARAMS + " weight pointers");
        }
        long need = decoderLayerWorkspaceSize(x.backend(), b, t, s, c);
        if (workspace.numel() < need) {
            throw new IllegalArgumentException(op + ": workspace of " + workspace.numel() + " floats, needs " + need);
        }
        distinct(op, "x", x, "memory", m);
        distinct(op, "x", x, "workspace", workspace);
        x.backend().decoderLayerInference(x, memory, memoryKv, stepKv, params, memoryMask, causal, b, t, s, c, nh,
                eps, workspace);
    }

    /** decoder_inference.h's CT_DEC_PARAMS: the weight pointers of one layer. */
    public static final int CT_DEC_PARAMS = 19;

    // ---- matmul.h -------------------------------------------------------------------------------------------------

    /** c = op(a) op(b) (+ bias). See {@link #matmul(Tensor, boolean, Tensor, boolean, Tensor, Tensor, float, float)}. */
    public static void matmul(Tensor a, boolean transA, Tensor b, boolean transB, Tensor bias, Tensor c) {
        matmul(a, transA, b, transB, bias, c, 1f, 0f);
    }

    /**
     * c = alpha op(a) op(b) + beta c (+ bias), batched.
     *
     * <p>a: (M, K), or (K, M) when transA, optionally with a leading batch dimension; b: (K, N), or (N, K) when
     * transB, with or without the batch dimension (2-D b is shared by every batch entry, like a weight);
     * c: (M, N) or (batch, M, N); bias: (N) or null. A linear layer y = x W^T + b with x (B, T, C_in) and
     * W (C_out, C_in) is {@code matmul(x, false, W, true, b, y)} and runs as one GEMM.
     */
    public static void matmul(Tensor a, boolean transA, Tensor b, boolean transB, Tensor bias, Tensor c, float alpha,
                              float beta) {
        String op = "matmul";
        sameBackend(op, a, b, bias, c);
        f32(op, "a", a);
        f32(op, "b", b);
        f32(op, "c", c);
        rank(op, "a", a, 2, 3);
        rank(op, "b", b, 2, 3);
        rank(op, "c", c, 2, 3);
        int batch = c.rank() == 3 ? c.dim(0) : 1;
        int m = c.dim(-2);
        int n = c.dim(-1);
        int aRows = transA ? a.dim(-1) : a.dim(-2);
        int k = transA ? a.dim(-2) : a.dim(-1);
        int bK = transB ? b.dim(-1) : b.dim(-2);
        int bN = transB ? b.dim(-2) : b.dim(-1);
        boolean aBatched = a.rank() == 3;
        boolean bBatched = b.rank() == 3;
        if (aRows != m || bK != k || bN != n || (aBatched && a.dim(0) != batch) || (bBatched && b.dim(0) != batch)
                || (c.rank() == 2 && (aBatched || bBatched))) {
            throw new IllegalArgumentException(op + ": shapes do not chain: a " + a.shapeString()
                    + (transA ? "^T" : "") + " x b " + b.shapeString() + (transB ? "^T" : "") + " -> c "
                    + c.shapeString());
        }
        if (bias != null) {
            f32(op, "bias", bias);
            shape(op, "bias", bias, n);
        }
        finite(op, "alpha", alpha);
        finite(op, "beta", beta);
        if (aBatched && !bBatched && !transA) {
            // (batch, M, K) x (K, N): one GEMM of (batch * M, K) x (K, N), better for the BLAS than batch small ones.
            a.backend().matmul(a, b, bias, c, 1, batch * m, n, k, false, transB, 0, 0, 0, alpha, beta);
            return;
        }
        long strideA = aBatched ? (long) m * k : 0;
        long strideB = bBatched ? (long) k * n : 0;
        a.backend().matmul(a, b, bias, c, batch, m, n, k, transA, transB, strideA, strideB, (long) m * n, alpha,
                beta);
    }

    // ---- elementwise.h --------------------------------------------------------------------------------------------

    /** out = value. */
    public static void fill(Tensor out, float value) {
        f32("fill", "out", out);
        out.backend().fill(out, value);
    }

    /** out = alpha a + beta b (same shapes; out may be a or b). */
    public static void axpby(Tensor a, Tensor b, Tensor out, float alpha, float beta) {
        pointwise("axpby", a, b, out);
        a.backend().axpby(a, b, out, alpha, beta);
    }

    /** out = a + b. */
    public static void add(Tensor a, Tensor b, Tensor out) {
        axpby(a, b, out, 1f, 1f);
    }

    /** out = alpha a. */
    public static void scale(Tensor a, float alpha, Tensor out) {
        axpby(a, a, out, alpha, 0f);
    }

    /** out = a * b, element by element. */
    public static void mul(Tensor a, Tensor b, Tensor out) {
        pointwise("mul", a, b, out);
        a.backend().mul(a, b, out);
    }

    /**
     * out = a + b broadcast over a's leading dimensions: b's shape equals a's trailing dimensions (a bias (C) on
     * (B, T, C), a position embedding (T, C) on (B, T, C)). Its backward for b is {@link #sumRows}.
     */
    public static void addBroadcast(Tensor a, Tensor b, Tensor out) {
        String op = "addBroadcast";
        sameBackend(op, a, b, out);
        f32(op, "a", a);
        f32(op, "b", b);
        f32(op, "out", out);
        sameShape(op, "a", a, "out", out);
        int[] as = a.shape();
        int[] bs = b.shape();
        if (bs.length > as.length || !Arrays.equals(bs, Arrays.copyOfRange(as, as.length - bs.length, as.length))) {
            throw new IllegalArgumentException(op + ": b " + b.shapeString() + " is not a trailing part of a "
                    + a.shapeString());
        }
        long cols = b.numel();
        a.backend().addBroadcast(a, b, out, cols == 0 ? 0 : a.numel() / cols, cols);
    }

    // ---- activation.h ---------------------------------------------------------------------------------------------

    public static void geluForward(Tensor x, Tensor y) {
        pointwise("geluForward", x, y);
        x.backend().geluForward(x, y);
    }

    /** dx += dy * gelu'(x). */
    public static void geluBackward(Tensor x, Tensor dy, Tensor dx) {
        pointwise("geluBackward", x, dy, dx);
        x.backend().geluBackward(x, dy, dx);
    }

    public static void mishForward(Tensor x, Tensor y) {
        pointwise("mishForward", x, y);
        x.backend().mishForward(x, y);
    }

    public static void mishBackward(Tensor x, Tensor dy, Tensor dx) {
        pointwise("mishBackward", x, dy, dx);
        x.backend().mishBackward(x, dy, dx);
    }

    public static void reluForward(Tensor x, Tensor y) {
        pointwise("reluForward", x, y);
        x.backend().reluForward(x, y);
    }

    public static void reluBackward(Tensor x, Tensor dy, Tensor dx) {
        pointwise("reluBackward", x, dy, dx);
        x.backend().reluBackward(x, dy, dx);
    }

    /**
     * y = max(a + b, 0), the residual join of a ResNet block, in one pass. Its backward is
     * {@code reluBackward(y, dy, d)} (y > 0 exactly where a + b > 0), with d then flowing to both a and b.
     */
    public static void addReluForward(Tensor a, Tensor b, Tensor y) {
        pointwise("addReluForward", a, b, y);
        a.backend().addReluForward(a, b, y);
    }

    // ---- layernorm.h ----------------------------------------------------------------------------------------------

    /** LayerNorm over the last dimension C of x (..., C); mean and rstd hold one value per row. */
    public static void layerNormForward(Tensor x, Tensor weight, Tensor bias, Tensor y, Tensor mean, Tensor rstd,
                                        float eps) {
        String op = "layerNormForward";
        sameBackend(op, x, weight, bias, y, mean, rstd);
        allF32(op, x, weight, bias, y, mean, rstd);
        int c = lastDim(op, "x", x);
        shape(op, "weight", weight, c);
        shape(op, "bias", bias, c);
        sameShape(op, "x", x, "y", y);
        long rows = x.numel() / Math.max(c, 1);
        numel(op, "mean", mean, rows);
        numel(op, "rstd", rstd, rows);
        if (!(eps > 0) || !Float.isFinite(eps)) {
            throw new IllegalArgumentException(op + ": eps must be positive and finite, got " + eps);
        }
        x.backend().layerNormForward(x, weight, bias, y, mean, rstd, rows, c, eps);
    }

    public static void layerNormBackward(Tensor dy, Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dx,
                                         Tensor dweight, Tensor dbias) {
        String op = "layerNormBackward";
        sameBackend(op, dy, x, weight, mean, rstd, dx, dweight, dbias);
        allF32(op, dy, x, weight, mean, rstd, dx, dweight, dbias);
        int c = lastDim(op, "x", x);
        sameShape(op, "x", x, "dy", dy);
        sameShape(op, "x", x, "dx", dx);
        shape(op, "weight", weight, c);
        shape(op, "dweight", dweight, c);
        shape(op, "dbias", dbias, c);
        long rows = x.numel() / Math.max(c, 1);
        numel(op, "mean", mean, rows);
        numel(op, "rstd", rstd, rows);
        x.backend().layerNormBackward(dy, x, weight, mean, rstd, dx, dweight, dbias, rows, c);
    }

    // ---- softmax.h ------------------------------------------------------------------------------------------------

    /** Softmax over the last dimension. */
    public static void softmaxForward(Tensor x, Tensor y) {
        String op = "softmaxForward";
        pointwise(op, x, y);
        int cols = lastDim(op, "x", x);
        x.backend().softmaxForward(x, y, x.numel() / Math.max(cols, 1), cols);
    }

    public static void softmaxBackward(Tensor y, Tensor dy, Tensor dx) {
        String op = "softmaxBackward";
        pointwise(op, y, dy, dx);
        int cols = lastDim(op, "y", y);
        y.backend().softmaxBackward(y, dy, dx, y.numel() / Math.max(cols, 1), cols);
    }

    // ---- dropout.h ------------------------------------------------------------------------------------------------

    /** y = dropout(x) with the mask of (seed, offset); no mask is kept (the backward recomputes it). */
    public static void dropoutForward(Tensor x, Tensor y, float p, long seed, long offset) {
        dropoutForward(x, y, null, p, seed, offset);
    }

    /**
     * y = dropout(x); mask: null, or an int32 tensor of at least ceil(numel / 4) elements whose bytes receive the
     * keep decisions for {@link #dropoutBackward(Tensor, Tensor, Tensor, float, long, long, boolean)}.
     */
    public static void dropoutForward(Tensor x, Tensor y, Tensor mask, float p, long seed, long offset) {
        pointwise("dropoutForward", x, y);
        probability("dropoutForward", p);
        byteMask("dropoutForward", mask, x);
        x.backend().dropoutForward(x, y, mask, p, seed, offset);
    }

    /** dx += d/dx of dropout given dy, the mask recomputed from (seed, offset). */
    public static void dropoutBackward(Tensor dy, Tensor dx, float p, long seed, long offset) {
        dropoutBackward(dy, dx, null, p, seed, offset, true);
    }

    /** dx (+)= d/dx of dropout given dy; mask: the forward's, or null to recompute it from (seed, offset). */
    public static void dropoutBackward(Tensor dy, Tensor dx, Tensor mask, float p, long seed, long offset,
                                       boolean accumulate) {
        pointwise("dropoutBackward", dy, dx);
        probability("dropoutBackward", p);
        byteMask("dropoutBackward", mask, dy);
        dy.backend().dropoutBackward(dy, dx, mask, p, seed, offset, accumulate);
    }

    /** Bytes per element kept in an int32 tensor: null, or on x's backend with room for numel(x) bytes. */
    private static void byteMask(String op, Tensor mask, Tensor x) {
        if (mask == null) {
            return;
        }
        if (mask.backend() != x.backend() || mask.dtype() != DType.I32 || mask.numel() * 4 < x.numel()) {
            throw new IllegalArgumentException(op + ": mask " + mask.shapeString() + " " + mask.dtype() + " on "
                    + mask.backend().name() + " must be int32 on " + x.backend().name() + " with at least "
                    + (x.numel() + 3) / 4 + " elements (a byte per element of " + x.shapeString() + ")");
        }
    }

    // ---- embedding.h ----------------------------------------------------------------------------------------------

    /** out[..., :] = table[index[...], :]; table (V, C), index int32 of any shape, out (index shape..., C). */
    public static void embeddingForward(Tensor table, Tensor index, Tensor out) {
        String op = "embeddingForward";
        sameBackend(op, table, index, out);
        f32(op, "table", table);
        i32(op, "index", index);
        f32(op, "out", out);
        rank(op, "table", table, 2, 2);
        int c = table.dim(1);
        expectLookupShape(op, index, out, c);
        checkIndices(op, "index", index, table.dim(0));
        table.backend().embeddingForward(table, index, out, index.numel(), table.dim(0), c);
    }

    /** dtable[v] += sum of dout rows whose index is v. */
    public static void embeddingBackward(Tensor dout, Tensor index, Tensor dtable) {
        String op = "embeddingBackward";
        sameBackend(op, dout, index, dtable);
        f32(op, "dout", dout);
        i32(op, "index", index);
        f32(op, "dtable", dtable);
        rank(op, "dtable", dtable, 2, 2);
        int c = dtable.dim(1);
        expectLookupShape(op, index, dout, c);
        checkIndices(op, "index", index, dtable.dim(0));
        dout.backend().embeddingBackward(dout, index, dtable, index.numel(), dtable.dim(0), c);
    }

    /** Diffusion Policy's SinusoidalPosEmb: t (n) float steps -> out (n, dim), dim even and >= 4. */
    public static void sinusoidalEmbedding(Tensor t, Tensor out) {
        String op = "sinusoidalEmbedding";
        sameBackend(op, t, out);
        f32(op, "t", t);
        f32(op, "out", out);
        int dim = lastDim(op, "out", out);
        if (dim < 4 || dim % 2 != 0) {
            throw new IllegalArgumentException(op + ": embedding size must be even and >= 4, out has shape "
                    + out.shapeString());
        }
        numel(op, "out", out, t.numel() * dim);
        t.backend().sinusoidalEmbedding(t, out, t.numel(), dim);
    }

    // ---- reduce.h -------------------------------------------------------------------------------------------------

    /** out[0] = scale * sum(x); use scale 1/n for the mean. out has one element. */
    public static void sum(Tensor x, Tensor out, float scale) {
        String op = "sum";
        sameBackend(op, x, out);
        allF32(op, x, out);
        numel(op, "out", out, 1);
        x.backend().sum(x, out, scale);
    }

    /** dx += scale * dout[0]. */
    public static void sumBackward(Tensor dout, Tensor dx, float scale) {
        String op = "sumBackward";
        sameBackend(op, dout, dx);
        allF32(op, dout, dx);
        numel(op, "dout", dout, 1);
        dx.backend().sumBackward(dout, dx, scale);
    }

    /** out[c] += sum over rows of x (..., C): the gradient of a broadcast bias or embedding. out: (C), or b's shape. */
    public static void sumRows(Tensor x, Tensor out) {
        String op = "sumRows";
        sameBackend(op, x, out);
        allF32(op, x, out);
        long cols = out.numel();
        if (cols == 0 || x.numel() % cols != 0) {
            throw new IllegalArgumentException(op + ": x " + x.shapeString() + " does not split into rows of out "
                    + out.shapeString());
        }
        int[] xs = x.shape();
        int[] os = out.shape();
        if (os.length > xs.length || !Arrays.equals(os, Arrays.copyOfRange(xs, xs.length - os.length, xs.length))) {
            throw new IllegalArgumentException(op + ": out " + out.shapeString() + " is not a trailing part of x "
                    + x.shapeString());
        }
        x.backend().sumRows(x, out, x.numel() / cols, cols);
    }

    /**
     * out[c] += sum over samples and pixels of x (N, C, ...): the gradient of a per-channel bias of NCHW maps.
     * out: (C).
     */
    public static void sumChannels(Tensor x, Tensor out) {
        String op = "sumChannels";
        sameBackend(op, x, out);
        allF32(op, x, out);
        if (x.rank() < 2) {
            throw new IllegalArgumentException(op + ": x must be (N, C, ...), has shape " + x.shapeString());
        }
        shape(op, "out", out, x.dim(1));
        long hw = x.dim(0) * (long) x.dim(1) == 0 ? 0 : x.numel() / ((long) x.dim(0) * x.dim(1));
        x.backend().sumChannels(x, out, x.dim(0), x.dim(1), hw);
    }

    /** out[0] = sum(x^2). */
    public static void sumSquares(Tensor x, Tensor out) {
        String op = "sumSquares";
        sameBackend(op, x, out);
        allF32(op, x, out);
        numel(op, "out", out, 1);
        x.backend().sumSquares(x, out);
    }

    /** loss[0] = mean(weight * (pred - target)^2); weight may be null (all ones). */
    public static void mseForward(Tensor pred, Tensor target, Tensor weight, Tensor loss) {
        String op = "mseForward";
        sameBackend(op, pred, target, weight, loss);
        allF32(op, pred, target, weight, loss);
        sameShape(op, "pred", pred, "target", target);
        if (weight != null) {
            sameShape(op, "pred", pred, "weight", weight);
        }
        numel(op, "loss", loss, 1);
        pred.backend().mseForward(pred, target, weight, loss);
    }

    /** dpred += dloss[0] * 2/n * weight * (pred - target). */
    public static void mseBackward(Tensor pred, Tensor target, Tensor weight, Tensor dloss, Tensor dpred) {
        String op = "mseBackward";
        sameBackend(op, pred, target, weight, dloss, dpred);
        allF32(op, pred, target, weight, dloss, dpred);
        sameShape(op, "pred", pred, "target", target);
        sameShape(op, "pred", pred, "dpred", dpred);
        if (weight != null) {
            sameShape(op, "pred", pred, "weight", weight);
        }
        numel(op, "dloss", dloss, 1);
        pred.backend().mseBackward(pred, target, weight, dloss, dpred);
    }

    // ---- optim.h --------------------------------------------------------------------------------------------------

    /**
     * One AdamW step on a flat parameter buffer (torch.optim.AdamW semantics). step counts from 1;
     * gradScale multiplies the gradient first (gradient-norm clipping).
     */
    public static void adamwStep(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2,
                                 float eps, float weightDecay, long step, float gradScale) {
        String op = "adamwStep";
        sameBackend(op, param, grad, m, v);
        allF32(op, param, grad, m, v);
        sameShape(op, "param", param, "grad", grad);
        sameShape(op, "param", param, "m", m);
        sameShape(op, "param", param, "v", v);
        if (step < 1) {
            throw new IllegalArgumentException(op + ": step counts from 1, got " + step);
        }
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException(op + ": betas must be in [0, 1), got " + beta1 + ", " + beta2);
        }
        finite(op, "lr", lr);
        finite(op, "eps", eps);
        finite(op, "weightDecay", weightDecay);
        finite(op, "gradScale", gradScale);
        float bc1 = (float) (1.0 - Math.pow(beta1, step));
        float bc2 = (float) (1.0 - Math.pow(beta2, step));
        param.backend().adamwStep(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, bc1, bc2, gradScale);
    }

    /** ema = decay ema + (1 - decay) param. */
    public static void emaUpdate(Tensor ema, Tensor param, float decay) {
        String op = "emaUpdate";
        sameBackend(op, ema, param);
        allF32(op, ema, param);
        sameShape(op, "ema", ema, "param", param);
        if (!(decay >= 0 && decay <= 1)) {
            throw new IllegalArgumentException(op + ": decay must be in [0, 1], got " + decay);
        }
        ema.backend().emaUpdate(ema, param, decay);
    }

    // ---- attention.h ----------------------------------------------------------------------------------------------

    /**
     * Fused attention: q (B, NH, Tq, HS), k and v (B, NH, Tk, HS), mask (Tq, Tk) additive or null, out like q,
     * lse (B, NH, Tq) saved for the backward. Dropout with probability pDrop on the attention weights.
     */
    public static void attentionForward(Tensor q, Tensor k, Tensor v, Tensor mask, Tensor out, Tensor lse,
                                        float scale, boolean causal, float pDrop, long seed, long offset) {
        String op = "attentionForward";
        sameBackend(op, q, k, v, mask, out, lse);
        allF32(op, q, k, v, mask, out, lse);
        int[] d = attentionDims(op, q, k, v, mask, lse);
        sameShape(op, "q", q, "out", out);
        finite(op, "scale", scale);
        probability(op, pDrop);
        q.backend().attentionForward(q, k, v, mask, out, lse, d[0], d[1], d[2], d[3], d[4], scale, causal, pDrop,
                seed, offset);
    }

    /** Gradients of attentionForward, accumulated into dq, dk, dv (same arguments as the forward, plus out, lse). */
    public static void attentionBackward(Tensor dout, Tensor q, Tensor k, Tensor v, Tensor mask, Tensor out,
                                         Tensor lse, Tensor dq, Tensor dk, Tensor dv, float scale, boolean causal,
                                         float pDrop, long seed, long offset) {
        String op = "attentionBackward";
        sameBackend(op, dout, q, k, v, mask, out, lse, dq, dk, dv);
        allF32(op, dout, q, k, v, mask, out, lse, dq, dk, dv);
        int[] d = attentionDims(op, q, k, v, mask, lse);
        sameShape(op, "q", q, "out", out);
        sameShape(op, "q", q, "dout", dout);
        sameShape(op, "q", q, "dq", dq);
        sameShape(op, "k", k, "dk", dk);
        sameShape(op, "v", v, "dv", dv);
        finite(op, "scale", scale);
        probability(op, pDrop);
        q.backend().attentionBackward(dout, q, k, v, mask, out, lse, dq, dk, dv, d[0], d[1], d[2], d[3], d[4], scale,
                causal, pDrop, seed, offset);
    }

    private static int[] attentionDims(String op, Tensor q, Tensor k, Tensor v, Tensor mask, Tensor lse) {
        rank(op, "q", q, 4, 4);
        rank(op, "k", k, 4, 4);
        int b = q.dim(0);
        int nh = q.dim(1);
        int tq = q.dim(2);
        int hs = q.dim(3);
        int tk = k.dim(2);
        shape(op, "k", k, b, nh, tk, hs);
        shape(op, "v", v, b, nh, tk, hs);
        shape(op, "lse", lse, b, nh, tq);
        if (mask != null) {
            shape(op, "mask", mask, tq, tk);
        }
        if (q.device() == Device.CUDA && hs > MAX_CUDA_HEAD_SIZE) {
            throw new IllegalArgumentException(op + ": head size " + hs + " of q " + q.shapeString()
                    + " exceeds the CUDA kernel's limit of " + MAX_CUDA_HEAD_SIZE);
        }
        return new int[] {b, nh, tq, tk, hs};
    }

    // ---- spatial_softmax.h ----------------------------------------------------------------------------------------

    /** x (B, K, H, W) keypoint maps -> out (B, K, 2) expected (x, y) on a [-1, 1] grid. */
    public static void spatialSoftmaxForward(Tensor x, Tensor out, float temperature) {
        String op = "spatialSoftmaxForward";
        sameBackend(op, x, out);
        allF32(op, x, out);
        rank(op, "x", x, 4, 4);
        shape(op, "out", out, x.dim(0), x.dim(1), 2);
        positive(op, "temperature", temperature);
        x.backend().spatialSoftmaxForward(x, out, (long) x.dim(0) * x.dim(1), x.dim(2), x.dim(3), temperature);
    }

    public static void spatialSoftmaxBackward(Tensor x, Tensor out, Tensor dout, Tensor dx, float temperature) {
        String op = "spatialSoftmaxBackward";
        sameBackend(op, x, out, dout, dx);
        allF32(op, x, out, dout, dx);
        rank(op, "x", x, 4, 4);
        shape(op, "out", out, x.dim(0), x.dim(1), 2);
        shape(op, "dout", dout, x.dim(0), x.dim(1), 2);
        sameShape(op, "x", x, "dx", dx);
        positive(op, "temperature", temperature);
        x.backend().spatialSoftmaxBackward(x, out, dout, dx, (long) x.dim(0) * x.dim(1), x.dim(2), x.dim(3),
                temperature);
    }

    // ---- conv2d.h -------------------------------------------------------------------------------------------------

    /**
     * y = conv2d(x, weight) + bias as torch.nn.functional.conv2d with groups 1: x (N, CI, H, W), weight
     * (CO, CI, KH, KW), bias (CO) or null, y (N, CO, Ho, Wo) with Ho = (H + 2 padding - KH) / stride + 1.
     */
    public static void conv2dForward(Tensor x, Tensor weight, Tensor bias, Tensor y, int stride, int padding) {
        conv2dForward(x, weight, bias, y, stride, stride, padding, padding);
    }

    public static void conv2dForward(Tensor x, Tensor weight, Tensor bias, Tensor y, int strideH, int strideW,
                                     int padH, int padW) {
        String op = "conv2dForward";
        sameBackend(op, x, weight, bias, y);
        allF32(op, x, weight, bias, y);
        Conv2dDims d = convDims(op, x, weight, strideH, strideW, padH, padW);
        shape(op, "y", y, d.n(), d.co(), d.ho(), d.wo());
        if (bias != null) {
            shape(op, "bias", bias, d.co());
        }
        distinct(op, "y", y, "x", x);
        distinct(op, "y", y, "weight", weight);
        x.backend().conv2dForward(x, weight, bias, y, d);
    }

    /** dx += the gradient of conv2d with respect to its input; shapes as {@link #conv2dForward}. */
    public static void conv2dBackwardData(Tensor dy, Tensor weight, Tensor dx, int stride, int padding) {
        conv2dBackwardData(dy, weight, dx, stride, stride, padding, padding);
    }

    public static void conv2dBackwardData(Tensor dy, Tensor weight, Tensor dx, int strideH, int strideW, int padH,
                                          int padW) {
        String op = "conv2dBackwardData";
        sameBackend(op, dy, weight, dx);
        allF32(op, dy, weight, dx);
        Conv2dDims d = convDims(op, dx, weight, strideH, strideW, padH, padW);
        shape(op, "dy", dy, d.n(), d.co(), d.ho(), d.wo());
        distinct(op, "dx", dx, "dy", dy);
        distinct(op, "dx", dx, "weight", weight);
        dy.backend().conv2dBackwardData(dy, weight, dx, d);
    }

    /**
     * dweight += the gradient of conv2d with respect to its weight, dbias += sum of dy over samples and pixels
     * (dbias may be null); shapes as {@link #conv2dForward}.
     */
    public static void conv2dBackwardWeight(Tensor dy, Tensor x, Tensor dweight, Tensor dbias, int stride,
                                            int padding) {
        conv2dBackwardWeight(dy, x, dweight, dbias, stride, stride, padding, padding);
    }

    public static void conv2dBackwardWeight(Tensor dy, Tensor x, Tensor dweight, Tensor dbias, int strideH,
                                            int strideW, int padH, int padW) {
        String op = "conv2dBackwardWeight";
        sameBackend(op, dy, x, dweight, dbias);
        allF32(op, dy, x, dweight, dbias);
        Conv2dDims d = convDims(op, x, dweight, strideH, strideW, padH, padW);
        shape(op, "dy", dy, d.n(), d.co(), d.ho(), d.wo());
        if (dbias != null) {
            shape(op, "dbias", dbias, d.co());
        }
        distinct(op, "dweight", dweight, "dy", dy);
        distinct(op, "dweight", dweight, "x", x);
        dy.backend().conv2dBackwardWeight(dy, x, dweight, dbias, d);
    }

    /** Output size of a convolution or pooling window along one axis: (size + 2 padding - kernel) / stride + 1. */
    public static int convOutputSize(int size, int kernel, int stride, int padding) {
        return (size + 2 * padding - kernel) / stride + 1;
    }

    /** The dimensions of a convolution of x (N, CI, H, W) with weight (CO, CI, KH, KW), checked. */
    private static Conv2dDims convDims(String op, Tensor x, Tensor weight, int sh, int sw, int ph, int pw) {
        rank(op, "x", x, 4, 4);
        rank(op, "weight", weight, 4, 4);
        int n = x.dim(0);
        int ci = x.dim(1);
        int h = x.dim(2);
        int w = x.dim(3);
        int co = weight.dim(0);
        int kh = weight.dim(2);
        int kw = weight.dim(3);
        if (weight.dim(1) != ci) {
            throw new IllegalArgumentException(op + ": weight " + weight.shapeString() + " expects " + weight.dim(1)
                    + " input channels, x " + x.shapeString() + " has " + ci);
        }
        if (ci < 1 || co < 1 || kh < 1 || kw < 1) {
            throw new IllegalArgumentException(op + ": channels and kernel sizes must be positive: x "
                    + x.shapeString() + ", weight " + weight.shapeString());
        }
        if (sh < 1 || sw < 1 || ph < 0 || pw < 0) {
            throw new IllegalArgumentException(op + ": stride must be >= 1 and padding >= 0, got stride (" + sh + ", "
                    + sw + "), padding (" + ph + ", " + pw + ")");
        }
        if (h + 2L * ph < kh || w + 2L * pw < kw) {
            throw new IllegalArgumentException(op + ": kernel " + kh + "x" + kw + " of weight " + weight.shapeString()
                    + " is larger than the padded input of x " + x.shapeString() + " (padding " + ph + ", " + pw
                    + ")");
        }
        Conv2dDims d = new Conv2dDims(n, ci, h, w, co, kh, kw, sh, sw, ph, pw);
        long columns = ((long) ci * kh * kw + co) * d.ho() * d.wo();
        if (columns > MAX_CONV_COLUMN_FLOATS) {
            throw new IllegalArgumentException(op + ": x " + x.shapeString() + " with weight " + weight.shapeString()
                    + " needs " + columns + " floats of im2col columns per sample, more than the limit of "
                    + MAX_CONV_COLUMN_FLOATS);
        }
        return d;
    }

    // ---- maxpool.h ------------------------------------------------------------------------------------------------

    /**
     * torch.nn.MaxPool2d(kernel, stride, padding): x (N, C, H, W) -> y (N, C, Ho, Wo) and argmax int32 (N, C, Ho, Wo),
     * the index r W + c of each maximum within its plane, for the backward. padding <= kernel / 2.
     */
    public static void maxPool2dForward(Tensor x, Tensor y, Tensor argmax, int kernel, int stride, int padding) {
        String op = "maxPool2dForward";
        sameBackend(op, x, y, argmax);
        f32(op, "x", x);
        f32(op, "y", y);
        i32(op, "argmax", argmax);
        int[] o = poolDims(op, x, kernel, stride, padding);
        shape(op, "y", y, x.dim(0), x.dim(1), o[0], o[1]);
        shape(op, "argmax", argmax, x.dim(0), x.dim(1), o[0], o[1]);
        x.backend().maxPool2dForward(x, y, argmax, (long) x.dim(0) * x.dim(1), x.dim(2), x.dim(3), kernel, kernel,
                stride, stride, padding, padding);
    }

    /** dx[argmax] += dy, per plane; dx (N, C, H, W), dy and argmax (N, C, Ho, Wo) as the forward made them. */
    public static void maxPool2dBackward(Tensor dy, Tensor argmax, Tensor dx, int kernel, int stride, int padding) {
        String op = "maxPool2dBackward";
        sameBackend(op, dy, argmax, dx);
        f32(op, "dy", dy);
        f32(op, "dx", dx);
        i32(op, "argmax", argmax);
        int[] o = poolDims(op, dx, kernel, stride, padding);
        shape(op, "dy", dy, dx.dim(0), dx.dim(1), o[0], o[1]);
        shape(op, "argmax", argmax, dx.dim(0), dx.dim(1), o[0], o[1]);
        dx.backend().maxPool2dBackward(dy, argmax, dx, (long) dx.dim(0) * dx.dim(1), dx.dim(2), dx.dim(3), kernel,
                kernel, stride, stride, padding, padding);
    }

    private static int[] poolDims(String op, Tensor x, int kernel, int stride, int padding) {
        rank(op, "x", x, 4, 4);
        if (kernel < 1 || stride < 1 || padding < 0 || padding > kernel / 2) {
            throw new IllegalArgumentException(op + ": need kernel >= 1, stride >= 1 and 0 <= padding <= kernel / 2, "
                    + "got kernel " + kernel + ", stride " + stride + ", padding " + padding);
        }
        int h = x.dim(2);
        int w = x.dim(3);
        if (h + 2L * padding < kernel || w + 2L * padding < kernel) {
            throw new IllegalArgumentException(op + ": kernel " + kernel + " is larger than the padded input "
                    + x.shapeString() + " (padding " + padding + ")");
        }
        return new int[] {convOutputSize(h, kernel, stride, padding), convOutputSize(w, kernel, stride, padding)};
    }

    // ---- groupnorm.h ----------------------------------------------------------------------------------------------

    /**
     * torch.nn.GroupNorm(groups, C, eps): x, y (N, C, ...) with C a multiple of groups; weight, bias (C); mean and
     * rstd (N, groups), saved for the backward.
     */
    public static void groupNormForward(Tensor x, Tensor weight, Tensor bias, Tensor y, Tensor mean, Tensor rstd,
                                        int groups, float eps) {
        String op = "groupNormForward";
        sameBackend(op, x, weight, bias, y, mean, rstd);
        allF32(op, x, weight, bias, y, mean, rstd);
        long hw = groupNormDims(op, x, groups, mean, rstd);
        int c = x.dim(1);
        shape(op, "weight", weight, c);
        shape(op, "bias", bias, c);
        sameShape(op, "x", x, "y", y);
        positive(op, "eps", eps);
        x.backend().groupNormForward(x, weight, bias, y, mean, rstd, x.dim(0), c, hw, groups, eps);
    }

    /** dx, dweight and dbias accumulate the gradient of GroupNorm, from the forward's mean and rstd. */
    public static void groupNormBackward(Tensor dy, Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dx,
                                         Tensor dweight, Tensor dbias, int groups) {
        String op = "groupNormBackward";
        sameBackend(op, dy, x, weight, mean, rstd, dx, dweight, dbias);
        allF32(op, dy, x, weight, mean, rstd, dx, dweight, dbias);
        long hw = groupNormDims(op, x, groups, mean, rstd);
        int c = x.dim(1);
        sameShape(op, "x", x, "dy", dy);
        sameShape(op, "x", x, "dx", dx);
        shape(op, "weight", weight, c);
        shape(op, "dweight", dweight, c);
        shape(op, "dbias", dbias, c);
        x.backend().groupNormBackward(dy, x, weight, mean, rstd, dx, dweight, dbias, x.dim(0), c, hw, groups);
    }

    /**
     * GroupNorm(groups, C, eps) then Mish, fused (Diffusion Policy's Conv1dBlock tail): y = mish(groupnorm(x)), the
     * GroupNorm output not stored; shapes as {@link #groupNormForward}. y must not share storage with x.
     */
    public static void groupNormMishForward(Tensor x, Tensor weight, Tensor bias, Tensor y, Tensor mean, Tensor rstd,
                                            int groups, float eps) {
        String op = "groupNormMishForward";
        sameBackend(op, x, weight, bias, y, mean, rstd);
        allF32(op, x, weight, bias, y, mean, rstd);
        long hw = groupNormDims(op, x, groups, mean, rstd);
        int c = x.dim(1);
        shape(op, "weight", weight, c);
        shape(op, "bias", bias, c);
        sameShape(op, "x", x, "y", y);
        distinct(op, "y", y, "x", x);
        positive(op, "eps", eps);
        x.backend().groupNormMishForward(x, weight, bias, y, mean, rstd, x.dim(0), c, hw, groups, eps);
    }

    /**
     * The gradient of {@link #groupNormMishForward} from its mean and rstd (the GroupNorm output is recomputed from x):
     * dx is written (=, not accumulated; it must not share storage with dy or x), dweight and dbias accumulate.
     */
    public static void groupNormMishBackward(Tensor dy, Tensor x, Tensor weight, Tensor bias, Tensor mean,
                                             Tensor rstd, Tensor dx, Tensor dweight, Tensor dbias, int groups) {
        String op = "groupNormMishBackward";
        sameBackend(op, dy, x, weight, bias, mean, rstd, dx, dweight, dbias);
        allF32(op, dy, x, weight, bias, mean, rstd, dx, dweight, dbias);
        long hw = groupNormDims(op, x, groups, mean, rstd);
        int c = x.dim(1);
        sameShape(op, "x", x, "dy", dy);
        sameShape(op, "x", x, "dx", dx);
        shape(op, "weight", weight, c);
        shape(op, "bias", bias, c);
        shape(op, "dweight", dweight, c);
        shape(op, "dbias", dbias, c);
        distinct(op, "dx", dx, "dy", dy);
        distinct(op, "dx", dx, "x", x);
        x.backend().groupNormMishBackward(dy, x, weight, bias, mean, rstd, dx, dweight, dbias, x.dim(0), c, hw,
                groups);
    }

    /** Checks x (N, C, ...), the group count and mean/rstd (N, G); returns the pixels per channel. */
    private static long groupNormDims(String op, Tensor x, int groups, Tensor mean, Tensor rstd) {
        if (x.rank() < 2) {
            throw new IllegalArgumentException(op + ": x must be (N, C, ...), has shape " + x.shapeString());
        }
        int c = x.dim(1);
        if (groups < 1 || c % groups != 0) {
            throw new IllegalArgumentException(op + ": " + c + " channels of x " + x.shapeString()
                    + " do not split into " + groups + " groups");
        }
        shape(op, "mean", mean, x.dim(0), groups);
        shape(op, "rstd", rstd, x.dim(0), groups);
        long nc = (long) x.dim(0) * c;
        return nc == 0 ? 0 : x.numel() / nc;
    }

    // ---- film.h ---------------------------------------------------------------------------------------------------

    /**
     * The FiLM of ConditionalResidualBlock1D: x, y (B, C, T); with hasScale cond (B, 2C) = [scale | bias] per sample
     * and y = scale x + bias, else cond (B, C) and y = x + cond, broadcast over T. y may be x, not cond.
     */
    public static void filmForward(Tensor x, Tensor cond, Tensor y, boolean hasScale) {
        String op = "filmForward";
        sameBackend(op, x, cond, y);
        allF32(op, x, cond, y);
        filmDims(op, x, cond, "cond", hasScale);
        sameShape(op, "x", x, "y", y);
        distinct(op, "y", y, "cond", cond);
        x.backend().filmForward(x, cond, y, x.dim(0), x.dim(1), x.dim(2), hasScale);
    }

    /**
     * The gradient of {@link #filmForward}, written (=, not accumulated): dx (B, C, T) = scale dy (dy itself without
     * a scale), dcond (B, 2C) = [sum_t dy x | sum_t dy] or (B, C) = sum_t dy. dx may be null (only dcond is computed);
     * neither output may share storage with an input.
     */
    public static void filmBackward(Tensor dy, Tensor x, Tensor cond, Tensor dx, Tensor dcond, boolean hasScale) {
        String op = "filmBackward";
        sameBackend(op, dy, x, cond, dx, dcond);
        allF32(op, dy, x, cond, dx, dcond);
        filmDims(op, x, cond, "cond", hasScale);
        filmDims(op, x, dcond, "dcond", hasScale);
        sameShape(op, "x", x, "dy", dy);
        distinct(op, "dcond", dcond, "dy", dy);
        distinct(op, "dcond", dcond, "x", x);
        distinct(op, "dcond", dcond, "cond", cond);
        if (dx != null) {
            sameShape(op, "x", x, "dx", dx);
            distinct(op, "dx", dx, "x", x);
            distinct(op, "dx", dx, "cond", cond);
            distinct(op, "dx", dx, "dcond", dcond);
        }
        x.backend().filmBackward(dy, x, cond, dx, dcond, x.dim(0), x.dim(1), x.dim(2), hasScale);
    }

    /** Checks x (B, C, T) and a condition (B, 2C) with a scale, (B, C) without. */
    private static void filmDims(String op, Tensor x, Tensor cond, String name, boolean hasScale) {
        if (x == null || cond == null) {
            throw new IllegalArgumentException(op + ": x and " + name + " are required");
        }
        rank(op, "x", x, 3, 3);
        int b = x.dim(0);
        int c = x.dim(1);
        int width = hasScale ? 2 * c : c;
        if (!cond.hasShape(b, width)) {
            throw new IllegalArgumentException(op + ": " + name + " has shape " + cond.shapeString() + ", expected ("
                    + b + ", " + width + ") = " + (hasScale ? "(B, 2C) [scale | bias]" : "(B, C)") + " for x "
                    + x.shapeString() + " (B, C, T)");
        }
    }

    // ---- image.h --------------------------------------------------------------------------------------------------

    /**
     * uint8 frames (B, H, W, C) -> float (B, C, Ho, Wo) in [-1, 1] (x / 255 * 2 - 1), cropped at offsets (B, 2)
     * int32 (top, left) per sample, or centre-cropped when offsets is null (image.h).
     */
    public static void imageToFloat(Tensor images, Tensor offsets, Tensor out) {
        String op = "imageToFloat";
        sameBackend(op, images, offsets, out);
        u8(op, "images", images);
        f32(op, "out", out);
        rank(op, "images", images, 4, 4);
        rank(op, "out", out, 4, 4);
        int b = images.dim(0);
        int h = images.dim(1);
        int w = images.dim(2);
        int c = images.dim(3);
        int ho = out.dim(2);
        int wo = out.dim(3);
        if (out.dim(0) != b || out.dim(1) != c || ho > h || wo > w) {
            throw new IllegalArgumentException(op + ": out " + out.shapeString() + " is not a (B, C, Ho, Wo) crop of "
                    + "images " + images.shapeString() + " (B, H, W, C) with Ho <= H, Wo <= W");
        }
        if (offsets != null) {
            i32(op, "offsets", offsets);
            shape(op, "offsets", offsets, b, 2);
            if (offsets.device() == Device.CPU) { // on the GPU the kernel guards them (NaN for a bad offset)
                int[] o = offsets.toIntArray();
                for (int i = 0; i < b; i++) {
                    if (o[2 * i] < 0 || o[2 * i] > h - ho || o[2 * i + 1] < 0 || o[2 * i + 1] > w - wo) {
                        throw new IllegalArgumentException(op + ": crop offset (" + o[2 * i] + ", " + o[2 * i + 1]
                                + ") of sample " + i + " puts a " + ho + "x" + wo + " crop outside the " + h + "x" + w
                                + " image");
                    }
                }
            }
        }
        images.backend().imageToFloat(images, offsets, out, b, h, w, c, ho, wo);
    }

    /**
     * offsets (B, 2) int32 = robomimic's random crop corners for crops of ho x wo out of h x w images: top in
     * [0, max(h - ho, 1)), left likewise, from Philox at (seed, offset + 2 b) and (seed, offset + 2 b + 1).
     */
    public static void randomCropOffsets(Tensor offsets, int h, int w, int ho, int wo, long seed, long offset) {
        String op = "randomCropOffsets";
        i32(op, "offsets", offsets);
        rank(op, "offsets", offsets, 2, 2);
        if (offsets.dim(1) != 2) {
            throw new IllegalArgumentException(op + ": offsets must be (B, 2), has shape " + offsets.shapeString());
        }
        if (ho < 1 || wo < 1 || ho > h || wo > w) {
            throw new IllegalArgumentException(op + ": a " + ho + "x" + wo + " crop does not fit a " + h + "x" + w
                    + " image");
        }
        offsets.backend().randomCropOffsets(offsets, offsets.dim(0), h, w, ho, wo, seed, offset);
    }

    // ---- ddpm.h ---------------------------------------------------------------------------------------------------

    /** xt = sqrt(abar[t]) x0 + sqrt(1 - abar[t]) eps, per sample: x0, eps, xt (B, ...), t int32 (B), abar (T). */
    public static void ddpmAddNoise(Tensor x0, Tensor eps, Tensor t, Tensor abar, Tensor xt) {
        String op = "ddpmAddNoise";
        sameBackend(op, x0, eps, t, abar, xt);
        allF32(op, x0, eps, abar, xt);
        i32(op, "t", t);
        int b = batchOf(op, "x0", x0);
        sameShape(op, "x0", x0, "eps", eps);
        sameShape(op, "x0", x0, "xt", xt);
        shape(op, "t", t, b);
        rank(op, "abar", abar, 1, 1);
        checkIndices(op, "t", t, abar.dim(0));
        x0.backend().ddpmAddNoise(x0, eps, t, abar, abar.dim(0), xt, b, x0.numel() / Math.max(b, 1));
    }

    /**
     * One DDPM reverse step from t to prevT for every chain of the batch (fixed_small variance). noise is (B, ...)
     * or null to draw it from (seed, offset).
     */
    public static void ddpmStep(Tensor model, Tensor xt, Tensor t, Tensor prevT, Tensor abar, Prediction prediction,
                                boolean clip, float clipRange, Tensor noise, long seed, long offset, Tensor out) {
        String op = "ddpmStep";
        int b = checkStep(op, model, xt, t, prevT, abar, noise, out, clipRange);
        model.backend().ddpmStep(model, xt, t, prevT, abar, abar.dim(0), prediction.code(), clip, clipRange, noise,
                seed, offset, out, b, model.numel() / Math.max(b, 1));
    }

    /** One DDIM step from t to prevT for every chain; finalAbar is used where prevT < 0; eta scales the noise. */
    public static void ddimStep(Tensor model, Tensor xt, Tensor t, Tensor prevT, Tensor abar, float finalAbar,
                                float eta, Prediction prediction, boolean clip, float clipRange,
                                boolean useClippedModelOutput, Tensor noise, long seed, long offset, Tensor out) {
        String op = "ddimStep";
        int b = checkStep(op, model, xt, t, prevT, abar, noise, out, clipRange);
        if (!(finalAbar > 0 && finalAbar <= 1)) {
            throw new IllegalArgumentException(op + ": finalAbar must be in (0, 1], got " + finalAbar);
        }
        if (!(eta >= 0) || !Float.isFinite(eta)) {
            throw new IllegalArgumentException(op + ": eta must be >= 0, got " + eta);
        }
        model.backend().ddimStep(model, xt, t, prevT, abar, abar.dim(0), finalAbar, eta, prediction.code(), clip,
                clipRange, useClippedModelOutput, noise, seed, offset, out, b, model.numel() / Math.max(b, 1));
    }

    private static int checkStep(String op, Tensor model, Tensor xt, Tensor t, Tensor prevT, Tensor abar,
                                 Tensor noise, Tensor out, float clipRange) {
        sameBackend(op, model, xt, t, prevT, abar, noise, out);
        allF32(op, model, xt, abar, noise, out);
        i32(op, "t", t);
        i32(op, "prevT", prevT);
        int b = batchOf(op, "model", model);
        sameShape(op, "model", model, "xt", xt);
        sameShape(op, "model", model, "out", out);
        if (noise != null) {
            sameShape(op, "model", model, "noise", noise);
        }
        shape(op, "t", t, b);
        shape(op, "prevT", prevT, b);
        rank(op, "abar", abar, 1, 1);
        checkIndices(op, "t", t, abar.dim(0));
        positive(op, "clipRange", clipRange);
        if (prevT.device() == Device.CPU) {
            int[] tv = t.toIntArray();
            int[] pv = prevT.toIntArray();
            for (int i = 0; i < pv.length; i++) {
                if (pv[i] >= tv[i]) {
                    throw new IllegalArgumentException(op + ": prevT[" + i + "] = " + pv[i] + " is not before t[" + i
                            + "] = " + tv[i]);
                }
            }
        }
        return b;
    }

    // ---- ambient.h ------------------------------------------------------------------------------------------------

    /**
     * The ambient-diffusion training batch (ambient.h): per sample, xt and the regression target from x0 (tn &lt; 0:
     * the ordinary DDPM sample) or from the observation x_tn at level tn &lt; t (tn &gt;= 0), and the per-element loss
     * weight ((s_t^2 - s_n^2) / s_t^2 with weighting, else 1). x0, eps, z, xt, target, weight (B, ...); t, tn int32
     * (B); abar (T); weight may be null. z is the noise from x_tn to xt (read for ambient samples only).
     */
    public static void ambientBatch(Tensor x0, Tensor eps, Tensor z, Tensor t, Tensor tn, Tensor abar,
                                    Prediction prediction, boolean weighting, Tensor xt, Tensor target,
                                    Tensor weight) {
        String op = "ambientBatch";
        sameBackend(op, x0, eps, z, t, tn, abar, xt, target, weight);
        allF32(op, x0, eps, z, abar, xt, target, weight);
        i32(op, "t", t);
        i32(op, "tn", tn);
        int b = batchOf(op, "x0", x0);
        sameShape(op, "x0", x0, "eps", eps);
        sameShape(op, "x0", x0, "z", z);
        sameShape(op, "x0", x0, "xt", xt);
        sameShape(op, "x0", x0, "target", target);
        if (weight != null) {
            sameShape(op, "x0", x0, "weight", weight);
        }
        shape(op, "t", t, b);
        shape(op, "tn", tn, b);
        rank(op, "abar", abar, 1, 1);
        checkIndices(op, "t", t, abar.dim(0));
        if (tn.device() == Device.CPU) {
            int[] tv = t.toIntArray();
            int[] nv = tn.toIntArray();
            for (int i = 0; i < nv.length; i++) {
                if (nv[i] >= tv[i] && nv[i] >= 0) {
                    throw new IllegalArgumentException(op + ": tn[" + i + "] = " + nv[i] + " is not below t[" + i
                            + "] = " + tv[i] + " (an ambient sample needs s_t > s_tn; tn < 0 marks an ordinary one)");
                }
            }
        }
        x0.backend().ambientBatch(x0, eps, z, t, tn, abar, abar.dim(0), prediction.code(), weighting, xt, target,
                weight, b, x0.numel() / Math.max(b, 1));
    }

    // ---- bce.h ----------------------------------------------------------------------------------------------------

    /**
     * out[i] = the binary cross-entropy of logit x[i] against target y[i] in [0, 1] (bce.h); the mean loss is
     * {@link #sum} of out with scale 1/n. x, y, out: same shape.
     */
    public static void bceLogitsForward(Tensor x, Tensor y, Tensor out) {
        pointwise("bceLogitsForward", x, y, out);
        x.backend().bceLogitsForward(x, y, out);
    }

    /** dx += scale * dloss[0] * (sigmoid(x) - y): the backward of scale * sum(bce); scale 1/n for the mean. */
    public static void bceLogitsBackward(Tensor x, Tensor y, Tensor dloss, Tensor dx, float scale) {
        String op = "bceLogitsBackward";
        pointwise(op, x, y, dx);
        sameBackend(op, x, dloss);
        f32(op, "dloss", dloss);
        numel(op, "dloss", dloss, 1);
        finite(op, "scale", scale);
        x.backend().bceLogitsBackward(x, y, dloss, dx, scale);
    }

    // ---- permute.h ------------------------------------------------------------------------------------------------

    /**
     * out[b, h, t, :] (+)= x[b, t, col + h HS : col + (h + 1) HS]: the heads of the column block of x starting at
     * col go to the attention layout. x (B, T, W); out (B, NH, T, HS) with col + NH HS <= W. Packed q, k, v of an
     * in-projection (B, T, 3C) are col = 0, C, 2C. Its backward is {@link #mergeHeads} with accumulate.
     */
    public static void splitHeads(Tensor x, int col, Tensor out, boolean accumulate) {
        int[] d = headDims("splitHeads", x, col, out);
        x.backend().splitHeads(x, out, d[0], d[1], d[2], d[3], x.dim(2), col, accumulate);
    }

    /**
     * x[b, t, col + h HS : col + (h + 1) HS] (+)= y[b, h, t, :]: the inverse of {@link #splitHeads}; the columns of x
     * outside the block are left as they are. y (B, NH, T, HS); x (B, T, W) with col + NH HS <= W.
     */
    public static void mergeHeads(Tensor y, Tensor x, int col, boolean accumulate) {
        int[] d = headDims("mergeHeads", x, col, y);
        y.backend().mergeHeads(y, x, d[0], d[1], d[2], d[3], x.dim(2), col, accumulate);
    }

    /** Checks of split/merge: x (B, T, W) token-major, heads (B, NH, T, HS), the block inside W; returns B, T, NH, HS. */
    private static int[] headDims(String op, Tensor x, int col, Tensor heads) {
        sameBackend(op, x, heads);
        allF32(op, x, heads);
        rank(op, "x", x, 3, 3);
        rank(op, "heads", heads, 4, 4);
        int b = heads.dim(0);
        int nh = heads.dim(1);
        int t = heads.dim(2);
        int hs = heads.dim(3);
        if (x.dim(0) != b || x.dim(1) != t) {
            throw new IllegalArgumentException(op + ": x " + x.shapeString() + " and heads " + heads.shapeString()
                    + " differ in batch or sequence length (x must be (B, T, W), heads (B, NH, T, HS))");
        }
        if (col < 0 || (long) col + (long) nh * hs > x.dim(2)) {
            throw new IllegalArgumentException(op + ": the head block [" + col + ", " + ((long) col + (long) nh * hs)
                    + ") of heads " + heads.shapeString() + " does not fit in the rows of x " + x.shapeString());
        }
        if (x.numel() > 0 && heads.numel() > 0 && x.data().address() == heads.data().address()) {
            throw new IllegalArgumentException(op + ": x and heads share storage; the permutation cannot run in place");
        }
        return new int[] {b, t, nh, hs};
    }

    // ---- checks ---------------------------------------------------------------------------------------------------

    /** Every tensor open and on one backend (nulls, the absent optional arguments, are skipped). */
    private static void sameBackend(String op, Tensor... tensors) {
        Backend backend = null;
        for (Tensor t : tensors) {
            if (t == null) {
                continue;
            }
            t.data(); // throws if closed
            if (backend == null) {
                backend = t.backend();
            } else if (t.backend() != backend) {
                throw new IllegalArgumentException(op + ": tensors on different backends (" + backend.name() + " and "
                        + t.backend().name() + "); copy them to one first");
            }
        }
    }

    private static void pointwise(String op, Tensor... tensors) {
        sameBackend(op, tensors);
        allF32(op, tensors);
        for (int i = 1; i < tensors.length; i++) {
            if (tensors[i].numel() != tensors[0].numel() || !tensors[i].hasShape(tensors[0].shape())) {
                throw new IllegalArgumentException(op + ": shape mismatch: " + tensors[0].shapeString() + " vs "
                        + tensors[i].shapeString());
            }
        }
    }

    private static void allF32(String op, Tensor... tensors) {
        for (Tensor t : tensors) {
            if (t != null && t.dtype() != DType.F32) {
                throw new IllegalArgumentException(op + ": expected float32 tensors, got " + t.dtype() + " "
                        + t.shapeString());
            }
        }
    }

    private static void f32(String op, String name, Tensor t) {
        t.data();
        if (t.dtype() != DType.F32) {
            throw new IllegalArgumentException(op + ": " + name + " must be float32, is " + t.dtype() + " "
                    + t.shapeString());
        }
    }

    private static void i32(String op, String name, Tensor t) {
        t.data();
        if (t.dtype() != DType.I32) {
            throw new IllegalArgumentException(op + ": " + name + " must be int32, is " + t.dtype() + " "
                    + t.shapeString());
        }
    }

    private static void u8(String op, String name, Tensor t) {
        t.data();
        if (t.dtype() != DType.U8) {
            throw new IllegalArgumentException(op + ": " + name + " must be uint8, is " + t.dtype() + " "
                    + t.shapeString());
        }
    }

    /** Output and input must not share storage (the native code reads one while writing the other). */
    private static void distinct(String op, String nameA, Tensor a, String nameB, Tensor b) {
        if (a.numel() > 0 && b.numel() > 0 && a.data().address() == b.data().address()) {
            throw new IllegalArgumentException(op + ": " + nameA + " and " + nameB + " share storage");
        }
    }

    private static void rank(String op, String name, Tensor t, int min, int max) {
        if (t.rank() < min || t.rank() > max) {
            String want = min == max ? "rank " + min : "rank " + min + " to " + max;
            throw new IllegalArgumentException(op + ": " + name + " must have " + want + ", has shape "
                    + t.shapeString());
        }
    }

    private static void shape(String op, String name, Tensor t, int... expected) {
        if (!t.hasShape(expected)) {
            throw new IllegalArgumentException(op + ": " + name + " has shape " + t.shapeString() + ", expected "
                    + Tensor.shapeString(expected));
        }
    }

    private static void sameShape(String op, String nameA, Tensor a, String nameB, Tensor b) {
        if (!b.hasShape(a.shape())) {
            throw new IllegalArgumentException(op + ": " + nameB + " has shape " + b.shapeString() + " but " + nameA
                    + " has shape " + a.shapeString());
        }
    }

    private static void numel(String op, String name, Tensor t, long expected) {
        if (t.numel() != expected) {
            throw new IllegalArgumentException(op + ": " + name + " has shape " + t.shapeString() + " ("
                    + t.numel() + " elements), expected " + expected + " elements");
        }
    }

    private static int lastDim(String op, String name, Tensor t) {
        if (t.rank() == 0) {
            throw new IllegalArgumentException(op + ": " + name + " must have at least one dimension");
        }
        return t.dim(-1);
    }

    private static int batchOf(String op, String name, Tensor t) {
        if (t.rank() == 0) {
            throw new IllegalArgumentException(op + ": " + name + " needs a leading batch dimension, has shape "
                    + t.shapeString());
        }
        return t.dim(0);
    }

    private static void expectLookupShape(String op, Tensor index, Tensor rows, int c) {
        int[] is = index.shape();
        int[] expected = Arrays.copyOf(is, is.length + 1);
        expected[is.length] = c;
        if (!rows.hasShape(expected)) {
            throw new IllegalArgumentException(op + ": rows have shape " + rows.shapeString() + ", expected "
                    + Tensor.shapeString(expected) + " for index " + index.shapeString());
        }
    }

    /**
     * Index tensors in host memory are checked here; on the GPU the kernels guard the index instead (an out-of-range
     * entry yields NaN rather than a read out of bounds), since checking would mean a copy to the host per call.
     */
    private static void checkIndices(String op, String name, Tensor index, int limit) {
        if (index.device() != Device.CPU) {
            return;
        }
        int[] values = index.toIntArray();
        for (int i = 0; i < values.length; i++) {
            if (values[i] < 0 || values[i] >= limit) {
                throw new IllegalArgumentException(op + ": " + name + "[" + i + "] = " + values[i] + " is outside [0, "
                        + limit + ")");
            }
        }
    }

    private static void probability(String op, float p) {
        if (!(p >= 0f && p < 1f)) {
            throw new IllegalArgumentException(op + ": dropout probability must be in [0, 1), got " + p);
        }
    }

    private static void finite(String op, String name, float value) {
        if (!Float.isFinite(value)) {
            throw new IllegalArgumentException(op + ": " + name + " must be finite, got " + value);
        }
    }

    private static void positive(String op, String name, float value) {
        if (!(value > 0) || !Float.isFinite(value)) {
            throw new IllegalArgumentException(op + ": " + name + " must be positive and finite, got " + value);
        }
    }
}
