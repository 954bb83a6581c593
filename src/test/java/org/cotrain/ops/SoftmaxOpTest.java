package org.cotrain.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** softmax.h: softmax over the last dimension; backward dx += y (dy - sum_c dy y). */
class SoftmaxOpTest {
    /** Shapes (..., cols): one column, odd widths, the small (16) and large (1000+) rows in use, a 3-D case. */
    private static final int[][] SHAPES = {
        {1, 1}, {5, 1}, {1, 7}, {3, 7}, {5, 16}, {7, 33}, {4, 257}, {2, 1001}, {2000, 16}, {2, 3, 5}, {3, 4099},
    };

    // ---- float64 reference ----------------------------------------------------------------------------------------

    private static double[] refForward(double[] x, int rows, int cols) {
        double[] y = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < cols; i++) {
                max = Math.max(max, x[r * cols + i]);
            }
            double sum = 0;
            for (int i = 0; i < cols; i++) {
                sum += Math.exp(x[r * cols + i] - max);
            }
            for (int i = 0; i < cols; i++) {
                y[r * cols + i] = Math.exp(x[r * cols + i] - max) / sum;
            }
        }
        return y;
    }

    /** dx[r, i] += y[r, i] (dy[r, i] - sum_j dy[r, j] y[r, j]). */
    private static void refBackward(double[] y, double[] dy, double[] dx, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            double dot = 0;
            for (int i = 0; i < cols; i++) {
                dot += dy[r * cols + i] * y[r * cols + i];
            }
            for (int i = 0; i < cols; i++) {
                dx[r * cols + i] += y[r * cols + i] * (dy[r * cols + i] - dot);
            }
        }
    }

    // ---- inputs and the op through Ops ----------------------------------------------------------------------------

    /** Logits 3 N(0, 1) plus a per-row shift of up to +-100, so that exp without the max would overflow. */
    private static float[] inputs(long seed, int rows, int cols) {
        double[] x = OpTesting.randn(seed, rows * cols);
        double[] shift = OpTesting.uniform(seed + 1, rows, -100, 100);
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < cols; i++) {
                x[r * cols + i] = 3 * x[r * cols + i] + shift[r];
            }
        }
        return OpTesting.toFloat(x);
    }

    private static int[] rowsAndCols(int[] shape) {
        int cols = shape[shape.length - 1];
        return new int[] {cols == 0 ? 0 : (int) (Tensor.numel(shape) / cols), cols};
    }

    private static float[] forward(Backend be, float[] x, int[] shape) {
        try (Tensor tx = be.of(x, shape); Tensor ty = be.zeros(shape)) {
            Ops.softmaxForward(tx, ty);
            return ty.toFloatArray();
        }
    }

    private static float[] backward(Backend be, float[] y, float[] dy, float[] dx0, int[] shape) {
        try (Tensor ty = be.of(y, shape); Tensor tdy = be.of(dy, shape); Tensor tdx = be.of(dx0, shape)) {
            Ops.softmaxBackward(ty, tdy, tdx);
            return tdx.toFloatArray();
        }
    }

    private static float[] minus(float[] a, float[] b) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] - b[i];
        }
        return out;
    }

    // ---- the reference against finite differences ---------------------------------------------------------------

    @Test
    void referenceBackwardMatchesNumericalGradient() {
        for (int[] rc : new int[][] {{3, 7}, {2, 1}, {4, 16}}) {
            int rows = rc[0];
            int cols = rc[1];
            double[] x = OpTesting.randn(1, rows * cols);
            double[] dy = OpTesting.randn(2, rows * cols);
            double[] analytic = new double[rows * cols];
            refBackward(refForward(x, rows, cols), dy, analytic, rows, cols);
            double[] numerical = OpTesting.numericalGradient(
                    xs -> OpTesting.dot(dy, refForward(xs, rows, cols)), x, 1e-6);
            OpTesting.assertClose("reference gradient (" + rows + ", " + cols + ")", analytic, numerical, 1e-6);
        }
    }

    // ---- CPU against the reference --------------------------------------------------------------------------------

    @Test
    void cpuForwardMatchesReference() {
        for (int[] shape : SHAPES) {
            int[] rc = rowsAndCols(shape);
            float[] x = inputs(10 + rc[0] * 31 + rc[1], rc[0], rc[1]);
            double[] expected = refForward(OpTesting.toDouble(x), rc[0], rc[1]);
            float[] y = forward(OpTesting.cpu(), x, shape);
            OpTesting.assertClose("softmax " + Tensor.shapeString(shape), y, expected, 1e-5);
            // each row sums to 1
            for (int r = 0; r < rc[0]; r++) {
                double sum = 0;
                for (int i = 0; i < rc[1]; i++) {
                    sum += y[r * rc[1] + i];
                }
                assertEquals(1.0, sum, 1e-5, "row " + r + " of " + Tensor.shapeString(shape));
            }
        }
    }

    @Test
    void cpuBackwardMatchesReferenceAndAccumulates() {
        for (int[] shape : SHAPES) {
            int[] rc = rowsAndCols(shape);
            int n = rc[0] * rc[1];
            float[] y = forward(OpTesting.cpu(), inputs(20 + n, rc[0], rc[1]), shape);
            float[] dy = OpTesting.toFloat(OpTesting.randn(30 + n, n));
            float[] dx0 = OpTesting.toFloat(OpTesting.randn(40 + n, n)); // non-zero: the op must add
            double[] inc = new double[n];
            refBackward(OpTesting.toDouble(y), OpTesting.toDouble(dy), inc, rc[0], rc[1]);
            float[] dx = backward(OpTesting.cpu(), y, dy, dx0, shape);
            String at = " " + Tensor.shapeString(shape);
            OpTesting.assertClose("softmax backward increment" + at, minus(dx, dx0), inc, 1e-5);
            double[] total = OpTesting.toDouble(dx0);
            refBackward(OpTesting.toDouble(y), OpTesting.toDouble(dy), total, rc[0], rc[1]);
            OpTesting.assertClose("softmax backward total" + at, dx, total, 1e-5);
        }
    }

    // ---- edge cases -----------------------------------------------------------------------------------------------

    @Test
    void largeLogitsDoNotOverflow() {
        float[] x = {1000f, 999f, 998f, -1000f, 88.8f, 89f, 3e38f, 3e38f, -3e38f};
        float[] y = forward(OpTesting.cpu(), x, new int[] {3, 3});
        double e1 = Math.exp(-1);
        double e2 = Math.exp(-2);
        double[] expected = {1 / (1 + e1 + e2), e1 / (1 + e1 + e2), e2 / (1 + e1 + e2),
            0, Math.exp(-0.2) / (1 + Math.exp(-0.2)), 1 / (1 + Math.exp(-0.2)), 0.5, 0.5, 0};
        // the float inputs are not exactly 88.8 and 89
        expected[4] = 1 / (1 + Math.exp((double) 89f - (double) 88.8f));
        expected[5] = 1 - expected[4];
        OpTesting.assertClose("large logits", y, expected, 1e-6);
    }

    @Test
    void maskedEntriesGetZeroProbability() {
        // -inf logits (a mask) get exactly 0 and the rest renormalises; their gradient is 0
        float ninf = Float.NEGATIVE_INFINITY;
        float[] x = {ninf, 1f, ninf, 2f, 0f, ninf, ninf, 5f};
        int[] shape = {2, 4};
        float[] y = forward(OpTesting.cpu(), x, shape);
        double[] expected = refForward(new double[] {-1e300, 1, -1e300, 2, 0, -1e300, -1e300, 5}, 2, 4);
        OpTesting.assertClose("masked softmax", y, expected, 1e-6);
        assertEquals(0f, y[0], 0f);
        assertEquals(0f, y[5], 0f);
        float[] dy = {1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f};
        float[] dx = backward(OpTesting.cpu(), y, dy, new float[8], shape);
        assertEquals(0f, dx[0], 0f);
        assertEquals(0f, dx[2], 0f);
        assertEquals(0f, dx[6], 0f);
        double[] inc = new double[8];
        refBackward(OpTesting.toDouble(y), OpTesting.toDouble(dy), inc, 2, 4);
        OpTesting.assertClose("masked softmax backward", dx, inc, 1e-6);
    }

    @Test
    void singleColumnIsOneWithZeroGradient() {
        float[] x = {-3f, 0f, 7f, 1e30f};
        int[] shape = {4, 1};
        assertArrayEquals(new float[] {1f, 1f, 1f, 1f}, forward(OpTesting.cpu(), x, shape));
        float[] dx0 = {1f, -2f, 3f, -4f};
        float[] dx = backward(OpTesting.cpu(), new float[] {1f, 1f, 1f, 1f}, new float[] {5f, 6f, 7f, 8f}, dx0, shape);
        assertArrayEquals(dx0, dx, 0f);
    }

    @Test
    void gradientIsOrthogonalToOnes() {
        // softmax outputs sum to 1, so the gradient of any loss with respect to a row's logits sums to 0
        int rows = 50;
        int cols = 33;
        // unit-scale logits: no row is nearly one-hot, whose gradient would be all rounding
        float[] x = OpTesting.toFloat(OpTesting.randn(5, rows * cols));
        float[] y = forward(OpTesting.cpu(), x, new int[] {rows, cols});
        float[] dy = OpTesting.toFloat(OpTesting.randn(6, rows * cols));
        float[] dx = backward(OpTesting.cpu(), y, dy, new float[rows * cols], new int[] {rows, cols});
        for (int r = 0; r < rows; r++) {
            double sum = 0;
            double scale = 0;
            for (int i = 0; i < cols; i++) {
                sum += dx[r * cols + i];
                scale += Math.abs(dx[r * cols + i]);
            }
            assertTrue(Math.abs(sum) <= 1e-6 * Math.max(scale, 1e-30), "row " + r + " gradient sums to " + sum);
        }
    }

    @Test
    void emptyInputIsANoOpAndShapesAreChecked() {
        Backend be = OpTesting.cpu();
        try (Tensor x = be.zeros(0, 16); Tensor y = be.zeros(0, 16)) {
            Ops.softmaxForward(x, y);
            Ops.softmaxBackward(y, x, y);
        }
        try (Tensor x = be.zeros(3, 16); Tensor y = be.zeros(3, 15)) {
            assertThrows(IllegalArgumentException.class, () -> Ops.softmaxForward(x, y));
            assertThrows(IllegalArgumentException.class, () -> Ops.softmaxBackward(x, x, y));
        }
    }

    // ---- CUDA against the CPU -------------------------------------------------------------------------------------

    @Test
    void cudaMatchesCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        Backend cpu = OpTesting.cpu();
        int[][] shapes = {{1, 1}, {5, 1}, {3, 7}, {5, 16}, {7, 33}, {100_000, 16}, {2000, 1000}, {3, 4099},
            {4, 5, 31}};
        for (int[] shape : shapes) {
            int[] rc = rowsAndCols(shape);
            int n = rc[0] * rc[1];
            String at = " " + Tensor.shapeString(shape);
            float[] x = inputs(50 + n, rc[0], rc[1]);
            float[] yc = forward(cpu, x, shape);
            OpTesting.assertClose("cuda softmax" + at, forward(cuda, x, shape), yc, 1e-4);
            float[] dy = OpTesting.toFloat(OpTesting.randn(60 + n, n));
            float[] dx0 = OpTesting.toFloat(OpTesting.randn(70 + n, n));
            OpTesting.assertClose("cuda softmax backward" + at, minus(backward(cuda, yc, dy, dx0, shape), dx0),
                    minus(backward(cpu, yc, dy, dx0, shape), dx0), 1e-4);
        }
        float ninf = Float.NEGATIVE_INFINITY;
        float[] masked = {ninf, 1f, ninf, 2f, 0f, ninf, ninf, 5f};
        assertArrayEquals(forward(cpu, masked, new int[] {2, 4}), forward(cuda, masked, new int[] {2, 4}), 1e-6f,
                "cuda masked softmax");
    }
}
