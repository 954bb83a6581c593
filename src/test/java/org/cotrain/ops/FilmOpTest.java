package org.cotrain.ops;

import static org.cotrain.ops.OpTesting.toDouble;
import static org.cotrain.ops.OpTesting.toFloat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * film.h: ConditionalResidualBlock1D's FiLM, y = scale x + bias per (sample, channel) with cond (B, 2C) = [scale |
 * bias], or y = x + cond with cond (B, C); the backward writing dx and dcond.
 *
 * <p>Tolerances are per element, from float32 error analysis with u = 2^-24 (the unit roundoff): the inputs are
 * float32 values, so the float64 reference is exact to ~1e-16 relative and every difference is the op's own
 * rounding. Each bound counts every rounding of the float computation (an FMA rounds once where a multiply and an add
 * round twice, so the bound for the unfused form covers both), which holds on any x86 CPU and for either of the
 * library's AVX2 and baseline clones.
 */
class FilmOpTest {
    static final double U = 0x1p-24;

    /** (B, C, T): odd sizes, one of everything, T = 1, DP-C's T = 16 at 64 channels, T beyond a warp (33 > 32). */
    private static final int[][] CASES = {{3, 6, 7}, {1, 1, 1}, {2, 5, 1}, {4, 64, 16}, {3, 33, 40}};

    /** y of x (B, C, T) and cond (B, 2C) or (B, C), in float64. */
    static double[] forward(double[] x, double[] cond, int b, int c, int t, boolean scale) {
        double[] y = new double[x.length];
        int w = scale ? 2 * c : c;
        for (int i = 0; i < x.length; i++) {
            int bi = i / (c * t);
            int ci = (i / t) % c;
            y[i] = scale ? cond[bi * w + ci] * x[i] + cond[bi * w + c + ci] : x[i] + cond[bi * w + ci];
        }
        return y;
    }

    /** {dx, dcond} of loss = sum(dy * y), in float64. */
    static double[][] backward(double[] dy, double[] x, double[] cond, int b, int c, int t, boolean scale) {
        int w = scale ? 2 * c : c;
        double[] dx = new double[x.length];
        double[] dcond = new double[b * w];
        for (int i = 0; i < x.length; i++) {
            int bi = i / (c * t);
            int ci = (i / t) % c;
            if (scale) {
                dx[i] = cond[bi * w + ci] * dy[i];
                dcond[bi * w + ci] += dy[i] * x[i];
                dcond[bi * w + c + ci] += dy[i];
            } else {
                dx[i] = dy[i];
                dcond[bi * w + ci] += dy[i];
            }
        }
        return new double[][] {dx, dcond};
    }

    /**
     * The per-element error bounds of the CPU op: {y, dx, dcond}. y = s x + b: two roundings, each at most u of
     * the magnitude it rounds, so |err| <= 2u (|s x| + |b|) (without a scale, u |x + b| <= u (|x| + |b|)). dx = s dy:
     * one rounding, u |s dy|. dcond: sums over T accumulated in float64 (error <= T 2^-53 sum|.|, below 1e-15 of the
     * magnitudes here) and rounded to float once: u |sum| + 2^-52 T sum|.|, where sum|.| is sum |dy x| or sum |dy|.
     * With sumFloat (the CUDA kernel sums over T in float: at most ceil(T / 32) sequential adds per lane and a
     * 5-level shuffle tree) the sums' bound is (ceil(T / 32) + 5 + 1) u sum|.| instead.
     */
    static double[][] bounds(double[] dy, double[] x, double[] cond, int b, int c, int t, boolean scale,
                             boolean sumFloat) {
        int w = scale ? 2 * c : c;
        double[] by = new double[x.length];
        double[] bdx = new double[x.length];
        double[] abs = new double[b * w];
        double[][] grads = backward(dy, x, cond, b, c, t, scale);
        for (int i = 0; i < x.length; i++) {
            int bi = i / (c * t);
            int ci = (i / t) % c;
            double s = scale ? cond[bi * w + ci] : 1;
            double bias = scale ? cond[bi * w + c + ci] : cond[bi * w + ci];
            by[i] = 2 * U * (Math.abs(s * x[i]) + Math.abs(bias));
            bdx[i] = U * Math.abs(s * dy[i]);
            if (scale) {
                abs[bi * w + ci] += Math.abs(dy[i] * x[i]);
                abs[bi * w + c + ci] += Math.abs(dy[i]);
            } else {
                abs[bi * w + ci] += Math.abs(dy[i]);
            }
        }
        double per = sumFloat ? ((t + 31) / 32 + 6) * U : 0x1p-52 * t;
        double[] bdc = new double[b * w];
        for (int j = 0; j < bdc.length; j++) {
            bdc[j] = U * Math.abs(grads[1][j]) + per * abs[j];
        }
        return new double[][] {by, bdx, bdc};
    }

