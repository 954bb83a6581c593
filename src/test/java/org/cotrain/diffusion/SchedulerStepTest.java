package org.cotrain.diffusion;

import static org.cotrain.ops.OpTesting.assertClose;
import static org.cotrain.ops.OpTesting.toFloat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.cotrain.ops.OpTesting;
import org.cotrain.ops.Prediction;
import org.cotrain.random.Philox;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * One forward-noising, one DDPM and one DDIM step of the schedulers against diffusers' formulas written out here in
 * float64 (from the float32 abar table, as diffusers reads it): checks that each scheduler hands the kernel the
 * right previous timestep, final abar, prediction type, clipping, eta and noise.
 */
class SchedulerStepTest {
    private static final NoiseSchedulerConfig DP = NoiseSchedulerConfig.diffusionPolicy();
    private static final int B = 3;
    private static final int H = 4;
    private static final int DA = 2;
    private static final int N = H * DA;
    private static final long SEED = 77L;
    private static final long OFFSET = 12345L;
    private static final double TOL = 2e-6;

    private static double[] x0(Prediction prediction, double aT, double x[], double[] m) {
        double[] x0 = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            x0[i] = prediction == Prediction.EPSILON ? (x[i] - Math.sqrt(1 - aT) * m[i]) / Math.sqrt(aT) : m[i];
        }
        return x0;
    }

    private static double clip(double v, boolean clip, double range) {
        return clip ? Math.max(-range, Math.min(range, v)) : v;
    }

    /** diffusers DDPMScheduler.step (fixed_small) for one chain, float64. (N) */
    static double[] ddpmStep(NoiseSchedulerConfig c, float[] abar, int t, int prevT, double[] x, double[] m,
                             double[] z) {
        double aT = abar[t];
        double aP = prevT >= 0 ? abar[prevT] : 1.0;
        double currentAlpha = aT / aP;
        double currentBeta = 1 - currentAlpha;
        double[] x0 = x0(c.predictionType(), aT, x, m);
        double variance = Math.max((1 - aP) / (1 - aT) * currentBeta, 1e-20);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double pred = clip(x0[i], c.clipSample(), c.clipSampleRange());
            double mean = Math.sqrt(aP) * currentBeta / (1 - aT) * pred
                    + Math.sqrt(currentAlpha) * (1 - aP) / (1 - aT) * x[i];
            out[i] = mean + (t > 0 ? Math.sqrt(variance) * z[i] : 0);
        }
        return out;
    }

    /** diffusers DDIMScheduler.step for one chain, float64. (N) */
    static double[] ddimStep(NoiseSchedulerConfig c, float[] abar, float finalAbar, float eta,
                             boolean useClippedModelOutput, int t, int prevT, double[] x, double[] m, double[] z) {
        double aT = abar[t];
        double aP = prevT >= 0 ? abar[prevT] : finalAbar;
        double[] x0 = x0(c.predictionType(), aT, x, m);
        double variance = (1 - aP) / (1 - aT) * (1 - aT / aP);
        double std = eta * Math.sqrt(variance);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double pred = clip(x0[i], c.clipSample(), c.clipSampleRange());
            double eps = c.predictionType() == Prediction.EPSILON ? m[i]
                    : (x[i] - Math.sqrt(aT) * x0[i]) / Math.sqrt(1 - aT);
            if (useClippedModelOutput) {
                eps = (x[i] - Math.sqrt(aT) * pred) / Math.sqrt(1 - aT);
            }
            out[i] = Math.sqrt(aP) * pred + Math.sqrt(1 - aP - std * std) * eps + (eta > 0 ? std * z[i] : 0);
        }
        return out;
    }

    private static double[] chain(double[] all, int b) {
        double[] out = new double[N];
        System.arraycopy(all, b * N, out, 0, N);
        return out;
    }

    private static double[] philoxNoise(int b) {
        double[] z = new double[N];
        for (int i = 0; i < N; i++) {
            z[i] = Philox.normal(SEED, OFFSET + (long) b * N + i);
        }
        return z;
    }

    /** The float32 inputs: x (scaled so that some x0 get clipped), model output and noise, as doubles. */
    private static double[][] inputs(long seed) {
        double[] x = OpTesting.randn(seed, B * N);
        double[] m = OpTesting.randn(seed + 1, B * N);
        double[] z = OpTesting.randn(seed + 2, B * N);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (1.5 * x[i]);
            m[i] = (float) m[i];
            z[i] = (float) z[i];
        }
        return new double[][] {x, m, z};
    }

    @Test
    void addNoiseIsTheForwardProcess() {
        Backend cpu = OpTesting.cpu();
        double[][] in = inputs(1);
        int[] t = {99, 0, 57};
        try (DdpmScheduler ddpm = new DdpmScheduler(cpu, DP);
             Tensor x0 = cpu.of(toFloat(in[0]), B, H, DA);
             Tensor eps = cpu.of(toFloat(in[1]), B, H, DA);
             Tensor tt = cpu.of(t, B);
             Tensor xt = cpu.empty(B, H, DA)) {
            ddpm.addNoise(x0, eps, tt, xt);
            float[] abar = ddpm.schedule().alphasCumprod();
            double[] expected = new double[B * N];
            for (int b = 0; b < B; b++) {
                for (int i = 0; i < N; i++) {
                    int j = b * N + i;
                    expected[j] = Math.sqrt(abar[t[b]]) * in[0][j] + Math.sqrt(1 - abar[t[b]]) * in[1][j];
                }
            }
            assertClose("add_noise", xt.toFloatArray(), expected, TOL);
        }
    }

    @Test
    void ddpmStepMatchesTheClosedForm() {
        Backend cpu = OpTesting.cpu();
        for (NoiseSchedulerConfig c : new NoiseSchedulerConfig[] {DP, DP.withPredictionType(Prediction.SAMPLE),
                DP.withClipSample(false).withBetaSchedule(BetaSchedule.LINEAR)}) {
            double[][] in = inputs(2);
            try (DdpmScheduler ddpm = new DdpmScheduler(cpu, c);
                 Tensor x = cpu.of(toFloat(in[0]), B, H, DA);
                 Tensor m = cpu.of(toFloat(in[1]), B, H, DA);
                 Tensor z = cpu.of(toFloat(in[2]), B, H, DA);
                 Tensor out = cpu.empty(B, H, DA)) {
                float[] abar = ddpm.schedule().alphasCumprod();
                // 10 inference steps: a step from t goes to t - 10; per-chain timesteps, one of them the last step
                ddpm.setTimesteps(10);
                int[] t = {90, 40, 0};
                try (Tensor tt = cpu.of(t, B)) {
                    ddpm.step(m, tt, x, z, 0, 0, out);
                }
                double[] expected = new double[B * N];
                for (int b = 0; b < B; b++) {
                    double[] e = ddpmStep(c, abar, t[b], t[b] - 10, chain(in[0], b), chain(in[1], b), chain(in[2], b));
                    System.arraycopy(e, 0, expected, b * N, N);
                }
                assertClose(c + " ddpm step, supplied noise", out.toFloatArray(), expected, TOL);

                // every chain at t = 1 of 100 steps (t - 1 = 0), the noise drawn from (seed, offset)
                ddpm.setTimesteps(100);
                ddpm.step(m, 1, x, null, SEED, OFFSET, out);
                for (int b = 0; b < B; b++) {
                    double[] e = ddpmStep(c, abar, 1, 0, chain(in[0], b), chain(in[1], b), philoxNoise(b));
                    System.arraycopy(e, 0, expected, b * N, N);
                }
                assertClose(c + " ddpm step, Philox noise", out.toFloatArray(), expected, TOL);
            }
        }
    }

    @Test
    void ddimStepMatchesTheClosedForm() {
        Backend cpu = OpTesting.cpu();
        NoiseSchedulerConfig[] configs = {DP.withSetAlphaToOne(false), DP,
                DP.withPredictionType(Prediction.SAMPLE).withBetaSchedule(BetaSchedule.SCALED_LINEAR)};
        float[] etas = {0f, 0.7f, 1f};
        boolean[] clipped = {false, true, false};
        for (int k = 0; k < configs.length; k++) {
            NoiseSchedulerConfig c = configs[k];
            double[][] in = inputs(3 + k);
            try (DdimScheduler ddim = new DdimScheduler(cpu, c, etas[k], clipped[k]);
                 Tensor x = cpu.of(toFloat(in[0]), B, H, DA);
                 Tensor m = cpu.of(toFloat(in[1]), B, H, DA);
                 Tensor z = cpu.of(toFloat(in[2]), B, H, DA);
                 Tensor out = cpu.empty(B, H, DA)) {
                float[] abar = ddim.schedule().alphasCumprod();
                ddim.setTimesteps(16); // ratio 6: 90, 84, ..., 0
                int[] t = {90, 6, 0};   // the last goes to -6: final_alpha_cumprod
                try (Tensor tt = cpu.of(t, B)) {
                    ddim.step(m, tt, x, z, 0, 0, out);
                }
                double[] expected = new double[B * N];
                for (int b = 0; b < B; b++) {
                    double[] e = ddimStep(c, abar, ddim.finalAlphaCumprod(), etas[k], clipped[k], t[b], t[b] - 6,
                            chain(in[0], b), chain(in[1], b), chain(in[2], b));
                    System.arraycopy(e, 0, expected, b * N, N);
                }
                String what = c + " eta " + etas[k] + " ddim step";
                assertClose(what + ", supplied noise", out.toFloatArray(), expected, TOL);

                ddim.step(m, 48, x, null, SEED, OFFSET, out);
                for (int b = 0; b < B; b++) {
                    double[] e = ddimStep(c, abar, ddim.finalAlphaCumprod(), etas[k], clipped[k], 48, 42,
                            chain(in[0], b), chain(in[1], b), philoxNoise(b));
                    System.arraycopy(e, 0, expected, b * N, N);
                }
                assertClose(what + ", Philox noise", out.toFloatArray(), expected, TOL);
            }
        }
    }

    @Test
    void theExplicitStepTakesAnyPreviousTimestep() {
        Backend cpu = OpTesting.cpu();
        double[][] in = inputs(9);
        try (DdpmScheduler ddpm = new DdpmScheduler(cpu, DP);
             Tensor x = cpu.of(toFloat(in[0]), B, H, DA);
             Tensor m = cpu.of(toFloat(in[1]), B, H, DA);
             Tensor z = cpu.of(toFloat(in[2]), B, H, DA);
             Tensor t = cpu.of(new int[] {50, 50, 50}, B);
             Tensor prev = cpu.of(new int[] {49, 30, -1}, B);
             Tensor out = cpu.empty(B, H, DA)) {
            ddpm.step(m, t, prev, x, z, 0, 0, out);
            float[] abar = ddpm.schedule().alphasCumprod();
            int[] p = {49, 30, -1};
            double[] expected = new double[B * N];
            for (int b = 0; b < B; b++) {
                double[] e = ddpmStep(DP, abar, 50, p[b], chain(in[0], b), chain(in[1], b), chain(in[2], b));
                System.arraycopy(e, 0, expected, b * N, N);
            }
            assertClose("ddpm step to chosen timesteps", out.toFloatArray(), expected, TOL);

            // a previous timestep that is not before t is refused by the op, naming it
            try (Tensor bad = cpu.of(new int[] {49, 50, 10}, B)) {
                assertThrows(IllegalArgumentException.class, () -> ddpm.step(m, t, bad, x, z, 0, 0, out));
            }
            // a timestep past the table is refused
            assertThrows(IllegalArgumentException.class, () -> ddpm.step(m, 100, x, z, 0, 0, out));
        }
    }

    @Test
    void sameSeedSameStep() {
        Backend cpu = OpTesting.cpu();
        double[][] in = inputs(11);
        try (DdpmScheduler ddpm = new DdpmScheduler(cpu, DP);
             Tensor x = cpu.of(toFloat(in[0]), B, H, DA);
             Tensor m = cpu.of(toFloat(in[1]), B, H, DA);
             Tensor a = cpu.empty(B, H, DA);
             Tensor b = cpu.empty(B, H, DA)) {
            ddpm.step(m, 70, x, null, SEED, OFFSET, a);
            ddpm.step(m, 70, x, null, SEED, OFFSET, b);
            assertArrayEquals(a.toFloatArray(), b.toFloatArray());
        }
    }
}
