package org.cotrain.nn;

import java.util.List;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * torch.nn.ConvTranspose1d(in, out, kernel, stride, padding) with groups 1, output_padding 0, dilation 1 and a bias:
 * weight (in, out, kernel) named name.weight, bias (out) named name.bias; torch's default initialisation
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with torch's fan_in of this weight, out kernel; both decayed (see
 * {@link Conv1d}). Output length (T - 1) stride - 2 padding + kernel.
 *
 * <p>Computed as the adjoint of a conv2d of (N, C, 1, T) maps with a (1, kernel) kernel: the forward is conv2d's
 * backward-data with this weight read as a conv2d weight (CO = in, CI = out), its input gradient is that conv2d's
 * forward, and its weight gradient is conv2d's backward-weight with the roles of input and output gradient swapped.
 */
public final class ConvTranspose1d implements AutoCloseable {
    private final int in;
    private final int out;
    private final int kernel;
    private final int stride;
    private final int padding;
    private final Parameter weight;
    private final Parameter bias;
    private final Buffer y;
    private final Buffer biasRows; // (out, To): the bias repeated along T
    private final Buffer ones;     // (1, To)
    private final Buffer dxScratch;
    private Tensor x;

    public ConvTranspose1d(Backend backend, String name, int in, int out, int kernel, int stride, int padding) {
        if (in <= 0 || out <= 0 || kernel <= 0 || stride <= 0 || padding < 0 || padding >= kernel) {
            throw new IllegalArgumentException(name + ": bad ConvTranspose1d(" + in + ", " + out + ", kernel "
                    + kernel + ", stride " + stride + ", padding " + padding + ")");
        }
        this.in = in;
        this.out = out;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        // torch's _calculate_fan_in_and_fan_out on a (in, out, k) weight: fan_in = size(1) * k
        float bound = (float) (1 / Math.sqrt((double) out * kernel));
        this.weight = new Parameter(backend, name + ".weight", Parameter.Init.UNIFORM, bound, true, in, out, kernel);
        this.bias = new Parameter(backend, name + ".bias", Parameter.Init.UNIFORM, bound, true, out);
        this.y = new Buffer(backend);
        this.biasRows = new Buffer(backend);
        this.ones = new Buffer(backend);
        this.dxScratch = new Buffer(backend);
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
        return (t - 1) * stride - 2 * padding + kernel;
    }

    /** x (N, in, T) -> y (N, out, To), a buffer of this layer valid until its next forward. */
    public Tensor forward(Tensor x) {
        try (OpProfile.Scope ignored = OpProfile.scope(OpProfile.Family.CONV, x.backend())) {
            if (x.rank() != 3 || x.dim(1) != in || x.dim(2) < 1) {
                throw new IllegalArgumentException(weight.name() + ": input " + x.shapeString() + " is not (N, " + in
                        + ", T)");
            }
            int n = x.dim(0);
            int t = x.dim(2);
            int to = outputLength(t);
            if (Ops.convOutputSize(to, kernel, stride, padding) != t) {
                throw new IllegalArgumentException(weight.name() + ": input length " + t
                        + " has no exact transposed output (kernel " + kernel + ", stride " + stride + ", padding "
                        + padding + ")");
            }
            Tensor result = y.get(n, out, to);
            x.backend().zero(result);
            Ops.conv2dBackwardData(x.view(n, in, 1, t), weight4(weight.value()), result.view(n, out, 1, to), 1,
                    stride, 0, padding);
            // + bias, broadcast over T: the bias as a (out, To) block (bias (out, 1) x ones (1, To)), added per sample
            Tensor one = ones.get(1, to);
            Ops.fill(one, 1f);
            Tensor rows = biasRows.get(out, to);
            Ops.matmul(bias.value().view(out, 1), false, one, false, null, rows);
            Ops.addBroadcast(result, rows, result);
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
            // the conv2d whose backward-data this layer's forward is: input dy (N, out, 1, To), output (N, in, 1, T)
            Ops.conv2dBackwardWeight(x.view(n, in, 1, t), dy4, weight4(weight.grad()), null, 1, stride, 0, padding);
            Ops.sumChannels(dy, bias.grad());
            if (dx != null) {
                if (!dx.hasShape(x.shape())) {
                    throw new IllegalArgumentException(weight.name() + ": input gradient " + dx.shapeString()
                            + " is not the input's " + x.shapeString());
                }
                Tensor d = dxScratch.get(n, in, t);
                Ops.conv2dForward(dy4, weight4(weight.value()), null, d.view(n, in, 1, t), 1, stride, 0, padding);
                Ops.add(dx, d, dx);
            }
        }
    }

    private Tensor weight4(Tensor w) {
        return w.view(in, out, 1, kernel);
    }

    @Override
    public void close() {
        weight.close();
        bias.close();
        y.close();
        biasRows.close();
        ones.close();
        dxScratch.close();
    }
}
