package org.cotrain.ops;

import static org.cotrain.ops.OpTesting.assertClose;
import static org.cotrain.ops.OpTesting.toFloat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * optim.h: the fused AdamW step (torch.optim.AdamW semantics: gradient scaled, decoupled weight decay applied first,
 * bias corrections of step t counted from 1) and the EMA update ema = decay ema + (1 - decay) param.
 */
class OptimOpTest {

    private static final int[] SIZES = {1, 3, 7, 33, 257, 16_385, 100_003};

    /** (lr, beta1, beta2, eps, weightDecay, gradScale): the DP defaults, weight decay on and off, clipping, big eps. */
    private static final float[][] SETTINGS = {
        {1e-4f, 0.9f, 0.95f, 1e-8f, 1e-3f, 1f},
        {1e-2f, 0.9f, 0.999f, 1e-8f, 0f, 1f},
        {5e-2f, 0.8f, 0.95f, 1e-8f, 0.1f, 0.37f},
        {1e-2f, 0.9f, 0.95f, 1e-1f, 0.01f, 2.5f},
    };

    // ---- float64 reference -------------------------------------------------------------------------------------

    /** The AdamW state in double: param, m, v. */
    private static final class AdamState {
        final double[] p;
        final double[] m;
        final double[] v;

        AdamState(double[] p, double[] m, double[] v) {
            this.p = p.clone();
            this.m = m.clone();
            this.v = v.clone();
        }
    }

    /** One AdamW step at step t (from 1), written from the formula in optim.h. */
    private static void adamw(AdamState s, double[] grad, int t, float[] setting) {
        double lr = setting[0];
        double beta1 = setting[1];
        double beta2 = setting[2];
        double eps = setting[3];
        double wd = setting[4];
        double gradScale = setting[5];
        double bc1 = 1 - Math.pow(beta1, t);
        double bc2 = 1 - Math.pow(beta2, t);
        for (int i = 0; i < s.p.length; i++) {
            double g = grad[i] * gradScale;
            s.p[i] = s.p[i] * (1 - lr * wd);
            s.m[i] = beta1 * s.m[i] + (1 - beta1) * g;
            s.v[i] = beta2 * s.v[i] + (1 - beta2) * g * g;
            s.p[i] = s.p[i] - lr * (s.m[i] / bc1) / (Math.sqrt(s.v[i] / bc2) + eps);
        }
    }

    private static double[] ema(double[] ema, double[] param, double decay) {
        double[] out = new double[ema.length];
        for (int i = 0; i < ema.length; i++) {
            out[i] = decay * ema[i] + (1 - decay) * param[i];
        }
        return out;
    }

    private static double[] randnF(long seed, int n, double scale) {
        double[] x = OpTesting.randn(seed, n);
        for (int i = 0; i < n; i++) {
            x[i] = (float) (x[i] * scale);
        }
        return x;
    }

    // ---- running the ops ---------------------------------------------------------------------------------------

    /** Runs `steps` AdamW steps on `be` from (p0, m0, v0) with grads[t - 1]; returns {p, m, v} after every step. */
    private static float[][][] adamwOp(Backend be, double[] p0, double[] m0, double[] v0, double[][] grads,
                                       float[] s) {
        int n = p0.length;
        float[][][] out = new float[grads.length][][];
        try (Tensor p = be.of(toFloat(p0), n); Tensor m = be.of(toFloat(m0), n); Tensor v = be.of(toFloat(v0), n);
                Tensor g = be.zeros(n)) {
            for (int t = 1; t <= grads.length; t++) {
                g.copyFrom(toFloat(grads[t - 1]));
                Ops.adamwStep(p, g, m, v, s[0], s[1], s[2], s[3], s[4], t, s[5]);
                out[t - 1] = new float[][] {p.toFloatArray(), m.toFloatArray(), v.toFloatArray()};
            }
        }
        return out;
    }

    private static float[] emaOp(Backend be, double[] ema0, double[] param, float decay) {
        try (Tensor e = be.of(toFloat(ema0), ema0.length); Tensor p = be.of(toFloat(param), param.length)) {
            Ops.emaUpdate(e, p, decay);
            return e.toFloatArray();
        }
    }

    /** Random state with some exact zeros in the gradient and v (a parameter that got no gradient yet). */
    private static double[][] grads(long seed, int n, int steps) {
        double[][] g = new double[steps][];
        for (int t = 0; t < steps; t++) {
            g[t] = randnF(seed + t, n, 0.01 * (t + 1));
            for (int i = 0; i < n; i += 5) {
                g[t][i] = 0;
            }
        }
        return g;
    }

    // ---- 2. the reference against an independent closed form ---------------------------------------------------

