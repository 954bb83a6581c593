package org.cotrain.nn;

import java.util.ArrayList;
import java.util.List;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * torch.nn.TransformerDecoderLayer(C, NH, dim_feedforward=4C, dropout=p, activation="gelu", batch_first=True,
 * norm_first=True), the layer of Diffusion Policy's denoiser:
 * <pre>
 *   x1  = x  + dropout1(self_attn(norm1(x)))                 causal flag or no mask
 *   x2  = x1 + dropout2(multihead_attn(norm2(x1), memory))   additive memory mask or none
 *   out = x2 + dropout3(linear2(dropout(gelu(linear1(norm3(x2))))))
 * </pre>
 * with dropout p also on both attentions' weights: six dropout sites, taken from {@link DropoutSites} in the order
 * self-attention weights, dropout1, cross-attention weights, dropout2, dropout (FFN), dropout3. Parameter names
 * are prefix + "self_attn.*", "multihead_attn.*", "linear1.*", "linear2.*", "norm1.*", "norm2.*", "norm3.*".
 */
public final class TransformerDecoderLayer implements AutoCloseable {
    private final Backend backend;
    private final String prefix;
    private final int c;
    private final MultiheadAttention selfAttn;
    private final MultiheadAttention crossAttn;
    private final FeedForward ffn;
    private final LayerNorm norm1;
    private final LayerNorm norm2;
    private final LayerNorm norm3;
    private final Dropout dropout1;
    private final Dropout dropout2;
    private final Dropout dropout3;

    private final Buffer x1;
    private final Buffer x2;
    private final Buffer out;
    private final Buffer dNorm;     // (B, T, C)

    private boolean forwarded;
    private PackedDecoderLayer packed; // the fused evaluation forward's weights, made by the first packForInference

    public TransformerDecoderLayer(Backend backend, String prefix, int nEmb, int nHead, float pDrop,
                                   DropoutSites sites) {
        this.backend = backend;
        this.prefix = prefix;
        this.c = nEmb;
        this.selfAttn = new MultiheadAttention(backend, prefix + "self_attn", nEmb, nHead, pDrop, sites.next());
        this.dropout1 = new Dropout(backend, pDrop, sites.next());
        this.crossAttn = new MultiheadAttention(backend, prefix + "multihead_attn", nEmb, nHead, pDrop,
                sites.next());
        this.dropout2 = new Dropout(backend, pDrop, sites.next());
        this.ffn = new FeedForward(backend, prefix, nEmb, pDrop, sites);
        this.dropout3 = new Dropout(backend, pDrop, sites.next());
        this.norm1 = new LayerNorm(backend, prefix + "norm1", nEmb);
        this.norm2 = new LayerNorm(backend, prefix + "norm2", nEmb);
        this.norm3 = new LayerNorm(backend, prefix + "norm3", nEmb);
        this.x1 = new Buffer(backend);
        this.x2 = new Buffer(backend);
        this.out = new Buffer(backend);
        this.dNorm = new Buffer(backend);
    }

