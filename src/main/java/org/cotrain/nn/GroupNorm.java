package org.cotrain.nn;

import java.util.List;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * torch.nn.GroupNorm(groups, C) with eps 1e-5 and its default affine init: name.weight ones, name.bias zeros. In
 * Diffusion Policy's image encoder it replaces each BatchNorm2d(C) as GroupNorm(C / 16, C), keeping the name.
 */
public final class GroupNorm implements AutoCloseable {
    public static final float EPS = 1e-5f;

    private final int groups;
    private final int c;
    private final Parameter weight;
    private final Parameter bias;
    private final Buffer out;
    private final Buffer mean;
    private final Buffer rstd;
    private Tensor x;
    private boolean withMish; // whether the last forward was forwardMish: its backward must match

    public GroupNorm(Backend backend, String name, int groups, int c) {
        if (groups < 1 || c % groups != 0) {
            throw new IllegalArgumentException(name + ": " + c + " channels do not split into " + groups + " groups");
        }
        this.groups = groups;
        this.c = c;
        // every encoder parameter decays, at DP's obs_encoder_weight_decay
        this.weight = new Parameter(backend, name + ".weight", Parameter.Init.ONES, true, c);
        this.bias = new Parameter(backend, name + ".bias", Parameter.Init.ZEROS, true, c);
        Ops.fill(weight.value(), 1f);
        this.out = new Buffer(backend);
        this.mean = new Buffer(backend);
        this.rstd = new Buffer(backend);
    }

    /** DP's replacement of BatchNorm2d(c): GroupNorm(c / 16, c). */
    public static GroupNorm replacingBatchNorm(Backend backend, String name, int c) {
        return new GroupNorm(backend, name, c / 16, c);
    }

    public List<Parameter> parameters() {
        return List.of(weight, bias);
    }

    /** x (N, C, H, W) -> y, a buffer of this layer; mean and rstd per (sample, group) are kept for the backward. */
    public Tensor forward(Tensor x) {
        try (OpProfile.Scope ignored = OpProfile.scope(OpProfile.Family.NORM, x.backend())) {
            checkInput(x);
            Tensor y = out.get(x.shape());
            Ops.groupNormForward(x, weight.value(), bias.value(), y, mean.get(x.dim(0), groups),
                    rstd.get(x.dim(0), groups), groups, EPS);
            this.x = x;
            this.withMish = false;
            return y;
        }
    }

    /** dx += the input gradient; dweight and dbias accumulate. */
    public void backward(Tensor dy, Tensor dx) {
        try (OpProfile.Scope ignored = OpProfile.scope(OpProfile.Family.NORM, dy.backend())) {
            checkBackward(false);
            Ops.groupNormBackward(dy, x, weight.value(), mean.get(x.dim(0), groups), rstd.get(x.dim(0), groups), dx,
                    weight.grad(), bias.grad(), groups);
        }
    }

    /**
     * x (N, C, ...) -> Mish(GroupNorm(x)) in one fused op (Conv1dBlock), a buffer of this layer; the GroupNorm output
     * is not stored (its backward recomputes it from x, kept, and the saved mean and rstd).
     */
    public Tensor forwardMish(Tensor x) {
        try (OpProfile.Scope ignored = OpProfile.scope(OpProfile.Family.NORM, x.backend())) {
            checkInput(x);
            Tensor y = out.get(x.shape());
            Ops.groupNormMishForward(x, weight.value(), bias.value(), y, mean.get(x.dim(0), groups),
                    rstd.get(x.dim(0), groups), groups, EPS);
            this.x = x;
            this.withMish = true;
            return y;
        }
    }

    /** After {@link #forwardMish}: dx = the input gradient (written, not accumulated); dweight and dbias accumulate. */
    public void backwardMish(Tensor dy, Tensor dx) {
        try (OpProfile.Scope ignored = OpProfile.scope(OpProfile.Family.NORM, dy.backend())) {
            checkBackward(true);
            Ops.groupNormMishBackward(dy, x, weight.value(), bias.value(), mean.get(x.dim(0), groups),
                    rstd.get(x.dim(0), groups), dx, weight.grad(), bias.grad(), groups);
        }
    }

    private void checkInput(Tensor x) {
        if (x.rank() < 2 || x.dim(1) != c) {
            throw new IllegalArgumentException(weight.name() + ": input " + x.shapeString() + " is not (N, " + c
                    + ", ...)");
        }
    }

    private void checkBackward(boolean mish) {
        if (x == null) {
            throw new IllegalStateException(weight.name() + ": backward before forward");
        }
        if (withMish != mish) {
            throw new IllegalStateException(weight.name() + ": the last forward was " + (withMish ? "forwardMish"
                    : "forward") + ", so its backward is " + (withMish ? "backwardMish" : "backward"));
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
