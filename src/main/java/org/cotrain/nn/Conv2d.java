package org.cotrain.nn;

import java.util.ArrayList;
import java.util.List;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * torch.nn.Conv2d(in, out, kernel, stride, padding, bias) with a square kernel, groups 1: weight (out, in, k, k)
 * named name.weight, optional bias (out) named name.bias. The forward keeps a reference to its input for the
 * backward: the caller keeps x unchanged until then.
 */
public final class Conv2d implements AutoCloseable {
    /** How the weight is initialised, after the layer it stands for. */
    public enum WeightInit {
        /**
         * torchvision's ResNet: kaiming_normal_(mode="fan_out", nonlinearity="relu"), N(0, 2 / (out k k)); no bias.
         */
        KAIMING_NORMAL_FAN_OUT,
        /** torch.nn.Conv2d's own default: weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in k k. */
        TORCH_DEFAULT
    }

    private final int in;
    private final int out;
    private final int kernel;
    private final int stride;
    private final int padding;
    private final Parameter weight;
    private final Parameter bias;
    private final Buffer y;
    private Tensor x;

    public Conv2d(Backend backend, String name, int in, int out, int kernel, int stride, int padding, boolean bias,
                  WeightInit init) {
        if (in <= 0 || out <= 0 || kernel <= 0 || stride <= 0 || padding < 0) {
            throw new IllegalArgumentException(name + ": bad Conv2d(" + in + ", " + out + ", kernel " + kernel
                    + ", stride " + stride + ", padding " + padding + ")");
        }
        this.in = in;
        this.out = out;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        int fanIn = in * kernel * kernel;
        if (init == WeightInit.KAIMING_NORMAL_FAN_OUT) {
            float std = (float) Math.sqrt(2.0 / (out * kernel * kernel));
            this.weight = new Parameter(backend, name + ".weight", Parameter.Init.NORMAL, std, true, out, in, kernel,
                    kernel);
        } else {
            this.weight = new Parameter(backend, name + ".weight", Parameter.Init.UNIFORM,
                    (float) (1 / Math.sqrt(fanIn)), true, out, in, kernel, kernel);
        }
        this.bias = !bias ? null : new Parameter(backend, name + ".bias",
                init == WeightInit.TORCH_DEFAULT ? Parameter.Init.UNIFORM : Parameter.Init.ZEROS,
                init == WeightInit.TORCH_DEFAULT ? (float) (1 / Math.sqrt(fanIn)) : 0f, true, out);
        this.y = new Buffer(backend);
    }

    public Parameter weight() {
        return weight;
    }

    /** The bias, or null. */
    public Parameter bias() {
        return bias;
    }

    /** weight, then bias: the state_dict order. */
    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>();
        ps.add(weight);
        if (bias != null) {
            ps.add(bias);
        }
        return ps;
    }

    /** Output size along an axis of the given input size. */
    public int outputSize(int size) {
        return Ops.convOutputSize(size, kernel, stride, padding);
    }

    /** x (N, in, H, W) -> y (N, out, Ho, Wo), a buffer of this layer valid until its next forward. */
    public Tensor forward(Tensor x) {
        try (OpProfile.Scope ignored = OpProfile.scope(OpProfile.Family.CONV, x.backend())) {
            if (x.rank() != 4 || x.dim(1) != in) {
                throw new IllegalArgumentException(weight.name() + ": input " + x.shapeString() + " is not (N, " + in
                        + ", H, W)");
            }
            Tensor out = y.get(x.dim(0), this.out, outputSize(x.dim(2)), outputSize(x.dim(3)));
            Ops.conv2dForward(x, weight.value(), bias == null ? null : bias.value(), out, stride, padding);
            this.x = x;
            return out;
        }
    }

    /** dweight (and dbias) += their gradients; dx += the input's, unless dx is null (the first layer needs none). */
    public void backward(Tensor dy, Tensor dx) {
        try (OpProfile.Scope ignored = OpProfile.scope(OpProfile.Family.CONV, dy.backend())) {
            if (x == null) {
                throw new IllegalStateException(weight.name() + ": backward before forward");
            }
            Ops.conv2dBackwardWeight(dy, x, weight.grad(), bias == null ? null : bias.grad(), stride, padding);
            if (dx != null) {
                Ops.conv2dBackwardData(dy, weight.value(), dx, stride, padding);
            }
        }
    }

    @Override
    public void close() {
        weight.close();
        if (bias != null) {
            bias.close();
        }
        y.close();
    }
}
