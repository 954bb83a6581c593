package org.cotrain.nn;

import java.util.ArrayList;
import java.util.List;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * The feed-forward block of torch's transformer layers (activation="gelu", dim_feedforward = 4C), shared by
 * {@link TransformerEncoderLayer} and {@link TransformerDecoderLayer}:
 * <pre>
 *   out = linear2(dropout(gelu(linear1(x))))        x (B, T, C) -> hidden (B, T, 4C) -> out (B, T, C)
 * </pre>
 * Parameter names are prefix + "linear1.*", "linear2.*", as in torch's layers; its dropout is the layer's
 * {@code dropout} (the one between the two linears), whose site the constructor takes from {@code sites} at the point
 * of construction, so a layer builds it where torch's layer would draw that site.
 */
public final class FeedForward implements AutoCloseable {
    private final Linear linear1;
    private final Dropout dropout;
    private final Linear linear2;
    private final Buffer gelu;
    private final Buffer dHidden;   // (B, T, 4C): the gradient after the dropout, then ...
    private final Buffer dHidden2;  // ... before the GELU

    private Tensor hidden;          // linear1's output (B, T, 4C), GELU's input

    public FeedForward(Backend backend, String prefix, int nEmb, float pDrop, DropoutSites sites) {
        this.linear1 = new Linear(backend, prefix + "linear1", nEmb, 4 * nEmb);
        this.dropout = new Dropout(backend, pDrop, sites.next());
        this.linear2 = new Linear(backend, prefix + "linear2", 4 * nEmb, nEmb);
        this.gelu = new Buffer(backend);
        this.dHidden = new Buffer(backend);
        this.dHidden2 = new Buffer(backend);
    }

    /** linear1's, then linear2's: torch's state_dict order. */
    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>(linear1.parameters());
        ps.addAll(linear2.parameters());
        return ps;
    }

    Linear linear1() {
        return linear1;
    }

    Linear linear2() {
        return linear2;
    }

    /** x (B, T, C) -> (B, T, C), linear2's buffer. x must stay unchanged until the backward. */
    public Tensor forward(Tensor x, boolean training, long seed) {
        hidden = linear1.forward(x);
        Tensor g = gelu.get(hidden.shape());
        Ops.geluForward(hidden, g);
        return linear2.forward(dropout.forward(g, training, seed));
    }

    /** dx (overwritten) = d/dx given dout; the parameters' gradients accumulate. */
    public void backward(Tensor dout, Tensor dx) {
        if (hidden == null) {
            throw new IllegalStateException("feed-forward block: backward before forward");
        }
        Tensor dg = dHidden.get(hidden.shape());
        linear2.backward(dout, dg, false);
        Tensor dgd = dropout.backward(dg);
        Tensor dh = dHidden2.zeros(hidden.shape());
        Ops.geluBackward(hidden, dgd, dh);
        linear1.backward(dh, dx, false);
    }

    @Override
    public void close() {
        linear1.close();
        linear2.close();
        dropout.close();
        gelu.close();
        dHidden.close();
        dHidden2.close();
    }
}