    @Test
    void referenceFirstStepIsSignDescent() {
        // At step 1 from m = v = 0 the bias corrections cancel exactly: m / bc1 = g and sqrt(v / bc2) = |g|, so
        // p1 = p0 (1 - lr wd) - lr g / (|g| + eps): a step of almost exactly lr against the sign of the gradient.
        int n = 50;
        double[] p0 = randnF(1, n, 1);
        double[] g = randnF(2, n, 0.1);
        for (float[] s : SETTINGS) {
            AdamState st = new AdamState(p0, new double[n], new double[n]);
            adamw(st, g, 1, s);
            double[] expected = new double[n];
            for (int i = 0; i < n; i++) {
                double gs = g[i] * s[5];
                expected[i] = p0[i] * (1 - (double) s[0] * s[4]) - s[0] * gs / (Math.abs(gs) + s[3]);
            }
            assertClose("reference first step", st.p, expected, 1e-12);
        }
    }

    // ---- 3. the CPU op against the reference --------------------------------------------------------------------

    @Test
    void cpuAdamwMatchesReferenceOverFiveSteps() {
        Backend cpu = OpTesting.cpu();
        int steps = 5;
        for (int n : SIZES) {
            double[] p0 = randnF(n, n, 1);
            double[] m0 = new double[n];
            double[] v0 = new double[n];
            double[][] g = grads(10L * n, n, steps);
            for (float[] s : SETTINGS) {
                float[][][] out = adamwOp(cpu, p0, m0, v0, g, s);
                AdamState ref = new AdamState(p0, m0, v0);
                for (int t = 1; t <= steps; t++) {
                    double[] before = ref.p.clone();
                    adamw(ref, g[t - 1], t, s);
                    String what = " n=" + n + " lr=" + s[0] + " wd=" + s[4] + " gradScale=" + s[5] + " step " + t;
                    assertClose("param" + what, out[t - 1][0], ref.p, 1e-5);
                    assertClose("m" + what, out[t - 1][1], ref.m, 1e-5);
                    assertClose("v" + what, out[t - 1][2], ref.v, 1e-5);
                    // The update itself, relative to its own size (the parameter is much bigger than one step; with
                    // lr >= 1e-2 the float rounding of the parameter stays far below 1e-3 of the step).
                    if (t == 1 && s[0] >= 1e-2f) {
                        float[] delta = new float[n];
                        double[] refDelta = new double[n];
                        for (int i = 0; i < n; i++) {
                            delta[i] = out[0][0][i] - (float) p0[i];
                            refDelta[i] = ref.p[i] - before[i];
                        }
                        assertClose("update" + what, delta, refDelta, 1e-3);
                    }
                }
            }
        }
    }

    @Test
    void cpuAdamwContinuesFromNonZeroMoments() {
        // A state in the middle of training (step 1000): m and v non-zero, bias corrections near 1.
        Backend cpu = OpTesting.cpu();
        int n = 1000;
        double[] p0 = randnF(1, n, 1);
        double[] m0 = randnF(2, n, 0.01);
        double[] v0 = new double[n];
        double[] vr = randnF(3, n, 0.01);
        for (int i = 0; i < n; i++) {
            v0[i] = (float) (vr[i] * vr[i]);
        }
        double[] g = randnF(4, n, 0.02);
        float[] s = SETTINGS[0];
        int step = 1000;
        AdamState ref = new AdamState(p0, m0, v0);
        adamw(ref, g, step, s);
        try (Tensor p = cpu.of(toFloat(p0), n); Tensor m = cpu.of(toFloat(m0), n); Tensor v = cpu.of(toFloat(v0), n);
                Tensor tg = cpu.of(toFloat(g), n)) {
            Ops.adamwStep(p, tg, m, v, s[0], s[1], s[2], s[3], s[4], step, s[5]);
            assertClose("param", p.toFloatArray(), ref.p, 1e-5);
            assertClose("m", m.toFloatArray(), ref.m, 1e-5);
            assertClose("v", v.toFloatArray(), ref.v, 1e-5);
            float[] delta = p.toFloatArray();
            double[] refDelta = new double[n];
            for (int i = 0; i < n; i++) {
                delta[i] -= (float) p0[i];
                refDelta[i] = ref.p[i] - p0[i];
            }
            assertClose("update", delta, refDelta, 1e-2); // lr 1e-4 on params ~1: the float difference is coarse
        }
    }