    /** The state_dict order of torch's layer. */
    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>(selfAttn.parameters());
        ps.addAll(crossAttn.parameters());
        ps.addAll(ffn.parameters());
        ps.addAll(norm1.parameters());
        ps.addAll(norm2.parameters());
        ps.addAll(norm3.parameters());
        return ps;
    }

    /**
     * x (B, T, C), memory (B, S, C) -> (B, T, C), a buffer of this layer. causal: self-attention mask j <= i;
     * memoryMask: additive (T, S) or null. x and memory must stay unchanged until the backward.
     */
    public Tensor forward(Tensor x, Tensor memory, boolean causal, Tensor memoryMask, boolean training, long seed) {
        int[] shape = x.shape();
        Tensor sa = selfAttn.forward(norm1.forward(x), null, null, causal, training, seed);
        Tensor r1 = x1.get(shape);
        Ops.add(x, dropout1.forward(sa, training, seed), r1);
        Tensor ca = crossAttn.forward(norm2.forward(r1), memory, memoryMask, false, training, seed);
        Tensor r2 = x2.get(shape);
        Ops.add(r1, dropout2.forward(ca, training, seed), r2);
        Tensor f = ffn.forward(norm3.forward(r2), training, seed);
        forwarded = true;
        Tensor y = out.get(shape);
        Ops.add(r2, dropout3.forward(f, training, seed), y);
        return y;
    }

    /**
     * Copies the current weights into the layout of the fused evaluation forward ({@link #forwardInference}); call
     * again whenever they may have changed (the sampler does, once per sampling call).
     */
    public void packForInference() {
        if (packed == null) {
            packed = new PackedDecoderLayer(backend, prefix + "(fused)", c, selfAttn.numHeads());
        }
        packed.pack(selfAttn, crossAttn, ffn.linear1(), ffn.linear2(), norm1, norm2, norm3);
    }

    /**
     * The evaluation forward (no dropout) in one native call (decoder_inference.h), with the weights of the last
     * {@link #packForInference}: x (B, T, C) is overwritten with the layer's output. Same math as
     * {@code forward(x, memory, causal, memoryMask, false, seed)}, summed in another order (equal to float rounding);
     * no backward.
     */
    public void forwardInference(Tensor x, Tensor memory, boolean causal, Tensor memoryMask) {
        requirePacked().forward(x, memory, memoryMask, causal);
    }

    /**
     * memoryKv (B, S, 2C) &lt;- the cross-attention's keys and values of memory (B, S, C), on the packed weights, for
     * {@link #forwardInferenceCached}.
     */
    public void projectMemory(Tensor memory, Tensor memoryKv) {
        requirePacked().projectMemory(memory, memoryKv);
    }

    /**
     * {@link #forwardInference} with the memory's keys and values computed ahead ({@link #projectMemory}); when
     * stepKv (N, 2C) is not null, its row {@code step} stands for memory token 0 in every sequence (the diffusion-step
     * token, the same across the batch while sampling).
     */
    public void forwardInferenceCached(Tensor x, Tensor memoryKv, Tensor stepKv, int step, boolean causal,
                                       Tensor memoryMask) {
        requirePacked().forwardCached(x, memoryKv, stepKv, step, memoryMask, causal);
    }

    private PackedDecoderLayer requirePacked() {
        if (packed == null) {
            throw new IllegalStateException("decoder layer: forwardInference before packForInference");
        }
        return packed;
    }

    /** dx = d/dx of the layer given dout (dx is overwritten, and must not be dout); dmemory += d/dmemory. */
    public void backward(Tensor dout, Tensor dx, Tensor dmemory) {
        if (!forwarded) {
            throw new IllegalStateException("decoder layer: backward before forward");
        }
        int[] shape = dout.shape();
        // out = x2 + dropout3(FFN(norm3(x2)))
        Tensor dn = dNorm.get(shape);
        ffn.backward(dropout3.backward(dout), dn);
        dx.backend().copy(dout, dx);    // dx holds d/dx2: the residual path ...
        norm3.backward(dn, dx);         // ... plus the FFN branch
        // x2 = x1 + dropout2(cross_attn(norm2(x1), memory))
        crossAttn.backward(dropout2.backward(dx), dn, false, dmemory);
        norm2.backward(dn, dx);         // dx holds d/dx1
        // x1 = x + dropout1(self_attn(norm1(x)))
        selfAttn.backward(dropout1.backward(dx), dn, false, null);
        norm1.backward(dn, dx);         // dx holds d/dx
    }

    public int nEmb() {
        return c;
    }

    @Override
    public void close() {
        selfAttn.close();
        crossAttn.close();
        ffn.close();
        norm1.close();
        norm2.close();
        norm3.close();
        dropout1.close();
        dropout2.close();
        dropout3.close();
        x1.close();
        x2.close();
        out.close();
        dNorm.close();
        if (packed != null) {
            packed.close();
        }
    }
}
