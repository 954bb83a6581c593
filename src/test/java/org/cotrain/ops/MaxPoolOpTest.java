package org.cotrain.ops;

import static org.cotrain.ops.OpTesting.assertClose;
import static org.cotrain.ops.OpTesting.toDouble;
import static org.cotrain.ops.OpTesting.toFloat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * maxpool.h: torch.nn.MaxPool2d(kernel, stride, padding) with its argmax (index within the plane), ties to the
 * first in window order, NaN winning; the backward routing dy to the argmax, accumulating.
 */
class MaxPoolOpTest {

    /** (n, c, h, w, kernel, stride, padding): ResNet's stem 3/2/1 on odd and even sizes, overlapping and not. */
    private static final int[][] CASES = {
        {1, 1, 1, 1, 1, 1, 0},
        {2, 3, 7, 9, 3, 2, 1},
        {1, 2, 8, 8, 3, 2, 1},
        {2, 2, 5, 6, 2, 2, 0},
        {1, 3, 9, 7, 3, 1, 1},
        {3, 1, 6, 5, 3, 3, 0},
        {2, 4, 10, 11, 5, 2, 2},
        {1, 2, 4, 4, 4, 1, 2},
        {4, 8, 42, 42, 3, 2, 1},
    };

    private static int out(int size, int k, int s, int p) {
        return (size + 2 * p - k) / s + 1;
    }

    /** Returns {y, argmax (as doubles)} of x (planes, h, w). */
    private static double[][] forward(double[] x, int planes, int h, int w, int k, int s, int p) {
        int ho = out(h, k, s, p);
        int wo = out(w, k, s, p);
        double[] y = new double[planes * ho * wo];
        double[] arg = new double[planes * ho * wo];
        for (int pl = 0; pl < planes; pl++) {
            for (int i = 0; i < ho; i++) {
                for (int j = 0; j < wo; j++) {
                    double best = Double.NEGATIVE_INFINITY;
                    int bestI = -1;
                    for (int r = i * s - p; r < i * s - p + k; r++) {
                        for (int c = j * s - p; c < j * s - p + k; c++) {
                            if (r < 0 || r >= h || c < 0 || c >= w) {
                                continue;
                            }
                            double v = x[(pl * h + r) * w + c];
                            if (bestI < 0 || v > best || Double.isNaN(v)) {
                                best = v;
                                bestI = r * w + c;
                            }
                        }
                    }
                    y[(pl * ho + i) * wo + j] = best;
                    arg[(pl * ho + i) * wo + j] = bestI;
                }
            }
        }
        return new double[][] {y, arg};
    }

    /** dx of loss = sum(dy * y): dy routed to each window's maximum. */
    private static double[] backward(double[] dy, double[] arg, int planes, int h, int w, int ho, int wo) {
        double[] dx = new double[planes * h * w];
        for (int pl = 0; pl < planes; pl++) {
            for (int o = 0; o < ho * wo; o++) {
                dx[pl * h * w + (int) arg[pl * ho * wo + o]] += dy[pl * ho * wo + o];
            }
        }
        return dx;
    }

