package org.cotrain.data;

import org.cotrain.tensor.Tensor;

/**
 * A dense row-major array read from or written to a dataset, on the Java heap: float32 ({@link FloatArray}, which is
 * also what float64 and integer arrays become) or uint8 ({@link ByteArray}, images (N, H, W, 3)).
 */
public sealed interface NdArray permits FloatArray, ByteArray {
    /** A copy of the shape; (N, ...) for the per-step arrays of a demo. */
    int[] shape();

    /** The first dimension: the number of steps of a per-step array (1 for a scalar). */
    default int length() {
        int[] s = shape();
        return s.length == 0 ? 1 : s[0];
    }

    /** Elements per step: the product of the dimensions after the first. */
    default int rowSize() {
        int[] s = shape();
        long n = 1;
        for (int i = 1; i < s.length; i++) {
            n *= s[i];
        }
        return Math.toIntExact(n);
    }

    default long numel() {
        return Tensor.numel(shape());
    }

    /** "float32 (100, 20)" for messages. */
    String describe();

    static int[] checkedShape(int[] shape, long numel, String what) {
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Tensor.shapeString(shape));
            }
        }
        if (Tensor.numel(shape) != numel) {
            throw new IllegalArgumentException(what + " of " + numel + " elements does not have shape "
                    + Tensor.shapeString(shape));
        }
        return shape.clone();
    }
}
