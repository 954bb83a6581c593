package org.cotrain.data;

import org.cotrain.tensor.Tensor;

/** A float32 array with its shape (row-major). The data array is shared, not copied. */
public record FloatArray(int[] shape, float[] data) implements NdArray {
    public FloatArray {
        shape = NdArray.checkedShape(shape, data.length, "float array");
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** Element {@code [row, col]} of a 2-D array. */
    public float get(int row, int col) {
        return data[row * rowSize() + col];
    }

    @Override
    public String describe() {
        return "float32 " + Tensor.shapeString(shape);
    }

    @Override
    public String toString() {
        return "FloatArray" + Tensor.shapeString(shape);
    }
}