    /** Returns {y, argmax, dx} from the op; dx starts at dx0. */
    private static Object[] run(Backend be, float[] x, float[] dy, float[] dx0, int[] c) {
        int ho = out(c[2], c[4], c[5], c[6]);
        int wo = out(c[3], c[4], c[5], c[6]);
        try (Tensor tx = be.of(x, c[0], c[1], c[2], c[3]); Tensor ty = be.zeros(c[0], c[1], ho, wo);
             Tensor ta = be.zeros(DType.I32, c[0], c[1], ho, wo); Tensor tdy = be.of(dy, c[0], c[1], ho, wo);
             Tensor tdx = be.of(dx0, c[0], c[1], c[2], c[3])) {
            Ops.maxPool2dForward(tx, ty, ta, c[4], c[5], c[6]);
            Ops.maxPool2dBackward(tdy, ta, tdx, c[4], c[5], c[6]);
            return new Object[] {ty.toFloatArray(), ta.toIntArray(), tdx.toFloatArray()};
        }
    }

    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        // distinct values a step apart: no ties within 2h, so max pooling is linear around x
        int[] c = {2, 2, 7, 9, 3, 2, 1};
        int planes = c[0] * c[1];
        int n = planes * c[2] * c[3];
        double[] x = new double[n];
        java.util.List<Integer> order = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            order.add(i);
        }
        java.util.Collections.shuffle(order, new java.util.Random(3));
        for (int i = 0; i < n; i++) {
            x[i] = 0.01 * order.get(i);
        }
        int ho = out(c[2], c[4], c[5], c[6]);
        int wo = out(c[3], c[4], c[5], c[6]);
        double[] dy = OpTesting.randn(4, planes * ho * wo);
        double[][] f = forward(x, planes, c[2], c[3], c[4], c[5], c[6]);
        double[] dx = backward(dy, f[1], planes, c[2], c[3], ho, wo);
        double[] numeric = OpTesting.numericalGradient(
                v -> OpTesting.dot(dy, forward(v, planes, c[2], c[3], c[4], c[5], c[6])[0]), x, 1e-4);
        assertClose("reference dx vs finite differences", dx, numeric, 1e-9);
    }

    @Test
    void cpuMatchesReferenceAndAccumulates() {
        Backend cpu = OpTesting.cpu();
        for (int k = 0; k < CASES.length; k++) {
            int[] c = CASES[k];
            int planes = c[0] * c[1];
            int ho = out(c[2], c[4], c[5], c[6]);
            int wo = out(c[3], c[4], c[5], c[6]);
            float[] x = toFloat(OpTesting.randn(10 + k, planes * c[2] * c[3]));
            float[] dy = toFloat(OpTesting.randn(20 + k, planes * ho * wo));
            float[] dx0 = toFloat(OpTesting.randn(30 + k, planes * c[2] * c[3]));
            double[][] f = forward(toDouble(x), planes, c[2], c[3], c[4], c[5], c[6]);
            double[] dx = backward(toDouble(dy), f[1], planes, c[2], c[3], ho, wo);
            Object[] got = run(cpu, x, dy, dx0, c);
            String at = java.util.Arrays.toString(c);
            assertArrayEquals(toFloat(f[0]), (float[]) got[0], "y " + at);
            int[] arg = (int[]) got[1];
            for (int i = 0; i < arg.length; i++) {
                assertEquals((int) f[1][i], arg[i], "argmax " + i + " " + at);
            }
            float[] inc = Conv2dOpTest.minus((float[]) got[2], dx0);
            assertClose("dx increment " + at, inc, dx, 1e-6);
        }
    }

    @Test
    void tiesGoToTheFirstAndNaNWins() {
        Backend cpu = OpTesting.cpu();
        // one 3x3 plane, kernel 3, stride 1, padding 1: windows of up to 9 pixels
        float[] ties = {1, 5, 5, 0, 5, 2, 5, 1, 0};
        float[] dy = new float[9];
        java.util.Arrays.fill(dy, 1f);
        Object[] got = run(cpu, ties, dy, new float[9], new int[] {1, 1, 3, 3, 3, 1, 1});
        int[] arg = (int[]) got[1];
        // output (0, 0) sees rows 0-1, columns 0-1: {1, 5; 0, 5}: the first 5 is pixel 1
        assertEquals(1, arg[0]);
        // output (1, 1) sees everything: the first 5 in row-major order is pixel 1 too
        assertEquals(1, arg[4]);
        // output (2, 0) sees rows 1-2, columns 0-1: {0, 5; 5, 1}: pixel 4
        assertEquals(4, arg[6]);
        float[] nan = {1, 2, 3, 4, Float.NaN, 6, 7, 8, 9};
        Object[] n = run(cpu, nan, dy, new float[9], new int[] {1, 1, 3, 3, 3, 1, 1});
        float[] y = (float[]) n[0];
        for (int i = 0; i < 9; i++) {
            assertTrue(Float.isNaN(y[i]), "every window holds the NaN: y[" + i + "] = " + y[i]);
            assertEquals(4, ((int[]) n[1])[i]);
        }
        // -inf everywhere: the maximum is -inf at the window's first pixel
        float[] inf = new float[9];
        java.util.Arrays.fill(inf, Float.NEGATIVE_INFINITY);
        Object[] i = run(cpu, inf, new float[4], new float[9], new int[] {1, 1, 3, 3, 3, 2, 1});
        assertEquals(Float.NEGATIVE_INFINITY, ((float[]) i[0])[3]);
        assertEquals(4, ((int[]) i[1])[3], "window rows 1-2, columns 1-2 starts at pixel 4");
    }

    @Test
    void corruptArgmaxIsSkippedNotWrittenThrough() {
        Backend cpu = OpTesting.cpu();
        try (Tensor dy = cpu.of(new float[] {1, 2, 3, 4}, 1, 1, 2, 2);
             Tensor arg = cpu.of(new int[] {0, -5, 1 << 30, 3}, 1, 1, 2, 2); Tensor dx = cpu.zeros(1, 1, 4, 4)) {
            Ops.maxPool2dBackward(dy, arg, dx, 2, 2, 0);
            float[] g = dx.toFloatArray();
            assertEquals(1f, g[0]);
            assertEquals(4f, g[3]);
            assertEquals(5f, sum(g), "only the two valid indices received their gradient");
        }
    }

    private static float sum(float[] a) {
        float s = 0;
        for (float v : a) {
            s += v;
        }
        return s;
    }

    @Test
    void rejectsBadArguments() {
        Backend cpu = OpTesting.cpu();
        try (Tensor x = cpu.zeros(1, 2, 7, 7); Tensor y = cpu.zeros(1, 2, 4, 4); Tensor yBad = cpu.zeros(1, 2, 3, 4);
             Tensor a = cpu.zeros(DType.I32, 1, 2, 4, 4); Tensor aF = cpu.zeros(1, 2, 4, 4)) {
            assertThrows(IllegalArgumentException.class, () -> Ops.maxPool2dForward(x, yBad, a, 3, 2, 1));
            assertThrows(IllegalArgumentException.class, () -> Ops.maxPool2dForward(x, y, aF, 3, 2, 1));
            assertThrows(IllegalArgumentException.class, () -> Ops.maxPool2dForward(x, y, a, 3, 2, 2), "pad > k/2");
            assertThrows(IllegalArgumentException.class, () -> Ops.maxPool2dForward(x, y, a, 3, 0, 1), "stride 0");
            assertThrows(IllegalArgumentException.class, () -> Ops.maxPool2dBackward(yBad, a, x, 3, 2, 1));
        }
    }

    @Test
    void cudaMatchesCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        Backend cpu = OpTesting.cpu();
        int[][] cases = java.util.Arrays.copyOf(CASES, CASES.length + 1);
        cases[CASES.length] = new int[] {64, 64, 42, 42, 3, 2, 1}; // the stem at batch 64 on an 84x84 crop
        for (int k = 0; k < cases.length; k++) {
            int[] c = cases[k];
            int planes = c[0] * c[1];
            int ho = out(c[2], c[4], c[5], c[6]);
            int wo = out(c[3], c[4], c[5], c[6]);
            float[] x = toFloat(OpTesting.randn(40 + k, planes * c[2] * c[3]));
            x[0] = Float.NaN;
            float[] dy = toFloat(OpTesting.randn(50 + k, planes * ho * wo));
            float[] dx0 = toFloat(OpTesting.randn(60 + k, planes * c[2] * c[3]));
            Object[] gc = run(cpu, x, dy, dx0, c);
            Object[] gg = run(cuda, x, dy, dx0, c);
            String at = java.util.Arrays.toString(c);
            assertArrayEquals((float[]) gc[0], (float[]) gg[0], "cuda y " + at);
            assertArrayEquals((int[]) gc[1], (int[]) gg[1], "cuda argmax " + at);
            assertClose("cuda dx " + at, Conv2dOpTest.minus((float[]) gg[2], dx0),
                    Conv2dOpTest.minus((float[]) gc[2], dx0), 1e-5);
        }
    }
}
