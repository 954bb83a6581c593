package org.cotrain.nn;

import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * torch.nn.Mish, y = x tanh(softplus(x)): no parameters. The forward keeps a reference to its input for the backward:
 * the caller keeps x unchanged until then.
 */
public final class Mish implements AutoCloseable {
    private final Buffer y;
    private Tensor x;

    public Mish(Backend backend) {
        this.y = new Buffer(backend);
    }

    /** x (any shape) -> y, a buffer of this layer valid until its next forward. */
    public Tensor forward(Tensor x) {
        Tensor out = y.get(x.shape());
        Ops.mishForward(x, out);
        this.x = x;
        return out;
    }

    /** dx += dy * mish'(x). */
    public void backward(Tensor dy, Tensor dx) {
        if (x == null) {
            throw new IllegalStateException("Mish: backward before forward");
        }
        Ops.mishBackward(x, dy, dx);
    }

    @Override
    public void close() {
        y.close();
    }
}
