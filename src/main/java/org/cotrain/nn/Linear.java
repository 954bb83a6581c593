package org.cotrain.nn;

import java.util.List;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * torch.nn.Linear: y = x W^T + b over the last dimension, W (out, in) named name.weight, b (out) name.bias.
 * The forward keeps a reference to its input for the backward: the caller keeps x unchanged until then.
 */
public final class Linear implements AutoCloseable {
    private final int inFeatures;
    private final int outFeatures;
    private final Parameter weight;
    private final Parameter bias;
    private final Buffer out;
    private Tensor packed;  // the weight in panels, for forwardPacked; made by the first packForInference
    private Tensor x;

    /** DP's transformer initialisation: weight N(0, 0.02), decayed; bias zeros, not decayed. */
    public Linear(Backend backend, String name, int inFeatures, int outFeatures) {
        this(backend, name, inFeatures, outFeatures, false);
    }

    private Linear(Backend backend, String name, int inFeatures, int outFeatures, boolean torchDefault) {
        if (inFeatures <= 0 || outFeatures <= 0) {
            throw new IllegalArgumentException(name + ": Linear sizes must be positive, got " + inFeatures + " -> "
                    + outFeatures);
        }
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        if (torchDefault) {
            float bound = (float) (1 / Math.sqrt(inFeatures));
            this.weight = new Parameter(backend, name + ".weight", Parameter.Init.UNIFORM, bound, true, outFeatures,
                    inFeatures);
            this.bias = new Parameter(backend, name + ".bias", Parameter.Init.UNIFORM, bound, true, outFeatures);
        } else {
            this.weight = Parameter.weight(backend, name + ".weight", outFeatures, inFeatures);
            this.bias = Parameter.bias(backend, name + ".bias", outFeatures);
        }
        this.out = new Buffer(backend);
    }

    /**
     * torch.nn.Linear's own default initialisation, weight and bias U(-1/sqrt(in), 1/sqrt(in)), both decayed: the
     * Linear of Diffusion Policy's image encoder, whose parameters all sit in the optimiser's obs_encoder group.
     */
    public static Linear torchDefault(Backend backend, String name, int inFeatures, int outFeatures) {
        return new Linear(backend, name, inFeatures, outFeatures, true);
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    /** weight, bias: the state_dict order. */
    public List<Parameter> parameters() {
        return List.of(weight, bias);
    }

    /** x (..., in) -> y (..., out), a buffer of this layer valid until its next forward. */
    public Tensor forward(Tensor x) {
        try (OpProfile.Scope ignored = OpProfile.scope(OpProfile.Family.LINEAR, x.backend())) {
            int rows = rows(x, inFeatures, "input");
            int[] shape = x.shape();
            shape[shape.length - 1] = outFeatures;
            Tensor y = out.get(shape);
            Ops.matmul(x.view(rows, inFeatures), false, weight.value(), true, bias.value(), y.view(rows, outFeatures));
            this.x = x;
            return y;
        }
    }

    /**
     * Copies the current weight into panels (packed_linear.h) for {@link #forwardPacked}; call again whenever it may
     * have changed (the sampler does, once per sampling call).
     */
    public void packForInference() {
        if (packed == null) {
            packed = Ops.packedWeight(weight.value());
        }
        Ops.packPanels(weight.value(), packed);
    }

    /** The weight in panels as of the last {@link #packForInference}, or null before it. */
    Tensor packedWeight() {
        return packed;
    }

    /**
     * The forward with the weight of the last {@link #packForInference} (packed_linear.h): made for a few rows (batch-1
     * sampling); same math, summed in another order. No backward. x (..., in) -> y (..., out), this layer's buffer.
     */
    public Tensor forwardPacked(Tensor x) {
        if (packed == null) {
            throw new IllegalStateException(weight.name() + ": forwardPacked before packForInference");
        }
        try (OpProfile.Scope ignored = OpProfile.scope(OpProfile.Family.LINEAR, x.backend())) {
            int rows = rows(x, inFeatures, "input");
            int[] shape = x.shape();
            shape[shape.length - 1] = outFeatures;
            Tensor y = out.get(shape);
            Ops.packedLinear(x.view(rows, inFeatures), packed, outFeatures, bias.value(), y.view(rows, outFeatures));
            return y;
        }
    }

    /**
     * dW += dy^T x, db += sum of dy rows, and dx = dy W (dx += dy W when accumulate); dx may be null when the input
     * needs no gradient. dy (..., out) like the forward's output; dx (..., in) like its input.
     */
    public void backward(Tensor dy, Tensor dx, boolean accumulate) {
        try (OpProfile.Scope ignored = OpProfile.scope(OpProfile.Family.LINEAR, dy.backend())) {
            if (x == null) {
                throw new IllegalStateException(weight.name() + ": backward before forward");
            }
            int rows = rows(dy, outFeatures, "gradient");
            Tensor dy2 = dy.view(rows, outFeatures);
            Ops.matmul(dy2, true, x.view(rows, inFeatures), false, null, weight.grad(), 1f, 1f);
            Ops.sumRows(dy2, bias.grad());
            if (dx != null) {
                Ops.matmul(dy2, false, weight.value(), false, null, dx.view(rows, inFeatures), 1f,
                        accumulate ? 1f : 0f);
            }
        }
    }

    private int rows(Tensor t, int features, String what) {
        if (t.rank() == 0 || t.dim(-1) != features) {
            throw new IllegalArgumentException(weight.name() + ": " + what + " " + t.shapeString()
                    + " does not end in " + features + " features");
        }
        return Math.toIntExact(t.numel() / features);
    }

    @Override
    public void close() {
        weight.close();
        bias.close();
        out.close();
        if (packed != null) {
            packed.close();
        }
    }
}
