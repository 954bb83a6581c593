package org.cotrain.nn;

import java.util.ArrayList;
import java.util.List;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * Diffusion Policy's Conv1dBlock (diffusion_policy/model/diffusion/conv1d_components.py): nn.Sequential(Conv1d(in,
 * out, k, padding k // 2), GroupNorm(n_groups, out), Mish()), parameters prefix + "block.0.weight", "block.0.bias",
 * "block.1.weight", "block.1.bias". The kernel is odd, so the length is kept. The GroupNorm and the Mish run as one
 * fused op ({@link GroupNorm#forwardMish}), the GroupNorm keeping its parameters and names.
 */
public final class Conv1dBlock implements AutoCloseable {
    private final Conv1d conv;
    private final GroupNorm norm; // with the Mish after it, fused
    private final Buffer dConv;   // d/d(conv output)
    private Tensor lastOut;

    public Conv1dBlock(Backend backend, String prefix, int in, int out, int kernel, int groups) {
        if (kernel % 2 == 0) {
            throw new IllegalArgumentException(prefix + ": kernel_size must be odd (padding k // 2 keeps the length), "
                    + "got " + kernel);
        }
        this.conv = new Conv1d(backend, prefix + "block.0", in, out, kernel, 1, kernel / 2);
        this.norm = new GroupNorm(backend, prefix + "block.1", groups, out);
        this.dConv = new Buffer(backend);
    }

    /** Conv1d, then GroupNorm: the state_dict order. */
    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>(conv.parameters());
        ps.addAll(norm.parameters());
        return ps;
    }

    /** x (N, in, T) -> (N, out, T), a buffer of this block valid until its next forward; x is kept for backward. */
    public Tensor forward(Tensor x) {
        lastOut = norm.forwardMish(conv.forward(x));
        return lastOut;
    }

    /** The output of the last forward. */
    public Tensor output() {
        return lastOut;
    }

    /** Every parameter gradient accumulates; dx += the input gradient (dx may be null). */
    public void backward(Tensor dy, Tensor dx) {
        if (lastOut == null) {
            throw new IllegalStateException("Conv1dBlock: backward before forward");
        }
        Tensor dc = dConv.get(dy.shape()); // written by the fused backward, no zero-fill
        norm.backwardMish(dy, dc);
        conv.backward(dc, dx);
    }

    @Override
    public void close() {
        conv.close();
        norm.close();
        dConv.close();
    }
}
