package org.cotrain.ops;

import static org.cotrain.ops.OpTesting.assertClose;
import static org.cotrain.ops.OpTesting.toDouble;
import static org.cotrain.ops.OpTesting.toFloat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * groupnorm.h: torch.nn.GroupNorm(G, C, eps) over (N, C, H, W): per (sample, group) statistics with biased variance,
 * per-channel affine; mean and rstd saved; the backward accumulating into dx, dweight and dbias.
 */
class GroupNormOpTest {

    /** (n, c, h, w, groups): ResNet18-GN's C / 16 groups, one group, one channel per group, odd maps, 1x1 maps. */
    private static final int[][] CASES = {
        {1, 1, 1, 1, 1},
        {2, 4, 3, 5, 2},
        {3, 6, 7, 9, 3},
        {2, 32, 5, 5, 2},
        {2, 5, 4, 3, 5},
        {3, 8, 1, 1, 4},
        {4, 64, 21, 21, 4},
        {2, 512, 3, 3, 32},
        {1, 3, 7, 1, 1},
    };

    /** Returns {y, mean, rstd} of x (n, c, hw). */
    private static double[][] forward(double[] x, double[] w, double[] b, int n, int c, int hw, int g, double eps) {
        int cg = c / g;
        double[] y = new double[x.length];
        double[] mean = new double[n * g];
        double[] rstd = new double[n * g];
        for (int s = 0; s < n; s++) {
            for (int gi = 0; gi < g; gi++) {
                int base = (s * c + gi * cg) * hw;
                int m = cg * hw;
                double mu = 0;
                for (int i = 0; i < m; i++) {
                    mu += x[base + i];
                }
                mu /= m;
                double var = 0;
                for (int i = 0; i < m; i++) {
                    var += (x[base + i] - mu) * (x[base + i] - mu);
                }
                var /= m;
                double r = 1 / Math.sqrt(var + eps);
                for (int i = 0; i < m; i++) {
                    int ch = gi * cg + i / hw;
                    y[base + i] = (x[base + i] - mu) * r * w[ch] + b[ch];
                }
                mean[s * g + gi] = mu;
                rstd[s * g + gi] = r;
            }
        }
        return new double[][] {y, mean, rstd};
    }

    /** Returns {dx, dw, db} of loss = sum(dy * y), from the saved statistics. */
    private static double[][] backward(double[] dy, double[] x, double[] w, double[] mean, double[] rstd, int n, int c,
                                       int hw, int g) {
        int cg = c / g;
        int m = cg * hw;
        double[] dx = new double[x.length];
        double[] dw = new double[c];
        double[] db = new double[c];
        for (int s = 0; s < n; s++) {
            for (int gi = 0; gi < g; gi++) {
                int base = (s * c + gi * cg) * hw;
                double mu = mean[s * g + gi];
                double r = rstd[s * g + gi];
                double gMean = 0;
                double gxMean = 0;
                for (int i = 0; i < m; i++) {
                    int ch = gi * cg + i / hw;
                    double xhat = (x[base + i] - mu) * r;
                    double gv = dy[base + i] * w[ch];
                    gMean += gv / m;
                    gxMean += gv * xhat / m;
                    dw[ch] += dy[base + i] * xhat;
                    db[ch] += dy[base + i];
                }
                for (int i = 0; i < m; i++) {
                    int ch = gi * cg + i / hw;
                    double xhat = (x[base + i] - mu) * r;
                    dx[base + i] = r * (dy[base + i] * w[ch] - gMean - xhat * gxMean);
                }
            }
        }
        return new double[][] {dx, dw, db};
    }

    /** x with its own offset and spread per (sample, channel), so groups are far from standardised. */
    static double[] inputs(long seed, int n, int c, int hw) {
        double[] z = OpTesting.randn(seed, n * c * hw);
        double[] shift = OpTesting.uniform(seed + 1, n * c, -4, 4);
        double[] spread = OpTesting.uniform(seed + 2, n * c, 0.2, 3);
        for (int i = 0; i < z.length; i++) {
            z[i] = shift[i / hw] + spread[i / hw] * z[i];
        }
        return toDouble(toFloat(z));
    }

    static double[] weight(long seed, int c) {
        double[] w = OpTesting.randn(seed, c);
        for (int i = 0; i < c; i++) {
            w[i] = 1 + 0.5 * w[i];
        }
        return toDouble(toFloat(w));
    }

