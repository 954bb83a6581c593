package org.cotrain.nn;

import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;

/** torch.nn.MaxPool2d(kernel, stride, padding), keeping the argmax of each window for the backward. */
public final class MaxPool2d implements AutoCloseable {
    private final int kernel;
    private final int stride;
    private final int padding;
    private final Buffer out;
    private final Buffer argmax;
    private int[] inputShape;

    public MaxPool2d(Backend backend, int kernel, int stride, int padding) {
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.out = new Buffer(backend);
        this.argmax = new Buffer(backend);
    }

    public int outputSize(int size) {
        return Ops.convOutputSize(size, kernel, stride, padding);
    }

    /** x (N, C, H, W) -> y (N, C, Ho, Wo), a buffer of this layer. */
    public Tensor forward(Tensor x) {
        try (OpProfile.Scope ignored = OpProfile.scope(OpProfile.Family.POOL, x.backend())) {
            if (x.rank() != 4) {
                throw new IllegalArgumentException("MaxPool2d: input " + x.shapeString() + " is not (N, C, H, W)");
            }
            int[] s = {x.dim(0), x.dim(1), outputSize(x.dim(2)), outputSize(x.dim(3))};
            Tensor y = out.get(s);
            Ops.maxPool2dForward(x, y, argmax.get(DType.I32, s), kernel, stride, padding);
            inputShape = x.shape();
            return y;
        }
    }

    /** dx += dy routed to each window's maximum. */
    public void backward(Tensor dy, Tensor dx) {
        try (OpProfile.Scope ignored = OpProfile.scope(OpProfile.Family.POOL, dy.backend())) {
            if (inputShape == null) {
                throw new IllegalStateException("MaxPool2d: backward before forward");
            }
            Ops.maxPool2dBackward(dy, argmax.get(DType.I32, dy.shape()), dx, kernel, stride, padding);
        }
    }

    @Override
    public void close() {
        out.close();
        argmax.close();
    }
}
