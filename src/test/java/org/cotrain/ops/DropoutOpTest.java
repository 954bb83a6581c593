package org.cotrain.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cotrain.random.Philox;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * dropout.h: inverted dropout whose mask is element i's Philox keep decision at (seed, offset + i), recomputed in the
 * backward pass. The float64 reference draws the mask from the Java twin org.cotrain.random.Philox.
 */
class DropoutOpTest {
    private static final int[] SIZES = {1, 3, 7, 33, 257, 1001, 40_003};
    private static final float[] PS = {0f, 0.1f, 0.3f, 0.5f, 0.9f};

    // ---- float64 reference ----------------------------------------------------------------------------------------

    /** y[i] = keep(i) ? x[i] / (1 - p) : 0. */
    private static double[] refForward(double[] x, float p, long seed, long offset) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = Philox.keep(seed, offset + i, p) ? x[i] / (1.0 - p) : 0.0;
        }
        return y;
    }

    /** dx[i] += keep(i) ? dy[i] / (1 - p) : 0. */
    private static void refBackward(double[] dy, double[] dx, float p, long seed, long offset) {
        for (int i = 0; i < dy.length; i++) {
            if (Philox.keep(seed, offset + i, p)) {
                dx[i] += dy[i] / (1.0 - p);
            }
        }
    }

    private static float[] forward(Backend b, float[] x, float p, long seed, long offset) {
        try (Tensor tx = b.of(x, x.length); Tensor ty = b.zeros(x.length)) {
            Ops.dropoutForward(tx, ty, p, seed, offset);
            return ty.toFloatArray();
        }
    }

    private static float[] backward(Backend b, float[] dy, float[] dxInit, float p, long seed, long offset) {
        try (Tensor tdy = b.of(dy, dy.length); Tensor tdx = b.of(dxInit, dxInit.length)) {
            Ops.dropoutBackward(tdy, tdx, p, seed, offset);
            return tdx.toFloatArray();
        }
    }

    /** The masked forward then the masked backward: {y, mask as 0/1, dx}; dx overwritten unless accumulate. */
    private static float[][] maskedRoundTrip(Backend b, float[] x, float[] dy, float[] dxInit, float p, long seed,
                                             long offset, boolean accumulate) {
        int n = x.length;
        try (Tensor tx = b.of(x, n); Tensor ty = b.zeros(n); Tensor mask = b.zeros(DType.I32, (n + 3) / 4);
                Tensor tdy = b.of(dy, n); Tensor tdx = b.of(dxInit, n)) {
            Ops.dropoutForward(tx, ty, mask, p, seed, offset);
            Ops.dropoutBackward(tdy, tdx, mask, p, seed + 1, offset + 1, accumulate);  // the mask, not the key, rules
            int[] words = mask.toIntArray();
            float[] keep = new float[n];
            for (int i = 0; i < n; i++) {
                keep[i] = (words[i / 4] >>> (8 * (i % 4))) & 0xFF;  // little-endian bytes
            }
            return new float[][] {ty.toFloatArray(), keep, tdx.toFloatArray()};
        }
    }

    // ---- the reference against finite differences ---------------------------------------------------------------

    @Test
    void referenceBackwardMatchesNumericalGradient() {
        for (float p : new float[] {0f, 0.3f, 0.7f}) {
            int n = 57;
            long seed = 11;
            long offset = 1000;
            double[] x = OpTesting.randn(1, n);
            double[] dy = OpTesting.randn(2, n);
            double[] numerical = OpTesting.numericalGradient(
                    xs -> OpTesting.dot(dy, refForward(xs, p, seed, offset)), x, 1e-6);
            double[] analytic = new double[n];
            refBackward(dy, analytic, p, seed, offset);
            OpTesting.assertClose("dropout reference gradient p=" + p, analytic, numerical, 1e-6);
        }
    }

    // ---- CPU against the reference --------------------------------------------------------------------------------

    @Test
    void cpuForwardMatchesReference() {
        for (float p : PS) {
            for (int n : SIZES) {
                long seed = 1000 + n;
                long offset = 0xFFFFFFFFL - n / 2;  // offset + i crosses the counter's word boundary
                float[] x = OpTesting.toFloat(OpTesting.randn(n, n));
                double[] expected = refForward(OpTesting.toDouble(x), p, seed, offset);
                float[] y = forward(OpTesting.cpu(), x, p, seed, offset);
                OpTesting.assertClose("dropout forward p=" + p + " n=" + n, y, expected, 1e-6);
                for (int i = 0; i < n; i++) {
                    assertEquals(expected[i] == 0, y[i] == 0, "mask at " + i + " (p=" + p + ", n=" + n + ")");
                }
            }
        }
    }

    @Test
    void cpuBackwardMatchesReferenceAndAccumulates() {
        for (float p : PS) {
            for (int n : SIZES) {
                long seed = -n;
                long offset = 123;
                float[] dy = OpTesting.toFloat(OpTesting.randn(3 * n, n));
                float[] dx0 = OpTesting.toFloat(OpTesting.randn(5 * n, n));  // non-zero: the op must add
                double[] expected = OpTesting.toDouble(dx0);
                refBackward(OpTesting.toDouble(dy), expected, p, seed, offset);
                float[] dx = backward(OpTesting.cpu(), dy, dx0, p, seed, offset);
                OpTesting.assertClose("dropout backward p=" + p + " n=" + n, dx, expected, 1e-6);
            }
        }
    }

    @Test
    void backwardUsesTheForwardMask() {
        int n = 5000;
        float p = 0.4f;
        float[] ones = new float[n];
        java.util.Arrays.fill(ones, 1f);
        float[] y = forward(OpTesting.cpu(), ones, p, 8, 64);
        float[] dx = backward(OpTesting.cpu(), ones, new float[n], p, 8, 64);
        assertArrayEquals(y, dx, "d(sum y)/dx is the forward's scaled mask");
        float[] other = backward(OpTesting.cpu(), ones, new float[n], p, 8, 65);
        assertTrue(!java.util.Arrays.equals(y, other), "another offset gives another mask");
    }

    @Test
    void maskedPassesMatchTheRecomputedOnes() {
        for (float p : PS) {
            for (int n : SIZES) {
                long seed = 31 * n;
                long offset = 5 + n;  // not a multiple of four: the forward's first elements finish a Philox block
                float[] x = OpTesting.toFloat(OpTesting.randn(n, n));
                float[] dy = OpTesting.toFloat(OpTesting.randn(2 * n, n));
                float[] dx0 = OpTesting.toFloat(OpTesting.randn(3 * n, n));
                for (boolean accumulate : new boolean[] {true, false}) {
                    float[][] r = maskedRoundTrip(OpTesting.cpu(), x, dy, dx0, p, seed, offset, accumulate);
                    String what = "p=" + p + " n=" + n + " accumulate=" + accumulate;
                    assertArrayEquals(forward(OpTesting.cpu(), x, p, seed, offset), r[0], "forward " + what);
                    for (int i = 0; i < n; i++) {
                        assertEquals(Philox.keep(seed, offset + i, p) ? 1f : 0f, r[1][i], "mask at " + i + " " + what);
                    }
                    double[] expected = accumulate ? OpTesting.toDouble(dx0) : new double[n];
                    refBackward(OpTesting.toDouble(dy), expected, p, seed, offset);
                    OpTesting.assertClose("masked backward " + what, r[2], expected, 1e-6);
                }
            }
        }
    }

    @Test
    void rejectsAMaskTooSmall() {
        try (Tensor x = OpTesting.cpu().zeros(9); Tensor y = OpTesting.cpu().zeros(9);
                Tensor small = OpTesting.cpu().zeros(DType.I32, 2); Tensor floats = OpTesting.cpu().zeros(3)) {
            assertThrows(IllegalArgumentException.class, () -> Ops.dropoutForward(x, y, small, 0.5f, 1, 0));
            assertThrows(IllegalArgumentException.class, () -> Ops.dropoutForward(x, y, floats, 0.5f, 1, 0));
            assertThrows(IllegalArgumentException.class,
                    () -> Ops.dropoutBackward(x, y, small, 0.5f, 1, 0, false));
        }
    }

    @Test
    void zeroProbabilityIsTheIdentity() {
        float[] x = OpTesting.toFloat(OpTesting.randn(9, 40_003));
        x[0] = Float.POSITIVE_INFINITY;
        x[1] = -0f;
        assertArrayEquals(x, forward(OpTesting.cpu(), x, 0f, 1, 0));
        float[] dy = OpTesting.toFloat(OpTesting.randn(10, x.length));
        float[] dx0 = OpTesting.toFloat(OpTesting.randn(11, x.length));
        float[] dx = backward(OpTesting.cpu(), dy, dx0, 0f, 1, 0);
        for (int i = 0; i < x.length; i++) {
            assertEquals(dx0[i] + dy[i], dx[i], 0f, "dx += dy at " + i);
        }
    }

    @Test
    void keptFractionIsOneMinusP() {
        int n = 400_000;
        float[] ones = new float[n];
        java.util.Arrays.fill(ones, 1f);
        for (float p : new float[] {0.1f, 0.3f, 0.5f, 0.9f}) {
            float[] y = forward(OpTesting.cpu(), ones, p, 31, 0);
            int kept = 0;
            float scale = 1f / (1f - p);
            for (float v : y) {
                if (v != 0) {
                    kept++;
                    assertEquals(scale, v, 1e-6f * scale, "kept elements are scaled by 1/(1-p)");
                }
            }
            double fraction = (double) kept / n;
            double se = Math.sqrt(p * (1.0 - p) / n);
            assertTrue(Math.abs(fraction - (1 - p)) < 4 * se, "p=" + p + ": kept fraction " + fraction);
        }
    }

    @Test
    void droppedElementsAreZeroEvenWhenNotFinite() {
        int n = 64;
        float[] x = new float[n];
        java.util.Arrays.fill(x, Float.NaN);
        float[] y = forward(OpTesting.cpu(), x, 0.5f, 3, 0);
        int zeros = 0;
        for (int i = 0; i < n; i++) {
            if (Philox.keep(3, i, 0.5f)) {
                assertTrue(Float.isNaN(y[i]));
            } else {
                assertEquals(0f, y[i], 0f);
                zeros++;
            }
        }
        assertTrue(zeros > 0);
    }

    @Test
    void offsetKeysTheMaskByAbsoluteIndex() {
        // dropout of x[k:] at offset k equals the tail of dropout of x at offset 0
        float[] x = OpTesting.toFloat(OpTesting.randn(4, 3000));
        float[] full = forward(OpTesting.cpu(), x, 0.5f, 77, 0);
        int k = 1234;
        float[] tail = forward(OpTesting.cpu(), java.util.Arrays.copyOfRange(x, k, x.length), 0.5f, 77, k);
        assertArrayEquals(java.util.Arrays.copyOfRange(full, k, full.length), tail);
    }

    @Test
    void rejectsProbabilitiesOutsideZeroOne() {
        try (Tensor x = OpTesting.cpu().zeros(4); Tensor y = OpTesting.cpu().zeros(4)) {
            for (float p : new float[] {1f, -0.1f, Float.NaN, 2f}) {
                assertThrows(IllegalArgumentException.class, () -> Ops.dropoutForward(x, y, p, 1, 0), "p=" + p);
                assertThrows(IllegalArgumentException.class, () -> Ops.dropoutBackward(x, y, p, 1, 0), "p=" + p);
            }
        }
        try (Tensor x = OpTesting.cpu().zeros(4); Tensor y = OpTesting.cpu().zeros(5)) {
            assertThrows(IllegalArgumentException.class, () -> Ops.dropoutForward(x, y, 0.5f, 1, 0));
        }
    }

    // ---- CUDA against the CPU -------------------------------------------------------------------------------------

    @Test
    void cudaMatchesCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        for (float p : PS) {
            for (int n : SIZES) {
                long seed = 0x9E3779B97F4A7C15L + n;
                long offset = 0xFFFFFFFFL - 7;
                float[] x = OpTesting.toFloat(OpTesting.randn(n, n));
                float[] dy = OpTesting.toFloat(OpTesting.randn(2 * n, n));
                float[] dx0 = OpTesting.toFloat(OpTesting.randn(3 * n, n));
                float[] yCpu = forward(OpTesting.cpu(), x, p, seed, offset);
                float[] yCuda = forward(cuda, x, p, seed, offset);
                // same Philox code, same float scale: the mask and the values agree exactly
                assertArrayEquals(yCpu, yCuda, "cuda dropout forward p=" + p + " n=" + n);
                OpTesting.assertClose("cuda dropout backward p=" + p + " n=" + n,
                        backward(cuda, dy, dx0, p, seed, offset), backward(OpTesting.cpu(), dy, dx0, p, seed, offset),
                        1e-6);
                for (boolean accumulate : new boolean[] {true, false}) {
                    float[][] c = maskedRoundTrip(cuda, x, dy, dx0, p, seed, offset, accumulate);
                    float[][] r = maskedRoundTrip(OpTesting.cpu(), x, dy, dx0, p, seed, offset, accumulate);
                    assertArrayEquals(r[0], c[0], "cuda masked forward p=" + p + " n=" + n);
                    assertArrayEquals(r[1], c[1], "cuda mask p=" + p + " n=" + n);
                    OpTesting.assertClose("cuda masked backward p=" + p + " n=" + n, c[2], r[2], 1e-6);
                }
            }
        }
    }
}
