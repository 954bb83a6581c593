package org.cotrain.nn;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;

/**
 * A {@link TransformerDecoderLayer}'s weights as its fused evaluation forward reads them
 * (native/include/cotrain/decoder_inference.h): the products' weights packed in panels of 32 output columns (the
 * in-projections' here, the Linears' by the Linears), the norms' and biases' vectors by reference, and the array of
 * their addresses that the native call takes. {@link #pack} copies the layer's current weights; the fused forward is only right until they change, so the
 * sampler packs once per sampling call ({@link org.cotrain.diffusion.Denoiser#beginSampling}).
 */
public final class PackedDecoderLayer implements AutoCloseable {
    // decoder_inference.h's CT_DEC_* order
    private static final int NORM1_W = 0, NORM1_B = 1, SELF_IN_P = 2, SELF_IN_B = 3, SELF_OUT_P = 4, SELF_OUT_B = 5,
            NORM2_W = 6, NORM2_B = 7, CROSS_Q_P = 8, CROSS_KV_P = 9, CROSS_IN_B = 10, CROSS_OUT_P = 11,
            CROSS_OUT_B = 12, NORM3_W = 13, NORM3_B = 14, LINEAR1_P = 15, LINEAR1_B = 16, LINEAR2_P = 17,
            LINEAR2_B = 18, PARAMS = Ops.CT_DEC_PARAMS;

    private final Backend backend;
    private final String name;
    private final int c;
    private final int nh;
    private final Tensor[] entries = new Tensor[PARAMS];
    private final PointerPointer<?> addresses = new PointerPointer<>(PARAMS);
    private final Tensor kvBias;   // entries [C, 3C) of the cross-attention's in_proj_bias: the keys' and values'
    private final Buffer workspace;
    private boolean packed;

    PackedDecoderLayer(Backend backend, String name, int c, int nh) {
        this.backend = backend;
        this.name = name;
        this.c = c;
        this.nh = nh;
        // the in-projections are packed here (parts of one parameter each); the Linears pack their own weights
        entries[SELF_IN_P] = packedTensor(3 * c, c);
        entries[CROSS_Q_P] = packedTensor(c, c);
        entries[CROSS_KV_P] = packedTensor(2 * c, c);
        this.kvBias = backend.empty(2 * c);
        this.workspace = new Buffer(backend);
    }

    private Tensor packedTensor(int rows, int k) {
        return backend.empty(Math.toIntExact(Ops.packedPanelsSize(rows, k)));
    }

    /** Packs the layer's current weights (and takes its vectors' current storage). */
    void pack(MultiheadAttention selfAttn, MultiheadAttention crossAttn, Linear linear1, Linear linear2,
              LayerNorm norm1, LayerNorm norm2, LayerNorm norm3) {
        Tensor selfIn = selfAttn.inProjWeight().value();
        Tensor crossIn = crossAttn.inProjWeight().value();
        backend.packPanels(selfIn, entries[SELF_IN_P], 0, 3 * c, c);
        backend.packPanels(crossIn, entries[CROSS_Q_P], 0, c, c);
        backend.packPanels(crossIn, entries[CROSS_KV_P], c, 2 * c, c);
        entries[SELF_OUT_P] = packedWeightOf(selfAttn.outProj());
        entries[CROSS_OUT_P] = packedWeightOf(crossAttn.outProj());
        entries[LINEAR1_P] = packedWeightOf(linear1);
        entries[LINEAR2_P] = packedWeightOf(linear2);
        entries[NORM1_W] = norm1.weight().value();
        entries[NORM1_B] = norm1.bias().value();
        entries[SELF_IN_B] = selfAttn.inProjBias().value();
        entries[SELF_OUT_B] = selfAttn.outProj().bias().value();
        entries[NORM2_W] = norm2.weight().value();
        entries[NORM2_B] = norm2.bias().value();
        entries[CROSS_IN_B] = crossAttn.inProjBias().value();
        entries[CROSS_OUT_B] = crossAttn.outProj().bias().value();
        entries[NORM3_W] = norm3.weight().value();
        entries[NORM3_B] = norm3.bias().value();
        entries[LINEAR1_B] = linear1.bias().value();
        entries[LINEAR2_B] = linear2.bias().value();
        for (int i = 0; i < PARAMS; i++) {
            addresses.put(i, entries[i].data());
        }
        Ops.splitHeads(entries[CROSS_IN_B].view(1, 1, 3 * c), c, kvBias.view(1, 1, 1, 2 * c), false);
        packed = true;
    }

    private static Tensor packedWeightOf(Linear linear) {
        linear.packForInference();
        return linear.packedWeight();
    }

