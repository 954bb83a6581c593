package org.cotrain.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * elementwise.h: fill, out = alpha a + beta b, out = a * b, and the row broadcast out[r, c] = a[r, c] + b[c]. out may
 * alias an input; Ops does not reject passing one tensor twice, so aliasing is tested through Ops.
 */
class ElementwiseOpTest {
    // 0 (nothing to do), odd sizes, and one above the OpenMP grain (16384) so the parallel path runs too.
    private static final int[] SIZES = {0, 1, 3, 7, 33, 257, 1001, 40_003};
    // (alpha, beta): add, subtract, scale-like, a general combination, accumulate-like.
    private static final float[][] COEFFS = {{1f, 1f}, {1f, -1f}, {2.5f, 0f}, {-0.75f, 1.3f}, {0.9f, 1f}};

    // ---- float64 reference ----------------------------------------------------------------------------------------

    private static double[] refAxpby(double[] a, double[] b, double alpha, double beta) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = alpha * a[i] + beta * b[i];
        }
        return out;
    }

    private static double[] refMul(double[] a, double[] b) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] * b[i];
        }
        return out;
    }

    /** a: (rows, cols) flattened, b: (cols). */
    private static double[] refAddBroadcast(double[] a, double[] b) {
        int cols = b.length;
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] + b[i % cols];
        }
        return out;
    }

    // ---- helpers running the op on a backend ----------------------------------------------------------------------

    private static float[] axpby(Backend be, float[] a, float[] b, float alpha, float beta) {
        try (Tensor ta = be.of(a, a.length); Tensor tb = be.of(b, b.length); Tensor to = be.zeros(a.length)) {
            Ops.axpby(ta, tb, to, alpha, beta);
            return to.toFloatArray();
        }
    }

    private static float[] mul(Backend be, float[] a, float[] b) {
        try (Tensor ta = be.of(a, a.length); Tensor tb = be.of(b, b.length); Tensor to = be.zeros(a.length)) {
            Ops.mul(ta, tb, to);
            return to.toFloatArray();
        }
    }

    private static float[] addBroadcast(Backend be, float[] a, int[] aShape, float[] b, int[] bShape) {
        try (Tensor ta = be.of(a, aShape); Tensor tb = be.of(b, bShape); Tensor to = be.zeros(aShape)) {
            Ops.addBroadcast(ta, tb, to);
            return to.toFloatArray();
        }
    }

    private static float[] fill(Backend be, int n, float value) {
        try (Tensor t = be.of(OpTesting.toFloat(OpTesting.randn(n, n)), n)) {
            Ops.fill(t, value);
            return t.toFloatArray();
        }
    }

    /** Shapes (a, b) of the broadcast: a bias (C) on (rows, C), a position embedding (T, C) on (B, T, C), odd ones. */
    private static final int[][][] BROADCAST_SHAPES = {
        {{1, 1}, {1}}, {{3, 7}, {7}}, {{7, 3}, {3}}, {{33, 1}, {1}}, {{1, 257}, {257}}, {{5, 33}, {33}},
        {{4, 16, 256}, {256}}, {{4, 16, 256}, {16, 256}}, {{3, 5, 7}, {5, 7}}, {{2, 3, 5}, {2, 3, 5}},
        {{0, 7}, {7}}, {{200, 201}, {201}},
    };

    // ---- the backward passes are elementwise ops: check the identities against finite differences ----------------

    @Test
    void referenceGradientsMatchNumericalGradient() {
        int rows = 5;
        int cols = 7;
        double[] a = OpTesting.randn(1, rows * cols);
        double[] b = OpTesting.randn(2, rows * cols);
        double[] bias = OpTesting.randn(3, cols);
        double[] dout = OpTesting.randn(4, rows * cols);
        // d(a*b)/da = dout * b, d(a*b)/db = dout * a
        OpTesting.assertClose("d mul / da", refMul(dout, b),
                OpTesting.numericalGradient(x -> OpTesting.dot(dout, refMul(x, b)), a, 1e-6), 1e-8);
        OpTesting.assertClose("d mul / db", refMul(dout, a),
                OpTesting.numericalGradient(x -> OpTesting.dot(dout, refMul(a, x)), b, 1e-6), 1e-8);
        // d(alpha a + beta b)/da = alpha dout, /db = beta dout
        OpTesting.assertClose("d axpby / da", refAxpby(dout, dout, 0.5, 0),
                OpTesting.numericalGradient(x -> OpTesting.dot(dout, refAxpby(x, b, 0.5, -2)), a, 1e-6), 1e-8);
        OpTesting.assertClose("d axpby / db", refAxpby(dout, dout, -2, 0),
                OpTesting.numericalGradient(x -> OpTesting.dot(dout, refAxpby(a, x, 0.5, -2)), b, 1e-6), 1e-8);
        // addBroadcast: d/da = dout, d/db = column sums of dout (ct_sum_rows)
        double[] colSums = new double[cols];
        for (int i = 0; i < rows * cols; i++) {
            colSums[i % cols] += dout[i];
        }
        OpTesting.assertClose("d addBroadcast / da", dout,
                OpTesting.numericalGradient(x -> OpTesting.dot(dout, refAddBroadcast(x, bias)), a, 1e-6), 1e-8);
        OpTesting.assertClose("d addBroadcast / db", colSums,
                OpTesting.numericalGradient(x -> OpTesting.dot(dout, refAddBroadcast(a, x)), bias, 1e-6), 1e-8);
    }

    // ---- CPU against the reference --------------------------------------------------------------------------------

    @Test
    void cpuFillSetsEveryElement() {
        for (int n : SIZES) {
            for (float v : new float[] {0f, -1.5f, 3.25e7f, Float.NaN}) {
                float[] out = fill(OpTesting.cpu(), n, v);
                float[] expected = new float[n];
                Arrays.fill(expected, v);
                assertArrayEquals(expected, out, "fill " + v + " n=" + n);
            }
        }
    }

    @Test
    void cpuAxpbyMatchesReference() {
        for (int n : SIZES) {
            float[] a = OpTesting.toFloat(OpTesting.randn(10 + n, n));
            float[] b = OpTesting.toFloat(OpTesting.randn(20 + n, n));
            for (float[] ab : COEFFS) {
                double[] expected = refAxpby(OpTesting.toDouble(a), OpTesting.toDouble(b), ab[0], ab[1]);
                OpTesting.assertClose("axpby " + Arrays.toString(ab) + " n=" + n,
                        axpby(OpTesting.cpu(), a, b, ab[0], ab[1]), expected, 1e-6);
            }
        }
    }

    @Test
    void cpuAddAndScaleMatchReference() {
        int n = 1001;
        float[] a = OpTesting.toFloat(OpTesting.randn(1, n));
        float[] b = OpTesting.toFloat(OpTesting.randn(2, n));
        try (Tensor ta = OpTesting.cpu().of(a, n); Tensor tb = OpTesting.cpu().of(b, n);
                Tensor to = OpTesting.cpu().zeros(n)) {
            Ops.add(ta, tb, to);
            OpTesting.assertClose("add", to.toFloatArray(),
                    refAxpby(OpTesting.toDouble(a), OpTesting.toDouble(b), 1, 1), 1e-6);
            Ops.scale(ta, -3f, to);
            OpTesting.assertClose("scale", to.toFloatArray(),
                    refAxpby(OpTesting.toDouble(a), OpTesting.toDouble(a), -3, 0), 1e-6);
        }
    }

    @Test
    void cpuMulMatchesReference() {
        for (int n : SIZES) {
            float[] a = OpTesting.toFloat(OpTesting.randn(30 + n, n));
            float[] b = OpTesting.toFloat(OpTesting.randn(40 + n, n));
            double[] expected = refMul(OpTesting.toDouble(a), OpTesting.toDouble(b));
            OpTesting.assertClose("mul n=" + n, mul(OpTesting.cpu(), a, b), expected, 1e-6);
        }
    }

    @Test
    void cpuAddBroadcastMatchesReference() {
        for (int[][] shapes : BROADCAST_SHAPES) {
            int n = (int) Tensor.numel(shapes[0]);
            int cols = (int) Tensor.numel(shapes[1]);
            float[] a = OpTesting.toFloat(OpTesting.randn(n, n));
            float[] b = OpTesting.toFloat(OpTesting.randn(cols + 7, cols));
            double[] expected = refAddBroadcast(OpTesting.toDouble(a), OpTesting.toDouble(b));
            OpTesting.assertClose("addBroadcast " + Tensor.shapeString(shapes[0]) + " + "
                    + Tensor.shapeString(shapes[1]), addBroadcast(OpTesting.cpu(), a, shapes[0], b, shapes[1]),
                    expected, 1e-6);
        }
    }

    // ---- aliasing: out may be a or b ------------------------------------------------------------------------------

    @Test
    void cpuOpsWorkInPlace() {
        inPlace(OpTesting.cpu());
    }

    private static void inPlace(Backend be) {
        for (int n : new int[] {1, 7, 33, 1001, 40_003}) {
            float[] a = OpTesting.toFloat(OpTesting.randn(50 + n, n));
            float[] b = OpTesting.toFloat(OpTesting.randn(60 + n, n));
            double[] ad = OpTesting.toDouble(a);
            double[] bd = OpTesting.toDouble(b);
            String where = be.name() + " n=" + n;
            try (Tensor ta = be.of(a, n); Tensor tb = be.of(b, n)) {
                Ops.axpby(ta, tb, ta, 0.5f, -2f); // out == a
                OpTesting.assertClose("axpby out == a, " + where, ta.toFloatArray(), refAxpby(ad, bd, 0.5, -2), 1e-6);
            }
            try (Tensor ta = be.of(a, n); Tensor tb = be.of(b, n)) {
                Ops.axpby(ta, tb, tb, 0.5f, -2f); // out == b (the accumulate form)
                OpTesting.assertClose("axpby out == b, " + where, tb.toFloatArray(), refAxpby(ad, bd, 0.5, -2), 1e-6);
            }
            try (Tensor ta = be.of(a, n)) {
                Ops.scale(ta, 3f, ta); // a == b == out
                OpTesting.assertClose("scale in place, " + where, ta.toFloatArray(), refAxpby(ad, ad, 3, 0), 1e-6);
            }
            try (Tensor ta = be.of(a, n); Tensor tb = be.of(b, n)) {
                Ops.mul(ta, tb, ta);
                OpTesting.assertClose("mul out == a, " + where, ta.toFloatArray(), refMul(ad, bd), 1e-6);
            }
            try (Tensor ta = be.of(a, n); Tensor tb = be.of(b, n)) {
                Ops.mul(ta, tb, tb);
                OpTesting.assertClose("mul out == b, " + where, tb.toFloatArray(), refMul(ad, bd), 1e-6);
            }
            try (Tensor ta = be.of(a, n)) {
                Ops.mul(ta, ta, ta); // square in place
                OpTesting.assertClose("mul a*a in place, " + where, ta.toFloatArray(), refMul(ad, ad), 1e-6);
            }
        }
        int rows = 37;
        int cols = 65;
        float[] a = OpTesting.toFloat(OpTesting.randn(70, rows * cols));
        float[] b = OpTesting.toFloat(OpTesting.randn(71, cols));
        try (Tensor ta = be.of(a, rows, cols); Tensor tb = be.of(b, cols)) {
            Ops.addBroadcast(ta, tb, ta);
            OpTesting.assertClose("addBroadcast out == a, " + be.name(), ta.toFloatArray(),
                    refAddBroadcast(OpTesting.toDouble(a), OpTesting.toDouble(b)), 1e-6);
            assertArrayEquals(b, tb.toFloatArray(), "b is left unchanged");
        }
    }

    // ---- edge cases -----------------------------------------------------------------------------------------------

    @Test
    void cpuSpecialValuesFollowIeee() {
        float[] a = {Float.POSITIVE_INFINITY, Float.NaN, -0f, 3e38f, 0f};
        float[] b = {1f, 2f, -0f, 3e38f, Float.NEGATIVE_INFINITY};
        float[] sum = axpby(OpTesting.cpu(), a, b, 1f, 1f);
        assertEquals(Float.POSITIVE_INFINITY, sum[0]);
        assertEquals(Float.NaN, sum[1]);
        assertEquals(-0f, sum[2]);
        assertEquals(Float.POSITIVE_INFINITY, sum[3], "overflow to inf");
        assertEquals(Float.NEGATIVE_INFINITY, sum[4]);
        float[] prod = mul(OpTesting.cpu(), a, b);
        assertEquals(Float.POSITIVE_INFINITY, prod[0]);
        assertEquals(Float.NaN, prod[1]);
        assertEquals(0f, prod[2]);
        assertEquals(Float.NaN, prod[4], "0 * inf");
    }

    @Test
    void rejectsMismatchedShapes() {
        Backend be = OpTesting.cpu();
        try (Tensor a = be.zeros(4, 5); Tensor b = be.zeros(20); Tensor c = be.zeros(5, 4); Tensor bias = be.zeros(4)) {
            assertThrows(IllegalArgumentException.class, () -> Ops.axpby(a, b, a, 1f, 1f));
            assertThrows(IllegalArgumentException.class, () -> Ops.mul(a, c, a));
            assertThrows(IllegalArgumentException.class, () -> Ops.addBroadcast(a, bias, a), "b (4) is not a's last dim");
            assertThrows(IllegalArgumentException.class, () -> Ops.addBroadcast(a, a, c));
        }
    }

    // ---- CUDA against the CPU -------------------------------------------------------------------------------------

    @Test
    void cudaMatchesCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        Backend cpu = OpTesting.cpu();
        for (int n : new int[] {0, 1, 3, 7, 33, 257, 1001, 40_003, 1_000_003}) {
            float[] a = OpTesting.toFloat(OpTesting.randn(80 + n, n));
            float[] b = OpTesting.toFloat(OpTesting.randn(90 + n, n));
            assertArrayEquals(fill(cpu, n, 2.5f), fill(cuda, n, 2.5f), "fill n=" + n);
            for (float[] ab : COEFFS) {
                OpTesting.assertClose("cuda axpby " + Arrays.toString(ab) + " n=" + n,
                        axpby(cuda, a, b, ab[0], ab[1]), axpby(cpu, a, b, ab[0], ab[1]), 1e-6);
            }
            OpTesting.assertClose("cuda mul n=" + n, mul(cuda, a, b), mul(cpu, a, b), 1e-6);
        }
        for (int[][] shapes : BROADCAST_SHAPES) {
            int n = (int) Tensor.numel(shapes[0]);
            int cols = (int) Tensor.numel(shapes[1]);
            float[] a = OpTesting.toFloat(OpTesting.randn(n + 1, n));
            float[] b = OpTesting.toFloat(OpTesting.randn(cols + 2, cols));
            OpTesting.assertClose("cuda addBroadcast " + Tensor.shapeString(shapes[0]),
                    addBroadcast(cuda, a, shapes[0], b, shapes[1]), addBroadcast(cpu, a, shapes[0], b, shapes[1]),
                    1e-6);
        }
    }

    @Test
    void cudaOpsWorkInPlace() {
        inPlace(OpTesting.cudaOrSkip());
    }
}
