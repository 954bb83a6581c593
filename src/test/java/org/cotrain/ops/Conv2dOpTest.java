package org.cotrain.ops;

import static org.cotrain.ops.OpTesting.assertClose;
import static org.cotrain.ops.OpTesting.toDouble;
import static org.cotrain.ops.OpTesting.toFloat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cotrain.backend.CpuBackend.ConvStrategy;
import org.cotrain.backend.CpuBackend;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * conv2d.h: NCHW convolution as torch.nn.functional.conv2d (groups 1): the forward with and without bias, the
 * backward to the input and to the weight and bias (both accumulating), against float64 loops; every CPU strategy
 * (per-sample and batched im2col + GEMM, and the automatic choice); CUDA (cuDNN) against the CPU.
 */
class Conv2dOpTest {

    /** One convolution: x (n, ci, h, w), weight (co, ci, kh, kw), stride (sh, sw), padding (ph, pw). */
    record Case(int n, int ci, int h, int w, int co, int kh, int kw, int sh, int sw, int ph, int pw) {
        int ho() {
            return (h + 2 * ph - kh) / sh + 1;
        }

        int wo() {
            return (w + 2 * pw - kw) / sw + 1;
        }

        int xSize() {
            return n * ci * h * w;
        }

        int wSize() {
            return co * ci * kh * kw;
        }

        int ySize() {
            return n * co * ho() * wo();
        }

        @Override
        public String toString() {
            return String.format("x (%d, %d, %d, %d) * w (%d, %d, %d, %d) stride (%d, %d) pad (%d, %d)", n, ci, h, w, co,
                    ci, kh, kw, sh, sw, ph, pw);
        }
    }

    /**
     * Odd image sizes (7x9), odd channel counts, stride 2 with padding, ResNet's 7x7/2 stem and 1x1/2 downsample, a
     * rectangular kernel with unequal strides and paddings, a kernel larger than its stride with padding 2, tiny 3x3
     * maps (ResNet18's last stage on an 84x84 crop), and sizes on either side of the automatic strategy's choice
     * (P = 9 and 36 batched; P = 324 and 441 per sample; P = 400 at batch 1 batched, fewer samples than threads).
     */
    static final Case[] CASES = {
        new Case(1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0),
        new Case(2, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1),
        new Case(2, 3, 7, 9, 4, 3, 3, 2, 2, 1, 1),
        new Case(3, 3, 9, 7, 3, 7, 7, 2, 2, 3, 3),
        new Case(2, 5, 6, 5, 3, 1, 1, 1, 1, 0, 0),
        new Case(2, 4, 7, 7, 6, 1, 1, 2, 2, 0, 0),
        new Case(1, 3, 5, 4, 2, 2, 3, 1, 2, 0, 1),
        new Case(2, 2, 4, 4, 3, 4, 4, 3, 3, 2, 2),
        new Case(3, 16, 3, 3, 8, 3, 3, 1, 1, 1, 1),
        new Case(5, 8, 11, 11, 16, 3, 3, 2, 2, 1, 1),
        new Case(1, 3, 20, 20, 8, 3, 3, 1, 1, 1, 1),
        new Case(4, 3, 18, 18, 5, 3, 3, 1, 1, 1, 1),
        new Case(8, 16, 21, 21, 32, 3, 3, 1, 1, 1, 1),
    };

    @AfterEach
    void restoreStrategy() {
        CpuBackend.setConvStrategy(ConvStrategy.AUTO);
    }

    // ---- float64 reference ----------------------------------------------------------------------------------------

    /** y (n, co, ho, wo) = conv(x, w) + b; b may be null. */
    static double[] forward(double[] x, double[] w, double[] b, Case c) {
        int ho = c.ho();
        int wo = c.wo();
        double[] y = new double[c.ySize()];
        for (int n = 0; n < c.n; n++) {
            for (int co = 0; co < c.co; co++) {
                for (int i = 0; i < ho; i++) {
                    for (int j = 0; j < wo; j++) {
                        double s = b == null ? 0 : b[co];
                        for (int ci = 0; ci < c.ci; ci++) {
                            for (int u = 0; u < c.kh; u++) {
                                int r = i * c.sh - c.ph + u;
                                if (r < 0 || r >= c.h) {
                                    continue;
                                }
                                for (int v = 0; v < c.kw; v++) {
                                    int col = j * c.sw - c.pw + v;
                                    if (col < 0 || col >= c.w) {
                                        continue;
                                    }
                                    s += w[((co * c.ci + ci) * c.kh + u) * c.kw + v]
                                            * x[((n * c.ci + ci) * c.h + r) * c.w + col];
                                }
                            }
                        }
                        y[((n * c.co + co) * ho + i) * wo + j] = s;
                    }
                }
            }
        }
        return y;
    }

