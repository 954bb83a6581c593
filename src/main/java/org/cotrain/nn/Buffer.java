package org.cotrain.nn;

import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;

/**
 * One activation buffer of a layer: allocated on first use, kept while the shape stays the same (the same batch
 * size), reallocated when it changes. Its contents are whatever was last written; {@link #zeros} clears them.
 */
public final class Buffer implements AutoCloseable {
    private final Backend backend;
    private Tensor tensor;

    public Buffer(Backend backend) {
        this.backend = backend;
    }

    /** The float32 buffer with this shape (uninitialised when newly allocated). */
    public Tensor get(int... shape) {
        return get(DType.F32, shape);
    }

    /** The buffer with this dtype and shape (uninitialised when newly allocated). */
    public Tensor get(DType dtype, int... shape) {
        if (tensor == null || tensor.dtype() != dtype || !tensor.hasShape(shape)) {
            close();
            tensor = backend.empty(dtype, shape);
        }
        return tensor;
    }

    /** The buffer with this shape, set to zero. */
    public Tensor zeros(int... shape) {
        Tensor t = get(shape);
        backend.zero(t);
        return t;
    }

    @Override
    public void close() {
        if (tensor != null) {
            tensor.close();
            tensor = null;
        }
    }
}