    /**
     * |got_i - want_i| <= bound_i for every i (plus 1e-30 for exact zeros); returns the worst ratio error / bound
     * (printed by the tests: how much of its bound an op uses).
     */
    static double assertWithin(String what, float[] got, double[] want, double[] bound) {
        assertTrue(got.length == want.length, what + ": length " + got.length + " != " + want.length);
        double worst = 0;
        int at = -1;
        for (int i = 0; i < got.length; i++) {
            double r = Math.abs(got[i] - want[i]) / (bound[i] + 1e-30);
            if (!(r <= worst)) { // NaN is the worst
                worst = r;
                at = i;
            }
        }
        assertTrue(worst <= 1, what + ": error " + (at < 0 ? 0 : Math.abs(got[at] - want[at])) + " at " + at
                + " is " + worst + " times its bound " + (at < 0 ? 0 : bound[at]));
        return worst;
    }

    /** Runs forward then backward: {y, dx or null, dcond}. */
    private static float[][] run(Backend be, int[] cs, float[] x, float[] cond, float[] dy, boolean scale,
                                 boolean withDx) {
        int b = cs[0];
        int c = cs[1];
        int t = cs[2];
        int w = scale ? 2 * c : c;
        try (Tensor tx = be.of(x, b, c, t); Tensor tc = be.of(cond, b, w); Tensor ty = be.zeros(b, c, t);
             Tensor tdy = be.of(dy, b, c, t); Tensor tdx = be.of(nans(b * c * t), b, c, t);
             Tensor tdc = be.of(nans(b * w), b, w)) {
            // outputs prefilled with NaN: they must be written, not accumulated
            Ops.filmForward(tx, tc, ty, scale);
            Ops.filmBackward(tdy, tx, tc, withDx ? tdx : null, tdc, scale);
            return new float[][] {ty.toFloatArray(), withDx ? tdx.toFloatArray() : null, tdc.toFloatArray()};
        }
    }

    static float[] nans(int n) {
        float[] v = new float[n];
        Arrays.fill(v, Float.NaN);
        return v;
    }