    /** Returns {dx, dw, db} of loss = sum(dy * y), by the chain rule through every (output, tap) pair. */
    static double[][] backward(double[] dy, double[] x, double[] w, Case c) {
        int ho = c.ho();
        int wo = c.wo();
        double[] dx = new double[c.xSize()];
        double[] dw = new double[c.wSize()];
        double[] db = new double[c.co];
        for (int n = 0; n < c.n; n++) {
            for (int co = 0; co < c.co; co++) {
                for (int i = 0; i < ho; i++) {
                    for (int j = 0; j < wo; j++) {
                        double g = dy[((n * c.co + co) * ho + i) * wo + j];
                        db[co] += g;
                        for (int ci = 0; ci < c.ci; ci++) {
                            for (int u = 0; u < c.kh; u++) {
                                int r = i * c.sh - c.ph + u;
                                if (r < 0 || r >= c.h) {
                                    continue;
                                }
                                for (int v = 0; v < c.kw; v++) {
                                    int col = j * c.sw - c.pw + v;
                                    if (col < 0 || col >= c.w) {
                                        continue;
                                    }
                                    int wi = ((co * c.ci + ci) * c.kh + u) * c.kw + v;
                                    int xi = ((n * c.ci + ci) * c.h + r) * c.w + col;
                                    dx[xi] += g * w[wi];
                                    dw[wi] += g * x[xi];
                                }
                            }
                        }
                    }
                }
            }
        }
        return new double[][] {dx, dw, db};
    }

