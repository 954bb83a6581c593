package org.cotrain.nn;

import java.util.List;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/** torch.nn.LayerNorm(C) with eps 1e-5 (its default, and the transformer layers'): name.weight ones, name.bias zeros. */
public final class LayerNorm implements AutoCloseable {
    public static final float EPS = 1e-5f;

    private final int c;
    private final Parameter weight;
    private final Parameter bias;
    private final Buffer out;
    private final Buffer mean;
    private final Buffer rstd;
    private Tensor x;

    public LayerNorm(Backend backend, String name, int c) {
        this.c = c;
        this.weight = new Parameter(backend, name + ".weight", Parameter.Init.ONES, false, c);
        this.bias = new Parameter(backend, name + ".bias", Parameter.Init.ZEROS, false, c);
        Ops.fill(weight.value(), 1f);
        this.out = new Buffer(backend);
        this.mean = new Buffer(backend);
        this.rstd = new Buffer(backend);
    }

    public List<Parameter> parameters() {
        return List.of(weight, bias);
    }

    Parameter weight() {
        return weight;
    }

    Parameter bias() {
        return bias;
    }

    /** x (..., C) -> y (..., C), a buffer of this layer; mean and rstd per row are kept for the backward. */
    public Tensor forward(Tensor x) {
        try (OpProfile.Scope ignored = OpProfile.scope(OpProfile.Family.NORM, x.backend())) {
            if (x.rank() == 0 || x.dim(-1) != c) {
                throw new IllegalArgumentException(weight.name() + ": input " + x.shapeString() + " does not end in "
                        + c);
            }
            int rows = Math.toIntExact(x.numel() / c);
            Tensor y = out.get(x.shape());
            Ops.layerNormForward(x, weight.value(), bias.value(), y, mean.get(rows), rstd.get(rows), EPS);
            this.x = x;
            return y;
        }
    }

    /** dx += d(LayerNorm)/dx . dy; dweight and dbias accumulate too. */
    public void backward(Tensor dy, Tensor dx) {
        try (OpProfile.Scope ignored = OpProfile.scope(OpProfile.Family.NORM, dy.backend())) {
            if (x == null) {
                throw new IllegalStateException(weight.name() + ": backward before forward");
            }
            int rows = Math.toIntExact(x.numel() / c);
            Ops.layerNormBackward(dy, x, weight.value(), mean.get(rows), rstd.get(rows), dx, weight.grad(),
                    bias.grad());
        }
    }

    @Override
    public void close() {
        weight.close();
        bias.close();
        out.close();
        mean.close();
        rstd.close();
    }
}
