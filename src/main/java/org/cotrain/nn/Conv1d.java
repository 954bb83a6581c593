package org.cotrain.nn;

import java.util.List;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * torch.nn.Conv1d(in, out, kernel, stride, padding) with groups 1 and a bias, as a conv2d of (N, C, 1, T) maps with a
 * (1, kernel) kernel: weight (out, in, kernel) named name.weight, bias (out) named name.bias, both torch's default
 * initialisation U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in kernel, and both decayed (Diffusion Policy's
 * U-Net policies give every parameter of the model to AdamW with one weight decay). The forward keeps a reference to
 * its input for the backward: the caller keeps x unchanged until then.
 */
public final class Conv1d implements AutoCloseable {
    private final int in;
    private final int out;
    private final int kernel;
    private final int stride;
    private final int padding;
    private final Parameter weight;
    private final Parameter bias;
    private final Buffer y;
    private Tensor x;

    public Conv1d(Backend backend, String name, int in, int out, int kernel, int stride, int padding) {
        if (in <= 0 || out <= 0 || kernel <= 0 || stride <= 0 || padding < 0) {
            throw new IllegalArgumentException(name + ": bad Conv1d(" + in + ", " + out + ", kernel " + kernel
                    + ", stride " + stride + ", padding " + padding + ")");
        }
        this.in = in;
        this.out = out;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        float bound = (float) (1 / Math.sqrt((double) in * kernel));
        this.weight = new Parameter(backend, name + ".weight", Parameter.Init.UNIFORM, bound, true, out, in, kernel);
        this.bias = new Parameter(backend, name + ".bias", Parameter.Init.UNIFORM, bound, true, out);
        this.y = new Buffer(backend);
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

    /** Output length for an input of length t. */
    public int outputLength(int t) {
        return Ops.convOutputSize(t, kernel, stride, padding);
    }

    /** x (N, in, T) -> y (N, out, To), a buffer of this layer valid until its next forward. */
    public Tensor forward(Tensor x) {
        try (OpProfile.Scope ignored = OpProfile.scope(OpProfile.Family.CONV, x.backend())) {
            if (x.rank() != 3 || x.dim(1) != in) {
                throw new IllegalArgumentException(weight.name() + ": input " + x.shapeString() + " is not (N, " + in
                        + ", T)");
            }
            if (x.dim(2) + 2L * padding < kernel) {
                throw new IllegalArgumentException(weight.name() + ": input " + x.shapeString()
                        + " is shorter than the kernel " + kernel + " (padding " + padding + ")");
            }
            int n = x.dim(0);
            int t = x.dim(2);
            int to = outputLength(t);
            Tensor result = y.get(n, out, to);
            Ops.conv2dForward(x.view(n, in, 1, t), weight4(weight.value()), bias.value(), result.view(n, out, 1, to),
                    1, stride, 0, padding);
            this.x = x;
            return result;
        }
    }

    /** dweight and dbias += their gradients; dx += the input's, unless dx is null. dy (N, out, To), dx (N, in, T). */
    public void backward(Tensor dy, Tensor dx) {
        try (OpProfile.Scope ignored = OpProfile.scope(OpProfile.Family.CONV, dy.backend())) {
            if (x == null) {
                throw new IllegalStateException(weight.name() + ": backward before forward");
            }
            int n = x.dim(0);
            int t = x.dim(2);
            int to = outputLength(t);
            if (!dy.hasShape(n, out, to)) {
                throw new IllegalArgumentException(weight.name() + ": gradient " + dy.shapeString()
                        + " is not the output's (" + n + ", " + out + ", " + to + ")");
            }
            Tensor dy4 = dy.view(n, out, 1, to);
            Ops.conv2dBackwardWeight(dy4, x.view(n, in, 1, t), weight4(weight.grad()), bias.grad(), 1, stride, 0,
                    padding);
            if (dx != null) {
                if (!dx.hasShape(x.shape())) {
                    throw new IllegalArgumentException(weight.name() + ": input gradient " + dx.shapeString()
                            + " is not the input's " + x.shapeString());
                }
                Ops.conv2dBackwardData(dy4, weight4(weight.value()), dx.view(n, in, 1, t), 1, stride, 0, padding);
            }
        }
    }

    private Tensor weight4(Tensor w) {
        return w.view(out, in, 1, kernel);
    }

    @Override
    public void close() {
        weight.close();
        bias.close();
        y.close();
    }
}
