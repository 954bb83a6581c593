package org.cotrain.nn;

import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * A learned tensor with its gradient, named as in the Diffusion Policy state_dict (e.g.
 * "model.decoder.layers.0.self_attn.in_proj_weight") so that checkpoints open in PyTorch.
 *
 * <p>{@link #weightDecay()} follows DP's {@code get_optim_groups}: weights of Linear and MultiheadAttention decay;
 * biases, LayerNorm parameters and position embeddings do not. (Every parameter of the image encoder decays, at
 * DP's separate obs_encoder_weight_decay.) {@link #init()} is how DP's {@code _init_weights} initialises it, or for
 * the image encoder how torchvision and torch's layer defaults do. The gradient is allocated (zeroed) on first use, so that a model used only for inference holds
 * no gradients; backward passes accumulate into it, and {@link #zeroGrad()} clears it once per step.
 */
public final class Parameter implements AutoCloseable {
    /**
     * DP's initialisation: N(0, 0.02) for weights and position embeddings, zeros, or ones (LayerNorm weight); and for
     * the image encoder N(0, scale^2) (torchvision's kaiming_normal_ for ResNet convolutions) and U(-scale, scale)
     * (torch's default for Conv2d and Linear, kaiming_uniform_ with a = sqrt 5).
     */
    public enum Init {
        NORMAL,
        ZEROS,
        ONES,
        UNIFORM
    }

    /** Standard deviation of {@link Init#NORMAL}. */
    public static final float INIT_STD = 0.02f;

    private final String name;
    private final Init init;
    private final float scale; // NORMAL: the standard deviation; UNIFORM: the bound
    private final boolean weightDecay;
    private final Tensor value;
    private Tensor grad;

    /** A parameter of the given shape, zero until {@link #initialize} or a checkpoint load. */
    public Parameter(Backend backend, String name, Init init, boolean weightDecay, int... shape) {
        this(backend, name, init, init == Init.NORMAL ? INIT_STD : 0f, weightDecay, shape);
    }

    /** A parameter whose NORMAL standard deviation or UNIFORM bound is scale. */
    public Parameter(Backend backend, String name, Init init, float scale, boolean weightDecay, int... shape) {
        if (!(scale >= 0) || !Float.isFinite(scale)) {
            throw new IllegalArgumentException(name + ": initialisation scale must be >= 0, got " + scale);
        }
        this.name = name;
        this.init = init;
        this.scale = scale;
        this.weightDecay = weightDecay;
        this.value = backend.zeros(shape);
    }

    /** A Linear or MultiheadAttention weight: N(0, 0.02), decayed. */
    public static Parameter weight(Backend backend, String name, int... shape) {
        return new Parameter(backend, name, Init.NORMAL, true, shape);
    }

    /** A bias: zeros, not decayed. */
    public static Parameter bias(Backend backend, String name, int... shape) {
        return new Parameter(backend, name, Init.ZEROS, false, shape);
    }

    public String name() {
        return name;
    }

    public Init init() {
        return init;
    }

    /** The standard deviation of a NORMAL initialisation, the bound of a UNIFORM one. */
    public float initScale() {
        return scale;
    }

    public boolean weightDecay() {
        return weightDecay;
    }

    public Tensor value() {
        return value;
    }

    public int[] shape() {
        return value.shape();
    }

    public long numel() {
        return value.numel();
    }

    /** The gradient, same shape as the value; zeros when first asked for. */
    public Tensor grad() {
        if (grad == null) {
            grad = value.backend().zeros(value.shape());
        }
        return grad;
    }

    public boolean hasGrad() {
        return grad != null;
    }

    public void zeroGrad() {
        if (grad != null) {
            grad.backend().zero(grad);
        }
    }

    /**
     * Sets the value as {@link #init()} says; normal values are Philox draws at (seed, offset + i), so that a model
     * initialised with one seed is the same on every backend.
     */
    public void initialize(long seed, long offset) {
        switch (init) {
            case ZEROS -> Ops.fill(value, 0f);
            case ONES -> Ops.fill(value, 1f);
            case NORMAL -> {
                Ops.randNormal(value, seed, offset);
                Ops.scale(value, scale, value);
            }
            case UNIFORM -> {
                // u in [0, 1) -> 2 scale u - scale in [-scale, scale)
                Ops.randUniform(value, seed, offset);
                try (Tensor shift = value.backend().empty(value.shape())) {
                    Ops.fill(shift, scale);
                    Ops.axpby(value, shift, value, 2 * scale, -1f);
                }
            }
        }
    }

    @Override
    public void close() {
        value.close();
        if (grad != null) {
            grad.close();
        }
    }

    @Override
    public String toString() {
        return name + value.shapeString();
    }
}
