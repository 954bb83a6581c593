package org.cotrain.ops;

import static org.cotrain.ops.OpTesting.assertClose;
import static org.cotrain.ops.OpTesting.toDouble;
import static org.cotrain.ops.OpTesting.toFloat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * spatial_softmax.h: for every (H, W) map, P = softmax(x / temperature) over its positions, out = (E[gx], E[gy]) with
 * gx = linspace(-1, 1, W) along columns and gy = linspace(-1, 1, H) along rows (-1 for a size-1 axis).
 */
class SpatialSoftmaxOpTest {

    /** (B, K, H, W, temperature): odd sizes, every CUDA group width (maps of 1, 4, 6, 9, 20 and 4096 positions). */
    private static final double[][] CASES = {
        {1, 1, 1, 1, 1.0},
        {1, 1, 2, 2, 1.0},
        {2, 3, 2, 3, 0.5},
        {2, 32, 3, 3, 1.0},
        {3, 7, 1, 9, 2.3},
        {1, 5, 7, 1, 1.0},
        {3, 1, 4, 5, 0.7},
        {1, 3, 12, 12, 1.0},
        {2, 5, 33, 7, 1.3},
        {1, 2, 64, 64, 1.0},
    };

    // ---- float64 reference -------------------------------------------------------------------------------------

    private static double grid(int i, int size) {
        return size == 1 ? -1.0 : -1.0 + 2.0 * i / (size - 1);
    }

