package org.cotrain.tensor;

import java.util.Arrays;
import java.util.Objects;
import org.bytedeco.javacpp.Pointer;

/**
 * A dense, row-major array of float32 or int32 in host or device memory, owned by the Java object.
 *
 * <p>Native memory is released by {@link #close()} (use try-with-resources), not by the garbage collector; a
 * tensor used after close throws {@link IllegalStateException} instead of handing a dangling pointer to native code.
 * A {@link #view(int...)} shares its owner's storage under another shape: closing a view does nothing, and a view
 * of a closed tensor is closed too.
 *
 * <p>Tensors are made by a {@link Backend} ({@code backend.zeros(B, T, C)}) and computed on by
 * {@link org.cotrain.ops.Ops}.
 */
public final class Tensor implements AutoCloseable {
    private final Backend backend;
    private final DType dtype;
    private final int[] shape;
    private final long numel;
    private final Tensor owner; // this, or the tensor whose storage a view shares
    private Pointer data; // null once closed

    private Tensor(Backend backend, DType dtype, int[] shape, Pointer data, Tensor owner) {
        this.backend = backend;
        this.dtype = dtype;
        this.shape = shape;
        this.numel = numel(shape);
        this.data = data;
        this.owner = owner == null ? this : owner;
    }

    /**
     * Wraps storage that a backend has just allocated for {@code numel(shape)} elements; the tensor owns it from
     * now on and returns it to the backend on close. For backends only.
     */
    public static Tensor wrap(Backend backend, DType dtype, int[] shape, Pointer data) {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(data, "data");
        return new Tensor(backend, dtype, checkShape(shape), data, null);
    }

    /** Number of elements of a shape; every dimension must be >= 0. */
    public static long numel(int... shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    /** "(2, 16, 256)": how shapes appear in messages. */
    public static String shapeString(int... shape) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        return sb.append(shape.length == 1 ? ",)" : ")").toString();
    }

    private static int[] checkShape(int[] shape) {
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + shapeString(shape));
            }
        }
        return shape.clone();
    }

    public Backend backend() {
        return backend;
    }

    public DType dtype() {
        return dtype;
    }

    public Device device() {
        return backend.device();
    }

    /** A copy of the shape. */
    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Size of dimension i; negative i counts from the end. */
    public int dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    public long numel() {
        return numel;
    }

    public long bytes() {
        return numel * dtype.bytes();
    }

    public String shapeString() {
        return shapeString(shape);
    }

    /** The storage, for backends and native calls. Throws if this tensor (or the tensor it views) is closed. */
    public Pointer data() {
        if (owner.data == null) {
            throw new IllegalStateException("tensor " + shapeString() + " " + dtype + " was used after close()");
        }
        return owner.data;
    }

    public boolean isClosed() {
        return owner.data == null;
    }

    /** The same storage under another shape with the same number of elements (no copy). */
    public Tensor view(int... newShape) {
        checkShape(newShape);
        if (numel(newShape) != numel) {
            throw new IllegalArgumentException("cannot view " + shapeString() + " (" + numel + " elements) as "
                    + shapeString(newShape) + " (" + numel(newShape) + " elements)");
        }
        data(); // fail now if closed
        return new Tensor(backend, dtype, newShape.clone(), null, owner);
    }

    /** Copies the elements to a new Java array (waits for pending work on the tensor's device). */
    public float[] toFloatArray() {
        requireDType(DType.F32);
        float[] out = new float[Math.toIntExact(numel)];
        backend.copyToHost(this, out);
        return out;
    }

    public int[] toIntArray() {
        requireDType(DType.I32);
        int[] out = new int[Math.toIntExact(numel)];
        backend.copyToHost(this, out);
        return out;
    }

    /** The bytes of a uint8 tensor, as unsigned values 0..255 stored in Java's signed bytes. */
    public byte[] toByteArray() {
        requireDType(DType.U8);
        byte[] out = new byte[Math.toIntExact(numel)];
        backend.copyToHost(this, out);
        return out;
    }

    /** The single element of a one-element float tensor (a loss, a norm). */
    public float item() {
        if (numel != 1) {
            throw new IllegalArgumentException("item() needs one element, tensor has shape " + shapeString());
        }
        return toFloatArray()[0];
    }

    public Tensor copyFrom(float[] values) {
        requireDType(DType.F32);
        requireLength(values.length);
        backend.copyFromHost(values, this);
        return this;
    }

    public Tensor copyFrom(int[] values) {
        requireDType(DType.I32);
        requireLength(values.length);
        backend.copyFromHost(values, this);
        return this;
    }

    /** Fills a uint8 tensor (values 0..255, stored in Java's signed bytes). */
    public Tensor copyFrom(byte[] values) {
        requireDType(DType.U8);
        requireLength(values.length);
        backend.copyFromHost(values, this);
        return this;
    }

    private void requireDType(DType expected) {
        if (dtype != expected) {
            throw new IllegalArgumentException("tensor " + shapeString() + " is " + dtype + ", not " + expected);
        }
    }

    private void requireLength(int length) {
        if (length != numel) {
            throw new IllegalArgumentException("array of " + length + " elements does not fit tensor "
                    + shapeString() + " (" + numel + " elements)");
        }
    }

    /** Returns the storage to the backend. Idempotent; a no-op for views. */
    @Override
    public void close() {
        if (owner != this || data == null) {
            return;
        }
        Pointer p = data;
        data = null;
        backend.release(p, bytes());
    }

    @Override
    public String toString() {
        return "Tensor" + shapeString() + " " + dtype + " on " + backend.name() + (isClosed() ? " (closed)" : "");
    }

    /** Shapes equal, for checks. */
    public boolean hasShape(int... expected) {
        return Arrays.equals(shape, expected);
    }
}
