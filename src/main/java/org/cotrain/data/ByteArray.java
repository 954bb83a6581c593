package org.cotrain.data;

import java.nio.ByteBuffer;
import org.cotrain.tensor.Tensor;

/**
 * A uint8 array with its shape (row-major), e.g. images (N, H, W, 3). The buffer is usually direct, so that HDF5 reads
 * straight into it and a large image array never passes through a Java byte[]; {@link #toByteArray()} copies.
 * Values are unsigned: {@code Byte.toUnsignedInt(data.get(i))}.
 */
public record ByteArray(int[] shape, ByteBuffer data) implements NdArray {
    public ByteArray {
        shape = NdArray.checkedShape(shape, data.capacity(), "byte buffer");
    }

    public static ByteArray of(byte[] values, int... shape) {
        return new ByteArray(shape, ByteBuffer.wrap(values));
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** Element {@code i} (flat index) as 0..255. */
    public int getUnsigned(long i) {
        return Byte.toUnsignedInt(data.get(Math.toIntExact(i)));
    }

    /** A copy of all elements. */
    public byte[] toByteArray() {
        byte[] out = new byte[data.capacity()];
        data.duplicate().clear().get(out);
        return out;
    }

    @Override
    public String describe() {
        return "uint8 " + Tensor.shapeString(shape);
    }

    @Override
    public String toString() {
        return "ByteArray" + Tensor.shapeString(shape);
    }
}