    // ---- the reference against finite differences -----------------------------------------------------------------

    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        Case[] small = {CASES[1], CASES[2], CASES[5], CASES[6], CASES[7], new Case(1, 2, 5, 5, 2, 3, 3, 2, 2, 1, 1)};
        for (int k = 0; k < small.length; k++) {
            Case c = small[k];
            double[] x = OpTesting.randn(10 + k, c.xSize());
            double[] w = OpTesting.randn(20 + k, c.wSize());
            double[] b = OpTesting.randn(30 + k, c.co);
            double[] dy = OpTesting.randn(40 + k, c.ySize());
            double[][] g = backward(dy, x, w, c);
            assertClose("reference dx " + c, g[0],
                    OpTesting.numericalGradient(v -> OpTesting.dot(dy, forward(v, w, b, c)), x, 1e-6), 1e-7);
            assertClose("reference dw " + c, g[1],
                    OpTesting.numericalGradient(v -> OpTesting.dot(dy, forward(x, v, b, c)), w, 1e-6), 1e-7);
            assertClose("reference db " + c, g[2],
                    OpTesting.numericalGradient(v -> OpTesting.dot(dy, forward(x, w, v, c)), b, 1e-6), 1e-7);
        }
    }

    // ---- CPU against the reference --------------------------------------------------------------------------------

    @Test
    void cpuMatchesReferenceForEveryStrategy() {
        Backend cpu = OpTesting.cpu();
        for (ConvStrategy strategy : ConvStrategy.values()) {
            CpuBackend.setConvStrategy(strategy);
            for (int k = 0; k < CASES.length; k++) {
                checkAgainstReference(cpu, CASES[k], 100 + k, strategy + " ");
            }
        }
    }

    /** Forward (with and without bias) and both backward halves, accumulating onto non-zero gradients. */
    private static void checkAgainstReference(Backend be, Case c, long seed, String what) {
        float[] x = toFloat(OpTesting.randn(seed, c.xSize()));
        float[] w = toFloat(OpTesting.randn(seed + 1, c.wSize()));
        float[] b = toFloat(OpTesting.randn(seed + 2, c.co));
        float[] dy = toFloat(OpTesting.randn(seed + 3, c.ySize()));
        float[] dx0 = toFloat(OpTesting.randn(seed + 4, c.xSize()));
        float[] dw0 = toFloat(OpTesting.randn(seed + 5, c.wSize()));
        float[] db0 = toFloat(OpTesting.randn(seed + 6, c.co));
        double[] yRef = forward(toDouble(x), toDouble(w), toDouble(b), c);
        double[] yRefNoBias = forward(toDouble(x), toDouble(w), null, c);
        double[][] g = backward(toDouble(dy), toDouble(x), toDouble(w), c);
        float[][] got = run(be, c, x, w, b, dy, dx0, dw0, db0);
        String at = what + c;
        assertClose("y " + at, got[0], yRef, 1e-5);
        assertClose("y without bias " + at, got[1], yRefNoBias, 1e-5);
        assertClose("dx increment " + at, minus(got[2], dx0), g[0], 1e-5);
        assertClose("dw increment " + at, minus(got[3], dw0), g[1], 1e-5);
        assertClose("db increment " + at, minus(got[4], db0), g[2], 1e-5);
        assertClose("dx total " + at, got[2], plus(g[0], dx0), 1e-5);
        assertClose("dw total " + at, got[3], plus(g[1], dw0), 1e-5);
    }

    /** Runs the three ops through Ops: returns {y, y without bias, dx, dw, db}. */
    static float[][] run(Backend be, Case c, float[] x, float[] w, float[] b, float[] dy, float[] dx0, float[] dw0,
                         float[] db0) {
        try (Tensor tx = be.of(x, c.n, c.ci, c.h, c.w); Tensor tw = be.of(w, c.co, c.ci, c.kh, c.kw);
             Tensor tb = be.of(b, c.co); Tensor ty = be.zeros(c.n, c.co, c.ho(), c.wo());
             Tensor ty2 = be.zeros(c.n, c.co, c.ho(), c.wo()); Tensor tdy = be.of(dy, c.n, c.co, c.ho(), c.wo());
             Tensor tdx = be.of(dx0, c.n, c.ci, c.h, c.w); Tensor tdw = be.of(dw0, c.co, c.ci, c.kh, c.kw);
             Tensor tdb = be.of(db0, c.co)) {
            Ops.conv2dForward(tx, tw, tb, ty, c.sh, c.sw, c.ph, c.pw);
            Ops.conv2dForward(tx, tw, null, ty2, c.sh, c.sw, c.ph, c.pw);
            Ops.conv2dBackwardData(tdy, tw, tdx, c.sh, c.sw, c.ph, c.pw);
            Ops.conv2dBackwardWeight(tdy, tx, tdw, tdb, c.sh, c.sw, c.ph, c.pw);
            return new float[][] {ty.toFloatArray(), ty2.toFloatArray(), tdx.toFloatArray(), tdw.toFloatArray(),
                tdb.toFloatArray()};
        }
    }

    @Test
    void cpuStrategiesAgreeAndRepeatBitForBit() {
        // the strategies sum in different orders, so they agree to rounding; each repeats exactly
        Backend cpu = OpTesting.cpu();
        Case c = CASES[12];
        float[] x = toFloat(OpTesting.randn(1, c.xSize()));
        float[] w = toFloat(OpTesting.randn(2, c.wSize()));
        float[] b = toFloat(OpTesting.randn(3, c.co));
        float[] dy = toFloat(OpTesting.randn(4, c.ySize()));
        float[] dx0 = new float[c.xSize()];
        float[] dw0 = new float[c.wSize()];
        float[] db0 = new float[c.co];
        CpuBackend.setConvStrategy(ConvStrategy.PER_SAMPLE);
        float[][] a = run(cpu, c, x, w, b, dy, dx0, dw0, db0);
        float[][] a2 = run(cpu, c, x, w, b, dy, dx0, dw0, db0);
        CpuBackend.setConvStrategy(ConvStrategy.BATCHED);
        float[][] bt = run(cpu, c, x, w, b, dy, dx0, dw0, db0);
        float[][] bt2 = run(cpu, c, x, w, b, dy, dx0, dw0, db0);
        String[] names = {"y", "y without bias", "dx", "dw", "db"};
        for (int i = 0; i < names.length; i++) {
            assertArrayEquals(a[i], a2[i], "per-sample " + names[i] + " run to run");
            assertArrayEquals(bt[i], bt2[i], "batched " + names[i] + " run to run");
            assertClose("per-sample vs batched " + names[i], a[i], bt[i], 1e-5);
        }
    }

    @Test
    void sumChannelsIsTheBiasGradient() {
        Backend cpu = OpTesting.cpu();
        int n = 3;
        int c = 5;
        int hw = 7;
        float[] x = toFloat(OpTesting.randn(9, n * c * hw));
        float[] prior = toFloat(OpTesting.randn(10, c));
        double[] expected = new double[c];
        for (int s = 0; s < n; s++) {
            for (int ch = 0; ch < c; ch++) {
                for (int p = 0; p < hw; p++) {
                    expected[ch] += x[(s * c + ch) * hw + p];
                }
            }
        }
        try (Tensor tx = cpu.of(x, n, c, 1, hw); Tensor out = cpu.of(prior, c)) {
            Ops.sumChannels(tx, out);
            assertClose("sumChannels", minus(out.toFloatArray(), prior), expected, 1e-6);
        }
    }

    @Test
    void emptyBatchIsANoOp() {
        Backend cpu = OpTesting.cpu();
        try (Tensor x = cpu.zeros(0, 3, 5, 5); Tensor w = cpu.of(new float[4 * 3 * 9], 4, 3, 3, 3);
             Tensor y = cpu.zeros(0, 4, 5, 5); Tensor dw = cpu.zeros(4, 3, 3, 3); Tensor db = cpu.zeros(4)) {
            Ops.conv2dForward(x, w, null, y, 1, 1);
            Ops.conv2dBackwardData(y, w, x, 1, 1);
            Ops.conv2dBackwardWeight(y, x, dw, db, 1, 1);
            assertArrayEquals(new float[4], db.toFloatArray());
        }
    }

    @Test
    void rejectsBadArguments() {
        Backend cpu = OpTesting.cpu();
        try (Tensor x = cpu.zeros(2, 3, 7, 9); Tensor w = cpu.zeros(4, 3, 3, 3); Tensor w2 = cpu.zeros(4, 2, 3, 3);
             Tensor y = cpu.zeros(2, 4, 7, 9); Tensor yBad = cpu.zeros(2, 4, 4, 5); Tensor b = cpu.zeros(4);
             Tensor b5 = cpu.zeros(5); Tensor big = cpu.zeros(4, 3, 12, 12); Tensor x3 = cpu.zeros(3, 7, 9)) {
            assertThrows(IllegalArgumentException.class, () -> Ops.conv2dForward(x, w2, b, y, 1, 1), "channels");
            assertThrows(IllegalArgumentException.class, () -> Ops.conv2dForward(x, w, b, yBad, 1, 1), "y shape");
            assertThrows(IllegalArgumentException.class, () -> Ops.conv2dForward(x, w, b5, y, 1, 1), "bias shape");
            assertThrows(IllegalArgumentException.class, () -> Ops.conv2dForward(x, w, b, y, 0, 1), "stride 0");
            assertThrows(IllegalArgumentException.class, () -> Ops.conv2dForward(x, w, b, y, 1, -1), "padding");
            assertThrows(IllegalArgumentException.class, () -> Ops.conv2dForward(x, big, null, y, 1, 1), "kernel");
            assertThrows(IllegalArgumentException.class, () -> Ops.conv2dForward(x3, w, b, y, 1, 1), "rank");
            assertThrows(IllegalArgumentException.class, () -> Ops.conv2dForward(x, w, b, x, 1, 1), "y is x");
            assertThrows(IllegalArgumentException.class, () -> Ops.conv2dBackwardData(yBad, w, x, 1, 1), "dy shape");
            assertThrows(IllegalArgumentException.class, () -> Ops.conv2dBackwardWeight(y, x, w2, b, 1, 1), "dw");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Ops.conv2dForward(x, w, b, yBad, 1, 1));
            assertTrue(e.getMessage().contains("(2, 4, 4, 5)") && e.getMessage().contains("(2, 4, 7, 9)"),
                    "the message names the shapes: " + e.getMessage());
        }
    }

    // ---- CUDA (cuDNN) against the CPU -----------------------------------------------------------------------------

    @Test
    void cudaMatchesCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        Backend cpu = OpTesting.cpu();
        Case[] cases = new Case[CASES.length + 1];
        System.arraycopy(CASES, 0, cases, 0, CASES.length);
        cases[CASES.length] = new Case(16, 64, 21, 21, 128, 3, 3, 2, 2, 1, 1); // ResNet18 layer2's first conv
        for (int k = 0; k < cases.length; k++) {
            Case c = cases[k];
            float[] x = toFloat(OpTesting.randn(500 + k, c.xSize()));
            float[] w = toFloat(OpTesting.randn(501 + k, c.wSize()));
            float[] b = toFloat(OpTesting.randn(502 + k, c.co));
            float[] dy = toFloat(OpTesting.randn(503 + k, c.ySize()));
            float[] dx0 = toFloat(OpTesting.randn(504 + k, c.xSize()));
            float[] dw0 = toFloat(OpTesting.randn(505 + k, c.wSize()));
            float[] db0 = toFloat(OpTesting.randn(506 + k, c.co));
            float[][] gc = run(cpu, c, x, w, b, dy, dx0, dw0, db0);
            float[][] gg = run(cuda, c, x, w, b, dy, dx0, dw0, db0);
            assertClose("cuda y " + c, gg[0], gc[0], 1e-4);
            assertClose("cuda y without bias " + c, gg[1], gc[1], 1e-4);
            assertClose("cuda dx " + c, minus(gg[2], dx0), minus(gc[2], dx0), 1e-4);
            assertClose("cuda dw " + c, minus(gg[3], dw0), minus(gc[3], dw0), 1e-4);
            assertClose("cuda db " + c, minus(gg[4], db0), minus(gc[4], db0), 1e-4);
            // deterministic algorithms only: a second run gives the same bits
            float[][] again = run(cuda, c, x, w, b, dy, dx0, dw0, db0);
            for (int i = 0; i < gg.length; i++) {
                assertArrayEquals(gg[i], again[i], "cuda output " + i + " run to run, " + c);
            }
        }
    }

    // ---- helpers --------------------------------------------------------------------------------------------------

    static float[] minus(float[] a, float[] b) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] - b[i];
        }
        return out;
    }

    static double[] plus(double[] a, float[] b) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] + b[i];
        }
        return out;
    }
}