    /**
     * The layer's evaluation forward with the packed weights: x (B, T, C) overwritten with the output; memory
     * (B, S, C); memoryMask additive (T, S) or null; causal self-attention or none.
     */
    void forward(Tensor x, Tensor memory, Tensor memoryMask, boolean causal) {
        check("memory", memory, 3);
        run(x, memory, null, null, memoryMask, causal, memory.dim(0), memory.dim(1), memory.dim(2));
    }

    /**
     * memoryKv (B, S, 2C) &lt;- the keys and values of memory (B, S, C) for {@link #forwardCached}: the memory
     * through rows [C, 3C) of the cross-attention's in-projection.
     */
    void projectMemory(Tensor memory, Tensor memoryKv) {
        checkPacked();
        check("memory", memory, 3);
        check("memory keys and values", memoryKv, 3);
        int rows = memory.dim(0) * memory.dim(1);
        if (memory.dim(2) != c || !memoryKv.hasShape(memory.dim(0), memory.dim(1), 2 * c)) {
            throw new IllegalArgumentException(name + ": memory " + memory.shapeString() + " and its keys and values "
                    + memoryKv.shapeString() + " must be (B, S, " + c + ") and (B, S, " + 2 * c + ")");
        }
        Ops.packedLinear(memory.view(rows, c), entries[CROSS_KV_P], 2 * c, kvBias, memoryKv.view(rows, 2 * c));
    }

    /**
     * {@link #forward} with the memory's keys and values computed ahead: memoryKv (B, S, 2C) from
     * {@link #projectMemory}; stepKv, when not null, a (N, 2C) table whose row {@code step} replaces token 0's keys
     * and values in every sequence (the diffusion-step token of the current step).
     */
    void forwardCached(Tensor x, Tensor memoryKv, Tensor stepKv, int step, Tensor memoryMask, boolean causal) {
        check("memory keys and values", memoryKv, 3);
        Pointer stepRow = null;
        if (stepKv != null) {
            check("step keys and values", stepKv, 2);
            if (stepKv.dim(1) != 2 * c || step < 0 || step >= stepKv.dim(0)) {
                throw new IllegalArgumentException(name + ": step " + step + " of step keys and values "
                        + stepKv.shapeString() + ", expected a row of (N, " + 2 * c + ")");
            }
            // a base Pointer counts its position in bytes
            stepRow = new Pointer(stepKv.data()).position((long) step * 2 * c * Float.BYTES);
        }
        if (memoryKv.dim(2) != 2 * c) {
            throw new IllegalArgumentException(name + ": memory keys and values " + memoryKv.shapeString()
                    + ", expected (B, S, " + 2 * c + ")");
        }
        run(x, null, memoryKv, stepRow, memoryMask, causal, memoryKv.dim(0), memoryKv.dim(1), c);
    }

    private void run(Tensor x, Tensor memory, Tensor memoryKv, Pointer stepRow, Tensor memoryMask,
                     boolean causal, int memoryBatch, int s, int memoryWidth) {
        checkPacked();
        check("input", x, 3);
        int b = x.dim(0);
        int t = x.dim(1);
        if (x.dim(2) != c || memoryBatch != b || memoryWidth != c) {
            throw new IllegalArgumentException(name + ": input " + x.shapeString() + " and memory "
                    + (memory != null ? memory : memoryKv).shapeString() + " must be (B, T, " + c + ") and (B, S, "
                    + c + ") (or its keys and values (B, S, " + 2 * c + "))");
        }
        if (memoryMask != null) {
            check("memory mask", memoryMask, 2);
            if (!memoryMask.hasShape(t, s)) {
                throw new IllegalArgumentException(name + ": memory mask " + memoryMask.shapeString()
                        + ", expected (" + t + ", " + s + ")");
            }
        }
        for (Tensor e : entries) {
            if (e.isClosed()) {
                throw new IllegalStateException(name + ": a packed weight was closed; pack again");
            }
        }
        Tensor ws = workspace.get(Math.toIntExact(Ops.decoderLayerWorkspaceSize(backend, b, t, s, c)));
        Ops.decoderLayerInference(x, memory, memoryKv, stepRow, addresses, memoryMask, causal, nh, LayerNorm.EPS, ws);
    }

    private void checkPacked() {
        if (!packed) {
            throw new IllegalStateException(name + ": fused forward before pack");
        }
    }

    private void check(String what, Tensor t, int rank) {
        if (t.backend() != backend || t.dtype() != DType.F32 || t.rank() != rank) {
            throw new IllegalArgumentException(name + ": " + what + " " + t.shapeString() + " " + t.dtype() + " on "
                    + t.backend().name() + ", expected rank " + rank + " float32 on " + backend.name());
        }
    }

    @Override
    public void close() {
        for (int i : new int[] {SELF_IN_P, CROSS_Q_P, CROSS_KV_P}) { // the Linears close theirs
            entries[i].close();
        }
        kvBias.close();
        workspace.close();
        addresses.close();
        packed = false;
    }
}
