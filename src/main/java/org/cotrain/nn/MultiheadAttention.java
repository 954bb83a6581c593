package org.cotrain.nn;

import java.util.ArrayList;
import java.util.List;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;

/**
 * torch.nn.MultiheadAttention(C, NH, dropout=p, batch_first=True) as the transformer layers use it: the packed
 * in-projection name.in_proj_weight (3C, C) and name.in_proj_bias (3C) (rows [0, C) for q, [C, 2C) for k, [2C, 3C)
 * for v), the fused attention kernel with an additive (Tq, Tk) mask or the causal flag and dropout p on the
 * attention weights, then name.out_proj (a Linear).
 *
 * <p>Self-attention projects x once to (B, T, 3C) and splits q, k, v out of it. Cross-attention (torch's
 * encoder-decoder case) takes q from x with the first C rows of the weight and k, v from the memory with the other
 * 2C. The attention weights are one dropout site (see {@link DropoutSites}).
 */
public final class MultiheadAttention implements AutoCloseable {
    private final Backend backend;
    private final String name;
    private final int c;
    private final int nh;
    private final int hs;
    private final float pDrop;
    private final long dropoutOffset;
    private final Parameter inProjWeight;
    private final Parameter inProjBias;
    private final Linear outProj;

    // forward activations, kept for the backward
    private final Buffer proj;     // self: (B, T, 3C) packed q, k, v; cross: (B, T, C) q only
    private final Buffer memProj;  // cross: (B, S, 3C), memory through the whole weight; columns [C, 3C) are k, v
    private final Buffer q;        // (B, NH, T, HS)
    private final Buffer k;        // (B, NH, S, HS)
    private final Buffer v;        // (B, NH, S, HS)
    private final Buffer att;      // (B, NH, T, HS)
    private final Buffer lse;      // (B, NH, T)
    private final Buffer merged;   // (B, T, C)
    // backward scratch
    private final Buffer dMerged;  // (B, T, C)
    private final Buffer dAtt;     // (B, NH, T, HS)
    private final Buffer dq;
    private final Buffer dk;
    private final Buffer dv;
    private final Buffer dProj;    // like proj
    private final Buffer dMemProj; // like memProj

    private Tensor x;
    private Tensor memory;   // null for self-attention
    private Tensor mask;
    private boolean causal;
    private float p;         // the dropout probability of the last forward: pDrop in training, else 0
    private long seed;

    public MultiheadAttention(Backend backend, String name, int embedDim, int numHeads, float pDrop,
                              long dropoutOffset) {
        if (numHeads <= 0 || embedDim % numHeads != 0) {
            throw new IllegalArgumentException(name + ": embed_dim " + embedDim + " is not divisible by num_heads "
                    + numHeads);
        }
        if (!(pDrop >= 0f && pDrop < 1f)) {
            throw new IllegalArgumentException(name + ": dropout must be in [0, 1), got " + pDrop);
        }
        this.backend = backend;
        this.name = name;
        this.c = embedDim;
        this.nh = numHeads;
        this.hs = embedDim / numHeads;
        this.pDrop = pDrop;
        this.dropoutOffset = dropoutOffset;
        this.inProjWeight = Parameter.weight(backend, name + ".in_proj_weight", 3 * c, c);
        this.inProjBias = Parameter.bias(backend, name + ".in_proj_bias", 3 * c);
        this.outProj = new Linear(backend, name + ".out_proj", c, c);
        this.proj = new Buffer(backend);
        this.memProj = new Buffer(backend);
        this.q = new Buffer(backend);
        this.k = new Buffer(backend);
        this.v = new Buffer(backend);
        this.att = new Buffer(backend);
        this.lse = new Buffer(backend);
        this.merged = new Buffer(backend);
        this.dMerged = new Buffer(backend);
        this.dAtt = new Buffer(backend);
        this.dq = new Buffer(backend);
        this.dk = new Buffer(backend);
        this.dv = new Buffer(backend);
        this.dProj = new Buffer(backend);
        this.dMemProj = new Buffer(backend);
    }

