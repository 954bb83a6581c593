package org.cotrain.nn;

import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;

/**
 * torch.nn.Dropout(p) as one dropout site (see {@link DropoutSites}): in training with p > 0 the mask of element i
 * is Philox's keep decision at (seed, offset + i); otherwise it is the identity and costs nothing (no copy). The
 * forward keeps the decisions as a byte mask for the backward (drawing them again would cost more than reading
 * them), and the backward writes its gradient rather than adding to a zeroed one.
 */
public final class Dropout implements AutoCloseable {
    private final float p;
    private final long offset;
    private final Buffer out;
    private final Buffer mask;  // int32 storage for one byte per element
    private final Buffer grad;
    private boolean active;
    private long seed;

    public Dropout(Backend backend, float p, long offset) {
        if (!(p >= 0f && p < 1f)) {
            throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
        }
        this.p = p;
        this.offset = offset;
        this.out = new Buffer(backend);
        this.mask = new Buffer(backend);
        this.grad = new Buffer(backend);
    }

    public float p() {
        return p;
    }

    /** dropout(x): a buffer of this site in training, x itself otherwise. */
    public Tensor forward(Tensor x, boolean training, long seed) {
        this.active = training && p > 0f;
        this.seed = seed;
        if (!active) {
            return x;
        }
        Tensor y = out.get(x.shape());
        Ops.dropoutForward(x, y, mask.get(DType.I32, Math.toIntExact((x.numel() + 3) / 4)), p, seed, offset);
        return y;
    }

    /** The gradient for the forward's input given dy: a buffer of this site in training, dy itself otherwise. */
    public Tensor backward(Tensor dy) {
        if (!active) {
            return dy;
        }
        Tensor dx = grad.get(dy.shape());
        Ops.dropoutBackward(dy, dx, mask.get(DType.I32, Math.toIntExact((dy.numel() + 3) / 4)), p, seed, offset,
                false);
        return dx;
    }

    @Override
    public void close() {
        out.close();
        mask.close();
        grad.close();
    }
}