    /** Softmax of one map (positions m * h * w ..) of x / temperature. */
    private static double[] softmax(double[] x, int m, int h, int w, double temperature) {
        int hw = h * w;
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < hw; i++) {
            max = Math.max(max, x[m * hw + i] / temperature);
        }
        double[] p = new double[hw];
        double sum = 0;
        for (int i = 0; i < hw; i++) {
            p[i] = Math.exp(x[m * hw + i] / temperature - max);
            sum += p[i];
        }
        for (int i = 0; i < hw; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /** x (n, H, W) -> out (n, 2). */
    private static double[] forward(double[] x, int n, int h, int w, double temperature) {
        double[] out = new double[2 * n];
        for (int m = 0; m < n; m++) {
            double[] p = softmax(x, m, h, w, temperature);
            for (int r = 0; r < h; r++) {
                for (int c = 0; c < w; c++) {
                    out[2 * m] += p[r * w + c] * grid(c, w);
                    out[2 * m + 1] += p[r * w + c] * grid(r, h);
                }
            }
        }
        return out;
    }

    /** dx (n, H, W) of loss = sum(dout * out), through d out / d z_j = P_j (g_j - out) and z = x / temperature. */
    private static double[] backward(double[] x, double[] dout, int n, int h, int w, double temperature) {
        double[] out = forward(x, n, h, w, temperature);
        double[] dx = new double[x.length];
        for (int m = 0; m < n; m++) {
            double[] p = softmax(x, m, h, w, temperature);
            for (int r = 0; r < h; r++) {
                for (int c = 0; c < w; c++) {
                    double g = dout[2 * m] * (grid(c, w) - out[2 * m])
                            + dout[2 * m + 1] * (grid(r, h) - out[2 * m + 1]);
                    dx[m * h * w + r * w + c] = p[r * w + c] * g / temperature;
                }
            }
        }
        return dx;
    }

    private static double[] add(double[] a, double[] b) {
        double[] c = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i] + b[i];
        }
        return c;
    }

    /** Inputs rounded to float, so that the reference sees exactly what the op sees. */
    private static double[] roundToFloat(double[] x) {
        return toDouble(toFloat(x));
    }

    private static double[] scaled(double[] x, double s) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = s * x[i];
        }
        return y;
    }

    // ---- the reference against itself --------------------------------------------------------------------------

    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        int[][] sizes = {{3, 3, 4}, {2, 1, 5}, {2, 6, 1}, {1, 1, 1}, {2, 5, 7}};
        double[] temperatures = {0.7, 1.0, 2.0, 1.0, 1.3};
        for (int s = 0; s < sizes.length; s++) {
            int n = sizes[s][0], h = sizes[s][1], w = sizes[s][2];
            double temperature = temperatures[s];
            double[] x = scaled(OpTesting.randn(10 + s, n * h * w), 2.0);
            double[] dout = OpTesting.randn(20 + s, 2 * n);
            double[] numeric = OpTesting.numericalGradient(v -> OpTesting.dot(dout, forward(v, n, h, w, temperature)),
                    x, 1e-6);
            double[] analytic = backward(x, dout, n, h, w, temperature);
            if (h * w == 1) {
                // one position: P == 1 whatever x, so the gradient is exactly zero
                for (double g : numeric) {
                    assertEquals(0.0, g, 1e-9);
                }
                for (double g : analytic) {
                    assertEquals(0.0, g, 0.0);
                }
            } else {
                assertClose("reference dx vs finite differences " + n + "x" + h + "x" + w, analytic, numeric, 1e-6);
            }
        }
    }

    @Test
    void referenceHandValues() {
        // uniform map: the centre of the grid
        double[] out = forward(new double[3 * 5], 1, 3, 5, 1.0);
        assertEquals(0.0, out[0], 1e-15);
        assertEquals(0.0, out[1], 1e-15);
        // a size-1 axis sits at -1 (torch.linspace(-1, 1, 1))
        out = forward(new double[4], 1, 1, 4, 1.0);
        assertEquals(0.0, out[0], 1e-15);
        assertEquals(-1.0, out[1], 0.0);
    }

    // ---- CPU against the reference -----------------------------------------------------------------------------

    @Test
    void cpuForwardMatchesReference() {
        Backend cpu = OpTesting.cpu();
        for (int c = 0; c < CASES.length; c++) {
            int b = (int) CASES[c][0], k = (int) CASES[c][1], h = (int) CASES[c][2], w = (int) CASES[c][3];
            float temperature = (float) CASES[c][4];
            int n = b * k;
            double[] x = roundToFloat(scaled(OpTesting.randn(100 + c, n * h * w), 3.0));
            try (Tensor xt = cpu.of(toFloat(x), b, k, h, w); Tensor out = cpu.zeros(b, k, 2)) {
                Ops.spatialSoftmaxForward(xt, out, temperature);
                assertClose("forward " + b + "x" + k + "x" + h + "x" + w, out.toFloatArray(),
                        forward(x, n, h, w, temperature), 1e-5);
            }
        }
    }

    @Test
    void cpuBackwardMatchesReferenceAndAccumulates() {
        Backend cpu = OpTesting.cpu();
        for (int c = 0; c < CASES.length; c++) {
            int b = (int) CASES[c][0], k = (int) CASES[c][1], h = (int) CASES[c][2], w = (int) CASES[c][3];
            float temperature = (float) CASES[c][4];
            int n = b * k;
            double[] x = roundToFloat(scaled(OpTesting.randn(200 + c, n * h * w), 3.0));
            double[] dout = roundToFloat(OpTesting.randn(300 + c, 2 * n));
            double[] prior = roundToFloat(OpTesting.randn(400 + c, n * h * w));
            try (Tensor xt = cpu.of(toFloat(x), b, k, h, w);
                 Tensor out = cpu.zeros(b, k, 2);
                 Tensor doutT = cpu.of(toFloat(dout), b, k, 2);
                 Tensor dx = cpu.of(toFloat(prior), b, k, h, w)) {
                Ops.spatialSoftmaxForward(xt, out, temperature);
                Ops.spatialSoftmaxBackward(xt, out, doutT, dx, temperature);
                double[] grad = backward(x, dout, n, h, w, temperature);
                double[] expected = add(prior, grad);
                assertClose("backward (accumulated) " + b + "x" + k + "x" + h + "x" + w, dx.toFloatArray(), expected,
                        1e-5);
                // the gradient alone, so that a small gradient is not hidden under the prefilled values
                double[] got = toDouble(dx.toFloatArray());
                for (int i = 0; i < got.length; i++) {
                    got[i] -= prior[i];
                }
                if (h * w > 1) {
                    assertClose("backward " + b + "x" + k + "x" + h + "x" + w, got, grad, 1e-4);
                }
            }
        }
    }

    @Test
    void cpuLargeBatchOfSmallMaps() {
        // Diffusion Policy's shape: a batch of 256 with 32 keypoints on 3x3 feature maps (parallel path)
        Backend cpu = OpTesting.cpu();
        int b = 256, k = 32, h = 3, w = 3, n = b * k;
        double[] x = roundToFloat(scaled(OpTesting.randn(7, n * h * w), 2.0));
        double[] dout = roundToFloat(OpTesting.randn(8, 2 * n));
        try (Tensor xt = cpu.of(toFloat(x), b, k, h, w);
             Tensor out = cpu.zeros(b, k, 2);
             Tensor doutT = cpu.of(toFloat(dout), b, k, 2);
             Tensor dx = cpu.zeros(b, k, h, w)) {
            Ops.spatialSoftmaxForward(xt, out, 1.0f);
            assertClose("forward 256x32x3x3", out.toFloatArray(), forward(x, n, h, w, 1.0), 1e-5);
            Ops.spatialSoftmaxBackward(xt, out, doutT, dx, 1.0f);
            assertClose("backward 256x32x3x3", dx.toFloatArray(), backward(x, dout, n, h, w, 1.0), 1e-5);
        }
    }

    @Test
    void cpuHandValues() {
        Backend cpu = OpTesting.cpu();
        int h = 5, w = 7;
        // map 0: flat -> centre (0, 0); map 1: a sharp peak at row 3, column 1 -> (gx[1], gy[3]) = (-2/3, 0.5);
        // map 2: huge logits (the max must be subtracted) with a peak at row 0, column 6 -> (1, -1)
        float[] x = new float[3 * h * w];
        x[h * w + 3 * w + 1] = 40f;
        for (int i = 0; i < h * w; i++) {
            x[2 * h * w + i] = 1000f;
        }
        x[2 * h * w + 6] = 1100f;
        try (Tensor xt = cpu.of(x, 1, 3, h, w); Tensor out = cpu.zeros(1, 3, 2)) {
            Ops.spatialSoftmaxForward(xt, out, 1.0f);
            float[] o = out.toFloatArray();
            assertEquals(0.0, o[0], 1e-6);
            assertEquals(0.0, o[1], 1e-6);
            assertEquals(-2.0 / 3.0, o[2], 1e-6);
            assertEquals(0.5, o[3], 1e-6);
            assertEquals(1.0, o[4], 1e-6);
            assertEquals(-1.0, o[5], 1e-6);
        }
        // temperature divides the logits: a high temperature flattens the same peak towards the centre
        try (Tensor xt = cpu.of(x, 1, 3, h, w); Tensor out = cpu.zeros(1, 3, 2)) {
            Ops.spatialSoftmaxForward(xt, out, 1000f);
            float[] o = out.toFloatArray();
            assertTrue(Math.abs(o[2]) < 0.05 && Math.abs(o[3]) < 0.05, "temperature 1000 flattens the map");
        }
    }

    @Test
    void cpuNaNStaysInItsMap() {
        Backend cpu = OpTesting.cpu();
        float[] x = toFloat(OpTesting.randn(5, 3 * 9));
        x[9 + 4] = Float.NaN;
        try (Tensor xt = cpu.of(x, 1, 3, 3, 3); Tensor out = cpu.zeros(1, 3, 2)) {
            Ops.spatialSoftmaxForward(xt, out, 1.0f);
            float[] o = out.toFloatArray();
            assertTrue(Float.isNaN(o[2]) && Float.isNaN(o[3]), "NaN input gives a NaN keypoint");
            assertFalse(Float.isNaN(o[0]) || Float.isNaN(o[1]) || Float.isNaN(o[4]) || Float.isNaN(o[5]));
        }
    }

    // ---- CUDA against the CPU ----------------------------------------------------------------------------------

    @Test
    void cudaMatchesCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        Backend cpu = OpTesting.cpu();
        double[][] cases = new double[CASES.length + 1][];
        System.arraycopy(CASES, 0, cases, 0, CASES.length);
        cases[CASES.length] = new double[] {256, 32, 3, 3, 1.0};
        for (int c = 0; c < cases.length; c++) {
            int b = (int) cases[c][0], k = (int) cases[c][1], h = (int) cases[c][2], w = (int) cases[c][3];
            float temperature = (float) cases[c][4];
            float[] x = toFloat(scaled(OpTesting.randn(500 + c, b * k * h * w), 3.0));
            float[] dout = toFloat(OpTesting.randn(600 + c, b * k * 2));
            float[] prior = toFloat(OpTesting.randn(700 + c, b * k * h * w));
            String what = b + "x" + k + "x" + h + "x" + w;
            try (Tensor xc = cpu.of(x, b, k, h, w);
                 Tensor oc = cpu.zeros(b, k, 2);
                 Tensor dc = cpu.of(dout, b, k, 2);
                 Tensor dxc = cpu.of(prior, b, k, h, w);
                 Tensor xg = cuda.of(x, b, k, h, w);
                 Tensor og = cuda.zeros(b, k, 2);
                 Tensor dg = cuda.of(dout, b, k, 2);
                 Tensor dxg = cuda.of(prior, b, k, h, w)) {
                Ops.spatialSoftmaxForward(xc, oc, temperature);
                Ops.spatialSoftmaxForward(xg, og, temperature);
                assertClose("cuda forward " + what, og.toFloatArray(), oc.toFloatArray(), 1e-4);
                // both backwards from the CPU forward's output, so only the backward kernels are compared
                try (Tensor og2 = cuda.of(oc.toFloatArray(), b, k, 2)) {
                    Ops.spatialSoftmaxBackward(xc, oc, dc, dxc, temperature);
                    Ops.spatialSoftmaxBackward(xg, og2, dg, dxg, temperature);
                }
                float[] gc = dxc.toFloatArray();
                float[] gg = dxg.toFloatArray();
                assertClose("cuda backward (accumulated) " + what, gg, gc, 1e-4);
                for (int i = 0; i < gc.length; i++) {
                    gc[i] -= prior[i];
                    gg[i] -= prior[i];
                }
                if (h * w > 1) {
                    assertClose("cuda backward " + what, gg, gc, 1e-3);
                }
            }
        }
    }

    @Test
    void cudaIsDeterministic() {
        Backend cuda = OpTesting.cudaOrSkip();
        int b = 8, k = 32, h = 12, w = 12;
        float[] x = toFloat(OpTesting.randn(900, b * k * h * w));
        float[] dout = toFloat(OpTesting.randn(901, b * k * 2));
        try (Tensor xg = cuda.of(x, b, k, h, w);
             Tensor o1 = cuda.zeros(b, k, 2);
             Tensor o2 = cuda.zeros(b, k, 2);
             Tensor dg = cuda.of(dout, b, k, 2);
             Tensor dx1 = cuda.zeros(b, k, h, w);
             Tensor dx2 = cuda.zeros(b, k, h, w)) {
            Ops.spatialSoftmaxForward(xg, o1, 1.0f);
            Ops.spatialSoftmaxForward(xg, o2, 1.0f);
            Ops.spatialSoftmaxBackward(xg, o1, dg, dx1, 1.0f);
            Ops.spatialSoftmaxBackward(xg, o1, dg, dx2, 1.0f);
            assertTrue(java.util.Arrays.equals(o1.toFloatArray(), o2.toFloatArray()), "forward bitwise repeatable");
            assertTrue(java.util.Arrays.equals(dx1.toFloatArray(), dx2.toFloatArray()), "backward bitwise repeatable");
        }
    }
}