    /** in_proj_weight, in_proj_bias, out_proj.weight, out_proj.bias: the state_dict order. */
    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>(List.of(inProjWeight, inProjBias));
        ps.addAll(outProj.parameters());
        return ps;
    }

    Parameter inProjWeight() {
        return inProjWeight;
    }

    Parameter inProjBias() {
        return inProjBias;
    }

    Linear outProj() {
        return outProj;
    }

    int numHeads() {
        return nh;
    }

    /**
     * Attention of x (B, T, C) to memory (B, S, C), or to itself when memory is null. mask: additive (T, S) or null;
     * causal: key j visible to query i only when j <= i. Dropout on the attention weights in training. Returns
     * (B, T, C), a buffer of this layer. x and memory must stay unchanged until the backward.
     */
    public Tensor forward(Tensor x, Tensor memory, Tensor mask, boolean causal, boolean training, long seed) {
        try (OpProfile.Scope ignored = OpProfile.scope(OpProfile.Family.ATTENTION, x.backend())) {
            checkTokens("input", x);
            int b = x.dim(0);
            int t = x.dim(1);
            int s = t;
            if (memory != null) {
                checkTokens("memory", memory);
                if (memory.dim(0) != b) {
                    throw new IllegalArgumentException(name + ": memory " + memory.shapeString()
                            + " has another batch size than the input " + x.shapeString());
                }
                s = memory.dim(1);
            }
            this.x = x;
            this.memory = memory;
            this.mask = mask;
            this.causal = causal;
            this.p = training ? pDrop : 0f;
            this.seed = seed;

            Tensor qh = q.get(b, nh, t, hs);
            Tensor kh = k.get(b, nh, s, hs);
            Tensor vh = v.get(b, nh, s, hs);
            if (memory == null) {
                Tensor qkv = proj.get(b, t, 3 * c);
                Ops.matmul(x.view(b * t, c), false, inProjWeight.value(), true, inProjBias.value(),
                        qkv.view(b * t, 3 * c));
                Ops.splitHeads(qkv, 0, qh, false);
                Ops.splitHeads(qkv, c, kh, false);
                Ops.splitHeads(qkv, 2 * c, vh, false);
            } else {
                Tensor qp = proj.get(b, t, c);
                queryProjection(x.view(b * t, c), qp.view(b * t, c));
                Tensor kv = memProj.get(b, s, 3 * c);
                // the memory goes through the whole packed weight: its q columns [0, C) are computed and ignored, which
                // costs one C x C product per memory token (few: the condition tokens) and needs no weight slice
                Ops.matmul(memory.view(b * s, c), false, inProjWeight.value(), true, inProjBias.value(),
                        kv.view(b * s, 3 * c));
                Ops.splitHeads(qp, 0, qh, false);
                Ops.splitHeads(kv, c, kh, false);
                Ops.splitHeads(kv, 2 * c, vh, false);
            }
            Tensor ah = att.get(b, nh, t, hs);
            Ops.attentionForward(qh, kh, vh, mask, ah, lse.get(b, nh, t), scale(), causal, p, seed, dropoutOffset);
            Tensor m = merged.get(b, t, c);
            Ops.mergeHeads(ah, m, 0, false);
            return outProj.forward(m);
        }
    }

    /**
     * Given dout (B, T, C): parameter gradients accumulate; dx = d/dx (dx += when accumulate); dmemory += d/dmemory
     * for cross-attention (it may be null when the memory needs no gradient).
     */
    public void backward(Tensor dout, Tensor dx, boolean accumulate, Tensor dmemory) {
        try (OpProfile.Scope ignored = OpProfile.scope(OpProfile.Family.ATTENTION, dout.backend())) {
            if (x == null) {
                throw new IllegalStateException(name + ": backward before forward");
            }
            int b = x.dim(0);
            int t = x.dim(1);
            int s = memory == null ? t : memory.dim(1);
            Tensor dm = dMerged.get(b, t, c);
            outProj.backward(dout, dm, false);
            Tensor dah = dAtt.get(b, nh, t, hs);
            Ops.splitHeads(dm, 0, dah, false);
            Tensor dqh = dq.zeros(b, nh, t, hs);
            Tensor dkh = dk.zeros(b, nh, s, hs);
            Tensor dvh = dv.zeros(b, nh, s, hs);
            Ops.attentionBackward(dah, q.get(b, nh, t, hs), k.get(b, nh, s, hs), v.get(b, nh, s, hs), mask,
                    att.get(b, nh, t, hs), lse.get(b, nh, t), dqh, dkh, dvh, scale(), causal, p, seed, dropoutOffset);
            Tensor w = inProjWeight.value();
            Tensor dw = inProjWeight.grad();
            Tensor db = inProjBias.grad();
            if (memory == null) {
                Tensor dqkv = dProj.get(b, t, 3 * c);
                Ops.mergeHeads(dqh, dqkv, 0, false); // the three blocks cover every column: no zeroing needed
                Ops.mergeHeads(dkh, dqkv, c, false);
                Ops.mergeHeads(dvh, dqkv, 2 * c, false);
                Tensor d2 = dqkv.view(b * t, 3 * c);
                Tensor x2 = x.view(b * t, c);
                Ops.matmul(d2, true, x2, false, null, dw, 1f, 1f);
                Ops.sumRows(d2, db);
                Ops.matmul(d2, false, w, false, null, dx.view(b * t, c), 1f, accumulate ? 1f : 0f);
            } else {
                Tensor dqp = dProj.get(b, t, c);
                Ops.mergeHeads(dqh, dqp, 0, false);
                queryProjectionBackward(dqp.view(b * t, c), x.view(b * t, c), dx.view(b * t, c), accumulate);
                // dk, dv into columns [C, 3C) of a zeroed (B, S, 3C): the ignored q columns then add nothing
                Tensor dkv = dMemProj.zeros(b, s, 3 * c);
                Ops.mergeHeads(dkh, dkv, c, false);
                Ops.mergeHeads(dvh, dkv, 2 * c, false);
                Tensor d2 = dkv.view(b * s, 3 * c);
                Ops.matmul(d2, true, memory.view(b * s, c), false, null, dw, 1f, 1f);
                Ops.sumRows(d2, db);
                if (dmemory != null) {
                    Ops.matmul(d2, false, w, false, null, dmemory.view(b * s, c), 1f, 1f);
                }
            }
        }
    }

    private float scale() {
        return (float) (1.0 / Math.sqrt(hs));
    }

    private void checkTokens(String what, Tensor t) {
        if (t.rank() != 3 || t.dim(2) != c) {
            throw new IllegalArgumentException(name + ": " + what + " has shape " + t.shapeString()
                    + ", expected (B, T, " + c + ")");
        }
    }

    // ---- the query rows of the packed weight ---------------------------------------------------------------------
    // Rows [0, C) of in_proj_weight (3C, C) are its first C * C elements, and entries [0, C) of in_proj_bias its
    // first C: a GEMM over the packed tensors with N = C (or M = C for the weight gradient) reads and writes exactly
    // them, since a row-major matrix's leading rows are a prefix of its storage. Ops.matmul insists on the full
    // (3C, C) shape, so these go to the backend directly, after the checks Ops would make.

    /** y (rows, C) = x (rows, C) Wq^T + bq. */
    private void queryProjection(Tensor x2, Tensor y2) {
        checkRows(x2, y2);
        int rows = x2.dim(0);
        backend.matmul(x2, inProjWeight.value(), inProjBias.value(), y2, 1, rows, c, c, false, true, 0, 0, 0, 1f, 0f);
    }

    /** dWq += dy^T x, dbq += sum of dy rows, dx (+)= dy Wq. */
    private void queryProjectionBackward(Tensor dy2, Tensor x2, Tensor dx2, boolean accumulate) {
        checkRows(dy2, x2);
        checkRows(dy2, dx2);
        int rows = dy2.dim(0);
        backend.matmul(dy2, x2, null, inProjWeight.grad(), 1, c, c, rows, true, false, 0, 0, 0, 1f, 1f);
        backend.sumRows(dy2, inProjBias.grad(), rows, c);
        backend.matmul(dy2, inProjWeight.value(), null, dx2, 1, rows, c, c, false, false, 0, 0, 0, 1f,
                accumulate ? 1f : 0f);
    }

    private void checkRows(Tensor a, Tensor b2) {
        for (Tensor t : new Tensor[] {a, b2}) {
            if (t.backend() != backend || t.dtype() != DType.F32 || t.rank() != 2 || t.dim(1) != c
                    || t.dim(0) != a.dim(0)) {
                throw new IllegalArgumentException(name + ": query projection got " + t.shapeString() + " "
                        + t.dtype() + " on " + t.backend().name() + ", expected (" + a.dim(0) + ", " + c
                        + ") float32 on " + backend.name());
            }
        }
    }

    @Override
    public void close() {
        inProjWeight.close();
        inProjBias.close();
        outProj.close();
        for (Buffer buf : new Buffer[] {proj, memProj, q, k, v, att, lse, merged, dMerged, dAtt, dq, dk, dv, dProj,
                dMemProj}) {
            buf.close();
        }
    }
}