    @Test
    void cpuEmaMatchesReference() {
        Backend cpu = OpTesting.cpu();
        for (int n : SIZES) {
            double[] e = randnF(n, n, 1);
            double[] p = randnF(n + 1, n, 1);
            for (float decay : new float[] {0f, 0.5f, 0.9f, 0.9999f, 1f}) {
                assertClose("ema n=" + n + " decay=" + decay, emaOp(cpu, e, p, decay), ema(e, p, decay), 1e-6);
            }
        }
        // Diffusion Policy's schedule over a few steps: decay = min(1 - (1 + step)^-0.75, 0.9999), param moving.
        int n = 257;
        double[] ref = randnF(5, n, 1);
        try (Tensor e = cpu.of(toFloat(ref), n); Tensor p = cpu.zeros(n)) {
            for (int step = 1; step <= 6; step++) {
                double[] param = randnF(100 + step, n, 1);
                float decay = (float) Math.min(1 - Math.pow(1 + step, -0.75), 0.9999);
                p.copyFrom(toFloat(param));
                Ops.emaUpdate(e, p, decay);
                ref = ema(ref, param, decay);
                assertClose("ema schedule step " + step, e.toFloatArray(), ref, 1e-5);
            }
        }
    }

    @Test
    void edgeCases() {
        Backend cpu = OpTesting.cpu();
        float[] none = new float[0];
        try (Tensor p = cpu.of(none, 0); Tensor g = cpu.of(none, 0); Tensor m = cpu.of(none, 0);
                Tensor v = cpu.of(none, 0)) {
            Ops.adamwStep(p, g, m, v, 1e-3f, 0.9f, 0.95f, 1e-8f, 0f, 1, 1f); // nothing to do, must not crash
            Ops.emaUpdate(p, g, 0.5f);
        }
        try (Tensor p = cpu.zeros(3); Tensor g = cpu.zeros(3); Tensor m = cpu.zeros(3); Tensor v = cpu.zeros(3)) {
            assertThrows(IllegalArgumentException.class,
                    () -> Ops.adamwStep(p, g, m, v, 1e-3f, 0.9f, 0.95f, 1e-8f, 0f, 0, 1f), "step counts from 1");
            // Zero gradient from zero moments: the update is 0 / (0 + eps) = 0, only weight decay moves p.
            p.copyFrom(new float[] {1f, -2f, 0.5f});
            Ops.adamwStep(p, g, m, v, 0.1f, 0.9f, 0.95f, 1e-8f, 0.5f, 1, 1f);
            assertArrayEquals(new float[] {0.95f, -1.9f, 0.475f}, p.toFloatArray(), 1e-7f);
            assertArrayEquals(new float[3], m.toFloatArray());
            assertArrayEquals(new float[3], v.toFloatArray());
            // A NaN gradient poisons only its own element.
            g.copyFrom(new float[] {0f, Float.NaN, 0f});
            Ops.adamwStep(p, g, m, v, 0.1f, 0.9f, 0.95f, 1e-8f, 0f, 2, 1f);
            float[] after = p.toFloatArray();
            assertArrayEquals(new float[] {0.95f, Float.NaN, 0.475f}, after, 1e-7f);
        }
    }

    // ---- 4. CUDA against CPU ------------------------------------------------------------------------------------

    @Test
    void cudaMatchesCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        Backend cpu = OpTesting.cpu();
        int steps = 5;
        int[] sizes = {1, 3, 7, 33, 257, 1_000_003};
        for (int n : sizes) {
            double[] p0 = randnF(n, n, 1);
            double[] z = new double[n];
            double[][] g = grads(7L * n, n, steps);
            for (float[] s : SETTINGS) {
                float[][][] a = adamwOp(cuda, p0, z, z, g, s);
                float[][][] b = adamwOp(cpu, p0, z, z, g, s);
                for (int t = 0; t < steps; t++) {
                    String what = " n=" + n + " wd=" + s[4] + " step " + (t + 1);
                    assertClose("param" + what, a[t][0], b[t][0], 1e-4);
                    assertClose("m" + what, a[t][1], b[t][1], 1e-4);
                    assertClose("v" + what, a[t][2], b[t][2], 1e-4);
                }
            }
            double[] e = randnF(n + 1, n, 1);
            for (float decay : new float[] {0f, 0.9f, 0.9999f, 1f}) {
                assertClose("ema n=" + n + " decay=" + decay, emaOp(cuda, e, p0, decay), emaOp(cpu, e, p0, decay),
                        1e-4);
            }
        }
        // Float results identical where the arithmetic has no rounding choice left: decay 1 and 0.
        double[] e = randnF(1, 1000, 1);
        double[] p = randnF(2, 1000, 1);
        assertArrayEquals(toFloat(e), emaOp(cuda, e, p, 1f));
        assertArrayEquals(toFloat(p), emaOp(cuda, e, p, 0f));
    }
}
