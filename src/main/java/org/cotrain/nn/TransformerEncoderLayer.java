package org.cotrain.nn;

import java.util.ArrayList;
import java.util.List;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * torch.nn.TransformerEncoderLayer(C, NH, dim_feedforward=4C, dropout=p, activation="gelu", batch_first=True,
 * norm_first=True), used by Diffusion Policy's condition encoder (n_cond_layers > 0) and its BERT-style variant:
 * <pre>
 *   x1  = x  + dropout1(self_attn(norm1(x)))                 causal flag or no mask
 *   out = x1 + dropout2(linear2(dropout(gelu(linear1(norm2(x1))))))
 * </pre>
 * with dropout p on the attention weights too: four dropout sites from {@link DropoutSites}, in the order
 * self-attention weights, dropout1, dropout (FFN), dropout2. Parameter names are prefix + "self_attn.*",
 * "linear1.*", "linear2.*", "norm1.*", "norm2.*".
 */
public final class TransformerEncoderLayer implements AutoCloseable {
    private final MultiheadAttention selfAttn;
    private final FeedForward ffn;
    private final LayerNorm norm1;
    private final LayerNorm norm2;
    private final Dropout dropout1;
    private final Dropout dropout2;

    private final Buffer x1;
    private final Buffer out;
    private final Buffer dNorm;

    private boolean forwarded;

    public TransformerEncoderLayer(Backend backend, String prefix, int nEmb, int nHead, float pDrop,
                                   DropoutSites sites) {
        this.selfAttn = new MultiheadAttention(backend, prefix + "self_attn", nEmb, nHead, pDrop, sites.next());
        this.dropout1 = new Dropout(backend, pDrop, sites.next());
        this.ffn = new FeedForward(backend, prefix, nEmb, pDrop, sites);
        this.dropout2 = new Dropout(backend, pDrop, sites.next());
        this.norm1 = new LayerNorm(backend, prefix + "norm1", nEmb);
        this.norm2 = new LayerNorm(backend, prefix + "norm2", nEmb);
        this.x1 = new Buffer(backend);
        this.out = new Buffer(backend);
        this.dNorm = new Buffer(backend);
    }

    /** The state_dict order of torch's layer. */
    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>(selfAttn.parameters());
        ps.addAll(ffn.parameters());
        ps.addAll(norm1.parameters());
        ps.addAll(norm2.parameters());
        return ps;
    }

    /** x (B, T, C) -> (B, T, C), a buffer of this layer; causal: attention mask j <= i. */
    public Tensor forward(Tensor x, boolean causal, boolean training, long seed) {
        int[] shape = x.shape();
        Tensor sa = selfAttn.forward(norm1.forward(x), null, null, causal, training, seed);
        Tensor r1 = x1.get(shape);
        Ops.add(x, dropout1.forward(sa, training, seed), r1);
        Tensor f = ffn.forward(norm2.forward(r1), training, seed);
        forwarded = true;
        Tensor y = out.get(shape);
        Ops.add(r1, dropout2.forward(f, training, seed), y);
        return y;
    }

    /** dx = d/dx of the layer given dout (dx is overwritten, and must not be dout). */
    public void backward(Tensor dout, Tensor dx) {
        if (!forwarded) {
            throw new IllegalStateException("encoder layer: backward before forward");
        }
        // out = x1 + dropout2(FFN(norm2(x1)))
        Tensor dn = dNorm.get(dout.shape());
        ffn.backward(dropout2.backward(dout), dn);
        dx.backend().copy(dout, dx);
        norm2.backward(dn, dx);         // dx holds d/dx1
        // x1 = x + dropout1(self_attn(norm1(x)))
        selfAttn.backward(dropout1.backward(dx), dn, false, null);
        norm1.backward(dn, dx);         // dx holds d/dx
    }

    @Override
    public void close() {
        selfAttn.close();
        ffn.close();
        norm1.close();
        norm2.close();
        dropout1.close();
        dropout2.close();
        x1.close();
        out.close();
        dNorm.close();
    }
}