    /** Runs forward then backward through Ops: returns {y, mean, rstd, dx, dw, db}. */
    private static float[][] run(Backend be, int[] cs, float[] x, float[] w, float[] b, float[] dy, float[] dx0,
                                 float[] dw0, float[] db0, float eps) {
        int n = cs[0];
        int c = cs[1];
        int g = cs[4];
        try (Tensor tx = be.of(x, n, c, cs[2], cs[3]); Tensor tw = be.of(w, c); Tensor tb = be.of(b, c);
             Tensor ty = be.zeros(n, c, cs[2], cs[3]); Tensor tm = be.zeros(n, g); Tensor ts = be.zeros(n, g);
             Tensor tdy = be.of(dy, n, c, cs[2], cs[3]); Tensor tdx = be.of(dx0, n, c, cs[2], cs[3]);
             Tensor tdw = be.of(dw0, c); Tensor tdb = be.of(db0, c)) {
            Ops.groupNormForward(tx, tw, tb, ty, tm, ts, g, eps);
            Ops.groupNormBackward(tdy, tx, tw, tm, ts, tdx, tdw, tdb, g);
            return new float[][] {ty.toFloatArray(), tm.toFloatArray(), ts.toFloatArray(), tdx.toFloatArray(),
                tdw.toFloatArray(), tdb.toFloatArray()};
        }
    }

    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        int[][] small = {{2, 4, 3, 2, 2}, {1, 3, 2, 2, 1}, {2, 4, 1, 3, 4}};
        for (int k = 0; k < small.length; k++) {
            int[] cs = small[k];
            int n = cs[0];
            int c = cs[1];
            int hw = cs[2] * cs[3];
            int g = cs[4];
            double[] x = inputs(10 + k, n, c, hw);
            double[] w = weight(11 + k, c);
            double[] b = OpTesting.randn(12 + k, c);
            double[] dy = OpTesting.randn(13 + k, x.length);
            double eps = 1e-5;
            double[][] f = forward(x, w, b, n, c, hw, g, eps);
            double[][] grads = backward(dy, x, w, f[1], f[2], n, c, hw, g);
            String at = java.util.Arrays.toString(cs);
            assertClose("reference dx " + at, grads[0], OpTesting.numericalGradient(
                    v -> OpTesting.dot(dy, forward(v, w, b, n, c, hw, g, eps)[0]), x, 1e-6), 1e-6);
            assertClose("reference dw " + at, grads[1], OpTesting.numericalGradient(
                    v -> OpTesting.dot(dy, forward(x, v, b, n, c, hw, g, eps)[0]), w, 1e-6), 1e-6);
            assertClose("reference db " + at, grads[2], OpTesting.numericalGradient(
                    v -> OpTesting.dot(dy, forward(x, w, v, n, c, hw, g, eps)[0]), b, 1e-6), 1e-6);
        }
    }

    @Test
    void cpuMatchesReferenceAndAccumulates() {
        Backend cpu = OpTesting.cpu();
        for (int k = 0; k < CASES.length; k++) {
            int[] cs = CASES[k];
            int n = cs[0];
            int c = cs[1];
            int hw = cs[2] * cs[3];
            int g = cs[4];
            for (float eps : new float[] {1e-5f, 0.1f}) {
                float[] x = toFloat(inputs(100 + k, n, c, hw));
                float[] w = toFloat(weight(101 + k, c));
                float[] b = toFloat(OpTesting.randn(102 + k, c));
                float[] dy = toFloat(OpTesting.randn(103 + k, x.length));
                float[] dx0 = toFloat(OpTesting.randn(104 + k, x.length));
                float[] dw0 = toFloat(OpTesting.randn(105 + k, c));
                float[] db0 = toFloat(OpTesting.randn(106 + k, c));
                // from zero gradients: the increments alone (a group of 2 values has a gradient near 0, which
                // would drown in the rounding of a prefilled buffer); then from prefilled ones: the totals
                float[][] got = run(cpu, cs, x, w, b, dy, new float[x.length], new float[c], new float[c], eps);
                float[][] acc = run(cpu, cs, x, w, b, dy, dx0, dw0, db0, eps);
                double[][] f = forward(toDouble(x), toDouble(w), toDouble(b), n, c, hw, g, eps);
                // the backward reference from the op's own saved statistics, as in training
                double[][] grads = backward(toDouble(dy), toDouble(x), toDouble(w), toDouble(got[1]),
                        toDouble(got[2]), n, c, hw, g);
                String at = java.util.Arrays.toString(cs) + " eps " + eps;
                assertClose("y " + at, got[0], f[0], 1e-5);
                assertClose("mean " + at, got[1], f[1], 1e-5);
                assertClose("rstd " + at, got[2], f[2], 1e-5);
                assertClose("dx " + at, got[3], grads[0], 1e-5);
                assertClose("dweight " + at, got[4], grads[1], 1e-5);
                assertClose("dbias " + at, got[5], grads[2], 1e-5);
                assertClose("dx accumulated " + at, acc[3], Conv2dOpTest.plus(grads[0], dx0), 1e-5);
                assertClose("dweight accumulated " + at, acc[4], Conv2dOpTest.plus(grads[1], dw0), 1e-5);
                assertClose("dbias accumulated " + at, acc[5], Conv2dOpTest.plus(grads[2], db0), 1e-5);
            }
        }
    }

    @Test
    void constantGroupsGiveTheBias() {
        // zero variance: xhat = 0, y = bias, dweight gets nothing; a huge mean must not leak into y
        Backend cpu = OpTesting.cpu();
        int[] cs = {2, 4, 3, 3, 2};
        float[] x = new float[2 * 4 * 9];
        for (int i = 0; i < x.length; i++) {
            x[i] = 1000f + (i / 18); // constant per (sample, group) of 2 channels x 9 pixels
        }
        float[] w = toFloat(weight(1, 4));
        float[] b = toFloat(OpTesting.randn(2, 4));
        float[] dy = toFloat(OpTesting.randn(3, x.length));
        float[][] got = run(cpu, cs, x, w, b, dy, new float[x.length], new float[4], new float[4], 1e-5f);
        for (int i = 0; i < x.length; i++) {
            org.junit.jupiter.api.Assertions.assertEquals(b[(i / 9) % 4], got[0][i], 1e-6f, "y = bias at " + i);
        }
        assertArrayEquals(new float[4], got[4], 1e-6f, "dweight");
    }

    @Test
    void rejectsBadArguments() {
        Backend cpu = OpTesting.cpu();
        try (Tensor x = cpu.zeros(2, 6, 3, 3); Tensor w = cpu.zeros(6); Tensor w5 = cpu.zeros(5);
             Tensor y = cpu.zeros(2, 6, 3, 3); Tensor m = cpu.zeros(2, 3); Tensor m2 = cpu.zeros(2, 2)) {
            assertThrows(IllegalArgumentException.class, () -> Ops.groupNormForward(x, w, w, y, m, m, 4, 1e-5f),
                    "6 channels in 4 groups");
            assertThrows(IllegalArgumentException.class, () -> Ops.groupNormForward(x, w, w, y, m2, m2, 3, 1e-5f));
            assertThrows(IllegalArgumentException.class, () -> Ops.groupNormForward(x, w5, w, y, m, m, 3, 1e-5f));
            assertThrows(IllegalArgumentException.class, () -> Ops.groupNormForward(x, w, w, y, m, m, 3, 0f));
            assertThrows(IllegalArgumentException.class,
                    () -> Ops.groupNormBackward(y, x, w, m, m, x, w5, w, 3));
        }
    }

    @Test
    void cudaMatchesCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        Backend cpu = OpTesting.cpu();
        int[][] cases = java.util.Arrays.copyOf(CASES, CASES.length + 1);
        cases[CASES.length] = new int[] {64, 64, 42, 42, 4}; // the stem's GroupNorm at batch 64
        for (int k = 0; k < cases.length; k++) {
            int[] cs = cases[k];
            int c = cs[1];
            int size = cs[0] * c * cs[2] * cs[3];
            float[] x = toFloat(inputs(200 + k, cs[0], c, cs[2] * cs[3]));
            float[] w = toFloat(weight(201 + k, c));
            float[] b = toFloat(OpTesting.randn(202 + k, c));
            float[] dy = toFloat(OpTesting.randn(203 + k, size));
            float[] dx0 = toFloat(OpTesting.randn(204 + k, size));
            float[] dw0 = toFloat(OpTesting.randn(205 + k, c));
            float[] db0 = toFloat(OpTesting.randn(206 + k, c));
            float[][] gc = run(cpu, cs, x, w, b, dy, dx0, dw0, db0, 1e-5f);
            float[][] gg = run(cuda, cs, x, w, b, dy, dx0, dw0, db0, 1e-5f);
            String at = java.util.Arrays.toString(cs);
            String[] names = {"y", "mean", "rstd"};
            for (int i = 0; i < 3; i++) {
                assertClose("cuda " + names[i] + " " + at, gg[i], gc[i], 1e-4);
            }
            assertClose("cuda dx " + at, Conv2dOpTest.minus(gg[3], dx0), Conv2dOpTest.minus(gc[3], dx0), 1e-4);
            assertClose("cuda dweight " + at, Conv2dOpTest.minus(gg[4], dw0), Conv2dOpTest.minus(gc[4], dw0), 1e-4);
            assertClose("cuda dbias " + at, Conv2dOpTest.minus(gg[5], db0), Conv2dOpTest.minus(gc[5], db0), 1e-4);
            float[][] again = run(cuda, cs, x, w, b, dy, dx0, dw0, db0, 1e-5f);
            for (int i = 0; i < gg.length; i++) {
                assertArrayEquals(gg[i], again[i], "cuda output " + i + " run to run " + at);
            }
        }
    }
}