    private static float[][] inputs(long seed, int[] cs, boolean scale) {
        int n = cs[0] * cs[1] * cs[2];
        int w = scale ? 2 * cs[1] : cs[1];
        return new float[][] {toFloat(OpTesting.randn(seed, n)), toFloat(OpTesting.randn(seed + 1, cs[0] * w)),
            toFloat(OpTesting.randn(seed + 2, n))};
    }

    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        // The loss sum(dy * y) is bilinear in (x, cond), so central differences have no truncation error; what is
        // left is float64 rounding of the loss (~1e-16 |loss| / h with h = 1e-6, |loss| ~ 10: ~1e-9 absolute against
        // gradients of order 1), hence 1e-8 relative.
        int[] cs = {2, 3, 5};
        for (boolean scale : new boolean[] {true, false}) {
            float[][] in = inputs(7, cs, scale);
            double[] x = toDouble(in[0]);
            double[] cond = toDouble(in[1]);
            double[] dy = toDouble(in[2]);
            double[][] g = backward(dy, x, cond, cs[0], cs[1], cs[2], scale);
            OpTesting.assertClose("reference dx, scale " + scale, g[0], OpTesting.numericalGradient(
                    v -> OpTesting.dot(dy, forward(v, cond, cs[0], cs[1], cs[2], scale)), x, 1e-6), 1e-8);
            OpTesting.assertClose("reference dcond, scale " + scale, g[1], OpTesting.numericalGradient(
                    v -> OpTesting.dot(dy, forward(x, v, cs[0], cs[1], cs[2], scale)), cond, 1e-6), 1e-8);
        }
    }

    @Test
    void cpuMatchesReference() {
        Backend cpu = OpTesting.cpu();
        for (int k = 0; k < CASES.length; k++) {
            int[] cs = CASES[k];
            for (boolean scale : new boolean[] {true, false}) {
                float[][] in = inputs(100 + 10 * k, cs, scale);
                double[] x = toDouble(in[0]);
                double[] cond = toDouble(in[1]);
                double[] dy = toDouble(in[2]);
                float[][] got = run(cpu, cs, in[0], in[1], in[2], scale, true);
                double[][] g = backward(dy, x, cond, cs[0], cs[1], cs[2], scale);
                double[][] bound = bounds(dy, x, cond, cs[0], cs[1], cs[2], scale, false);
                String at = Arrays.toString(cs) + " scale " + scale;
                double ry = assertWithin("y " + at, got[0], forward(x, cond, cs[0], cs[1], cs[2], scale), bound[0]);
                double rdx = assertWithin("dx " + at, got[1], g[0], bound[1]);
                double rdc = assertWithin("dcond " + at, got[2], g[1], bound[2]);
                System.out.printf("film cpu %s: worst error / bound: y %.2f, dx %.2f, dcond %.2f%n", at, ry, rdx, rdc);
                // without dx only dcond is computed, the same numbers
                float[][] noDx = run(cpu, cs, in[0], in[1], in[2], scale, false);
                assertNull(noDx[1]);
                assertArrayEquals(got[2], noDx[2], "dcond without dx " + at);
            }
        }
    }

    @Test
    void inPlaceForward() {
        Backend cpu = OpTesting.cpu();
        int[] cs = {3, 6, 7};
        float[][] in = inputs(5, cs, true);
        try (Tensor x = cpu.of(in[0], 3, 6, 7); Tensor cond = cpu.of(in[1], 3, 12); Tensor y = cpu.zeros(3, 6, 7)) {
            Ops.filmForward(x, cond, y, true);
            Ops.filmForward(x, cond, x, true);
            assertArrayEquals(y.toFloatArray(), x.toFloatArray());
        }
    }

    @Test
    void rejectsBadArguments() {
        Backend cpu = OpTesting.cpu();
        try (Tensor x = cpu.zeros(3, 6, 7); Tensor y = cpu.zeros(3, 6, 7); Tensor c12 = cpu.zeros(3, 12);
             Tensor c6 = cpu.zeros(3, 6); Tensor c11 = cpu.zeros(3, 11); Tensor c2 = cpu.zeros(2, 12);
             Tensor x2 = cpu.zeros(18, 7); Tensor y8 = cpu.zeros(3, 6, 8); Tensor dx = cpu.zeros(3, 6, 7);
             Tensor dc = cpu.zeros(3, 12); Tensor i32 = cpu.zeros(org.cotrain.tensor.DType.I32, 3, 12)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Ops.filmForward(x, c6, y, true));
            assertTrue(e.getMessage().contains("(3, 6)") && e.getMessage().contains("(3, 12)")
                    && e.getMessage().contains("(3, 6, 7)"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Ops.filmForward(x, c12, y, false));
            assertThrows(IllegalArgumentException.class, () -> Ops.filmForward(x, c11, y, true));
            assertThrows(IllegalArgumentException.class, () -> Ops.filmForward(x, c2, y, true));
            assertThrows(IllegalArgumentException.class, () -> Ops.filmForward(x2, c12, y, true));
            assertThrows(IllegalArgumentException.class, () -> Ops.filmForward(x, c12, y8, true));
            assertThrows(IllegalArgumentException.class, () -> Ops.filmForward(x, i32, y, true));
            assertThrows(IllegalArgumentException.class, () -> Ops.filmBackward(y, x, c12, dx, c6, true));
            assertThrows(IllegalArgumentException.class, () -> Ops.filmBackward(y8, x, c12, dx, c12, true));
            assertThrows(IllegalArgumentException.class, () -> Ops.filmBackward(y, x, c12, y8, c12, true));
            assertThrows(IllegalArgumentException.class, () -> Ops.filmBackward(y, x, c12, x, dc, true),
                    "dx sharing x");
            assertThrows(IllegalArgumentException.class, () -> Ops.filmBackward(y, x, c12, dx, c12, true),
                    "dcond sharing cond");
            assertThrows(IllegalArgumentException.class, () -> Ops.filmBackward(y, x, c12, dx, null, true));
        }
    }

    @Test
    void cudaMatchesCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        Backend cpu = OpTesting.cpu();
        int[][] cases = Arrays.copyOf(CASES, CASES.length + 1);
        cases[CASES.length] = new int[] {256, 512, 8}; // pusht_lowdim_unet's middle blocks at batch 256
        for (int k = 0; k < cases.length; k++) {
            int[] cs = cases[k];
            for (boolean scale : new boolean[] {true, false}) {
                float[][] in = inputs(300 + 10 * k, cs, scale);
                double[] x = toDouble(in[0]);
                double[] cond = toDouble(in[1]);
                double[] dy = toDouble(in[2]);
                float[][] gc = run(cpu, cs, in[0], in[1], in[2], scale, true);
                float[][] gg = run(cuda, cs, in[0], in[1], in[2], scale, true);
                // |cuda - cpu| <= |cuda - exact| + |cpu - exact|: the sum of the two bounds
                double[][] bc = bounds(dy, x, cond, cs[0], cs[1], cs[2], scale, false);
                double[][] bg = bounds(dy, x, cond, cs[0], cs[1], cs[2], scale, true);
                String at = Arrays.toString(cs) + " scale " + scale;
                String[] names = {"y", "dx", "dcond"};
                for (int i = 0; i < 3; i++) {
                    double[] sum = new double[bc[i].length];
                    for (int j = 0; j < sum.length; j++) {
                        sum[j] = bc[i][j] + bg[i][j];
                    }
                    assertWithin("cuda " + names[i] + " " + at, gg[i], toDouble(gc[i]), sum);
                }
                float[][] again = run(cuda, cs, in[0], in[1], in[2], scale, true);
                for (int i = 0; i < 3; i++) {
                    assertArrayEquals(gg[i], again[i], "cuda " + names[i] + " run to run " + at);
                }
            }
        }
    }
}
