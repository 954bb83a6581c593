package org.cotrain.ops;

import static org.cotrain.ops.OpTesting.assertClose;
import static org.cotrain.ops.OpTesting.toDouble;
import static org.cotrain.ops.OpTesting.toFloat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.cotrain.nativelib.CpuKernels;
import org.cotrain.random.Philox;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * ddpm.h: add_noise, the DDPM reverse step (fixed_small variance) and the DDIM step, each chain of the batch at its
 * own timestep, on a real squaredcos_cap_v2 schedule with T = 100 (Diffusion Policy's).
 */
class DdpmOpTest {
    private static final int T = 100;
    private static final float[] ABAR = squaredCosSchedule(T);
    private static final long SEED = 1234567L;
    private static final long OFFSET = 987L;

    /** (B, sample shape...): the training shape 256 x 16 x 2 and odd ones. */
    private static final int[][] SHAPES = {{256, 16, 2}, {3, 7}, {1, 1}, {5, 4, 3}, {2, 33}};

    // ---- the schedule ------------------------------------------------------------------------------------------

    /** diffusers betas_for_alpha_bar with the cosine alpha_bar, then alphas_cumprod = cumprod(1 - beta), in float. */
    private static float[] squaredCosSchedule(int t) {
        float[] abar = new float[t];
        double prod = 1.0;
        for (int i = 0; i < t; i++) {
            double beta = Math.min(1.0 - cosBar((i + 1.0) / t) / cosBar((double) i / t), 0.999);
            prod *= 1.0 - beta;
            abar[i] = (float) prod;
        }
        return abar;
    }

    private static double cosBar(double tau) {
        double c = Math.cos((tau + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    // ---- float64 references ------------------------------------------------------------------------------------

    private static double abar(int t) {
        return ABAR[t];
    }

    private static double[] addNoise(double[] x0, double[] eps, int[] t, int n) {
        double[] xt = new double[x0.length];
        for (int i = 0; i < x0.length; i++) {
            double a = abar(t[i / n]);
            xt[i] = Math.sqrt(a) * x0[i] + Math.sqrt(1 - a) * eps[i];
        }
        return xt;
    }

    private static double clamp(double v, double r) {
        return Math.max(-r, Math.min(r, v));
    }

    /** x0 predicted from the model output (before clipping). */
    private static double predictX0(double model, double xt, double aT, Prediction prediction) {
        return prediction == Prediction.SAMPLE ? model : (xt - Math.sqrt(1 - aT) * model) / Math.sqrt(aT);
    }

    /**
     * DDPM posterior q(x_{prev} | x_t, x0) for a (possibly strided) step: alpha_t = abar_t / abar_prev,
     * mean = sqrt(abar_prev) beta_t / (1 - abar_t) x0 + sqrt(alpha_t) (1 - abar_prev) / (1 - abar_t) x_t,
     * sigma^2 = (1 - abar_prev) / (1 - abar_t) beta_t; no noise on the last step. z is the noise (B * N).
     */
    private static double[] ddpmStep(double[] model, double[] xt, int[] t, int[] prevT, Prediction prediction,
                                     boolean clip, double clipRange, double[] z, int n) {
        double[] out = new double[xt.length];
        for (int i = 0; i < xt.length; i++) {
            int b = i / n;
            double aT = abar(t[b]);
            double aP = prevT[b] >= 0 ? abar(prevT[b]) : 1.0;
            double alphaT = aT / aP;
            double betaT = 1 - alphaT;
            double x0 = predictX0(model[i], xt[i], aT, prediction);
            if (clip) {
                x0 = clamp(x0, clipRange);
            }
            double mean = Math.sqrt(aP) * betaT / (1 - aT) * x0 + Math.sqrt(alphaT) * (1 - aP) / (1 - aT) * xt[i];
            double variance = Math.max((1 - aP) / (1 - aT) * betaT, 1e-20);
            out[i] = mean + (t[b] > 0 ? Math.sqrt(variance) * z[i] : 0.0);
        }
        return out;
    }

    /**
     * Ho et al. eq. 11, the epsilon form of the same mean (no clipping):
     * (x_t - beta / sqrt(1 - abar_t) eps) / sqrt(alpha).
     */
    private static double[] ddpmMeanEpsilonForm(double[] eps, double[] xt, int[] t, int[] prevT, int n) {
        double[] out = new double[xt.length];
        for (int i = 0; i < xt.length; i++) {
            int b = i / n;
            double aT = abar(t[b]);
            double aP = prevT[b] >= 0 ? abar(prevT[b]) : 1.0;
            double alphaT = aT / aP;
            out[i] = (xt[i] - (1 - alphaT) / Math.sqrt(1 - aT) * eps[i]) / Math.sqrt(alphaT);
        }
        return out;
    }

    /** DDIM (Song et al. eq. 12), written after diffusers' DDIMScheduler.step. */
    private static double[] ddimStep(double[] model, double[] xt, int[] t, int[] prevT, double finalAbar, double eta,
                                     Prediction prediction, boolean clip, double clipRange, boolean useClipped,
                                     double[] z, int n) {
        double[] out = new double[xt.length];
        for (int i = 0; i < xt.length; i++) {
            int b = i / n;
            double aT = abar(t[b]);
            double aP = prevT[b] >= 0 ? abar(prevT[b]) : finalAbar;
            double x0;
            double eps;
            if (prediction == Prediction.SAMPLE) {
                x0 = model[i];
                eps = (xt[i] - Math.sqrt(aT) * x0) / Math.sqrt(1 - aT);
            } else {
                x0 = (xt[i] - Math.sqrt(1 - aT) * model[i]) / Math.sqrt(aT);
                eps = model[i];
            }
            if (clip) {
                x0 = clamp(x0, clipRange);
            }
            if (useClipped) {
                eps = (xt[i] - Math.sqrt(aT) * x0) / Math.sqrt(1 - aT);
            }
            double sigma = eta * Math.sqrt((1 - aP) / (1 - aT) * (1 - aT / aP));
            out[i] = Math.sqrt(aP) * x0 + Math.sqrt(Math.max(1 - aP - sigma * sigma, 0)) * eps
                    + (eta > 0 ? sigma * z[i] : 0.0);
        }
        return out;
    }

    /** The noise the ops draw when none is supplied: element b * N + i of (seed, offset). */
    private static double[] philoxNoise(long seed, long offset, int count) {
        double[] z = new double[count];
        for (int i = 0; i < count; i++) {
            z[i] = Philox.normal(seed, offset + i);
        }
        return z;
    }

    // ---- inputs ------------------------------------------------------------------------------------------------

    /**
     * A realistic batch: clean x0 in [-1, 1], xt = add_noise(x0, eps) at each chain's t, and a model output that
     * is eps (or x0) plus an error, so that the predicted x0 sometimes leaves [-1, 1] and clipping matters.
     */
    private static final class Batch {
        final int b;
        final int n;
        final int[] shape;
        final int[] t;
        final int[] prevT;
        final double[] x0;
        final double[] eps;
        final double[] xt;
        final double[] model;
        final double[] noise;

        Batch(long seed, int[] shape, Prediction prediction, int stride) {
            this.shape = shape;
            b = shape[0];
            int numel = 1;
            for (int d : shape) {
                numel *= d;
            }
            n = numel / b;
            Random r = new Random(seed);
            t = new int[b];
            prevT = new int[b];
            for (int i = 0; i < b; i++) {
                // cover both ends of the schedule: t = 0 (final step) and T - 1 (pure noise)
                t[i] = i == 0 ? 0 : i == 1 ? T - 1 : r.nextInt(T);
                prevT[i] = t[i] - stride;
            }
            x0 = toDouble(toFloat(OpTesting.uniform(seed + 1, numel, -1, 1)));
            eps = toDouble(toFloat(OpTesting.randn(seed + 2, numel)));
            xt = toDouble(toFloat(addNoise(x0, eps, t, n)));
            double[] err = OpTesting.randn(seed + 3, numel);
            double[] m = new double[numel];
            for (int i = 0; i < numel; i++) {
                m[i] = (prediction == Prediction.SAMPLE ? x0[i] : eps[i]) + 0.2 * err[i];
            }
            model = toDouble(toFloat(m));
            noise = toDouble(toFloat(OpTesting.randn(seed + 4, numel)));
        }
    }

    // ---- the references against independent forms and hand values -------------------------------------------

    @Test
    void scheduleIsSquaredCos() {
        // alphas_cumprod[i] = abar((i + 1) / T) / abar(0) while no beta is capped at 0.999
        assertEquals(cosBar(1.0 / T) / cosBar(0), ABAR[0], 1e-7);
        assertEquals(cosBar(50.0 / T) / cosBar(0), ABAR[49], 1e-6);
        assertTrue(ABAR[T - 1] > 0 && ABAR[T - 1] < 1e-6, "the last step is almost pure noise: " + ABAR[T - 1]);
        for (int i = 1; i < T; i++) {
            assertTrue(ABAR[i] < ABAR[i - 1]);
        }
    }

    @Test
    void referenceDdpmMeanMatchesEpsilonForm() {
        // without clipping, the x0 form of the posterior mean equals Ho et al.'s epsilon form
        Batch batch = new Batch(1, new int[] {7, 5}, Prediction.EPSILON, 1);
        double[] zero = new double[batch.xt.length];
        double[] out = ddpmStep(batch.model, batch.xt, batch.t, batch.prevT, Prediction.EPSILON, false, 1, zero,
                batch.n);
        double[] expected = ddpmMeanEpsilonForm(batch.model, batch.xt, batch.t, batch.prevT, batch.n);
        assertClose("DDPM mean, x0 form vs epsilon form", out, expected, 1e-9);
    }

    @Test
    void referenceDdimWithEtaOneIsDdpm() {
        // for prev = t - 1 and eta = 1, sigma_t^2 of DDIM is the DDPM posterior variance and the means agree
        Batch batch = new Batch(2, new int[] {9, 4}, Prediction.EPSILON, 1);
        for (int i = 0; i < batch.b; i++) {
            batch.t[i] = Math.max(batch.t[i], 1);  // t == 0 adds no noise in DDPM, but noise * sigma(=0) in DDIM
            batch.prevT[i] = batch.t[i] - 1;
        }
        double[] ddpm = ddpmStep(batch.model, batch.xt, batch.t, batch.prevT, Prediction.EPSILON, true, 1,
                batch.noise, batch.n);
        double[] ddim = ddimStep(batch.model, batch.xt, batch.t, batch.prevT, 1.0, 1.0, Prediction.EPSILON, true, 1,
                true, batch.noise, batch.n);
        assertClose("DDIM(eta = 1) vs DDPM", ddim, ddpm, 1e-9);
    }

    // ---- CPU against the references ----------------------------------------------------------------------------

    @Test
    void cpuAddNoiseMatchesReference() {
        Backend cpu = OpTesting.cpu();
        for (int s = 0; s < SHAPES.length; s++) {
            Batch batch = new Batch(10 + s, SHAPES[s], Prediction.EPSILON, 1);
            try (Tensor x0 = cpu.of(toFloat(batch.x0), batch.shape);
                 Tensor eps = cpu.of(toFloat(batch.eps), batch.shape);
                 Tensor t = cpu.of(batch.t, batch.b);
                 Tensor abar = cpu.of(ABAR, T);
                 Tensor xt = cpu.zeros(batch.shape)) {
                Ops.ddpmAddNoise(x0, eps, t, abar, xt);
                assertClose("add_noise " + Tensor.shapeString(batch.shape), xt.toFloatArray(),
                        addNoise(batch.x0, batch.eps, batch.t, batch.n), 1e-5);
            }
        }
    }

    @Test
    void cpuDdpmStepMatchesReference() {
        Backend cpu = OpTesting.cpu();
        for (Prediction prediction : Prediction.values()) {
            for (int s = 0; s < SHAPES.length; s++) {
                for (boolean clip : new boolean[] {true, false}) {
                    for (boolean philox : new boolean[] {false, true}) {
                        Batch batch = new Batch(100 + s, SHAPES[s], prediction, 1);
                        double[] z = philox ? philoxNoise(SEED, OFFSET, batch.xt.length) : batch.noise;
                        double[] expected = ddpmStep(batch.model, batch.xt, batch.t, batch.prevT, prediction, clip, 1.0,
                                z, batch.n);
                        float[] got = runDdpm(cpu, batch, prediction, clip, 1.0f, philox ? null : toFloat(batch.noise));
                        assertClose("ddpm_step " + prediction + " clip=" + clip + " philox=" + philox + " "
                                + Tensor.shapeString(batch.shape), got, expected, 1e-5);
                    }
                }
            }
        }
    }

    @Test
    void cpuDdimStepMatchesReference() {
        Backend cpu = OpTesting.cpu();
        int[] strides = {10, 1, 7};
        for (Prediction prediction : Prediction.values()) {
            for (int s = 0; s < SHAPES.length; s++) {
                for (double eta : new double[] {0.0, 0.5, 1.0}) {
                    for (boolean useClipped : new boolean[] {false, true}) {
                        int stride = strides[s % strides.length];
                        Batch batch = new Batch(200 + s, SHAPES[s], prediction, stride);
                        boolean philox = s % 2 == 0;
                        double[] z = philox ? philoxNoise(SEED, OFFSET, batch.xt.length) : batch.noise;
                        double finalAbar = s % 3 == 0 ? 1.0 : ABAR[0];  // set_alpha_to_one true or false
                        double[] expected = ddimStep(batch.model, batch.xt, batch.t, batch.prevT, finalAbar, eta,
                                prediction, true, 1.0, useClipped, z, batch.n);
                        float[] got = runDdim(cpu, batch, (float) finalAbar, (float) eta, prediction, true, 1.0f,
                                useClipped, philox ? null : toFloat(batch.noise), SEED, OFFSET);
                        assertClose("ddim_step " + prediction + " eta=" + eta + " useClipped=" + useClipped + " "
                                + Tensor.shapeString(batch.shape), got, expected, 1e-5);
                    }
                }
            }
        }
        // no clipping, and a clip range other than 1
        Batch batch = new Batch(300, new int[] {6, 5}, Prediction.EPSILON, 10);
        for (float range : new float[] {1.5f, 1e6f}) {
            boolean clip = range < 100;
            double[] expected = ddimStep(batch.model, batch.xt, batch.t, batch.prevT, 1.0, 0.3f, Prediction.EPSILON,
                    clip, range, false, batch.noise, batch.n);
            float[] got = runDdim(cpu, batch, 1.0f, 0.3f, Prediction.EPSILON, clip, range, false,
                    toFloat(batch.noise), 0, 0);
            assertClose("ddim_step clip range " + range, got, expected, 1e-5);
        }
    }

    @Test
    void clippingIsExercised() {
        // the batches above must actually push some predicted x0 outside [-1, 1], or the clip tests prove nothing
        Batch batch = new Batch(100, SHAPES[0], Prediction.EPSILON, 1);
        int outside = 0;
        for (int i = 0; i < batch.xt.length; i++) {
            double x0 = predictX0(batch.model[i], batch.xt[i], abar(batch.t[i / batch.n]), Prediction.EPSILON);
            if (Math.abs(x0) > 1) {
                outside++;
            }
        }
        assertTrue(outside > batch.xt.length / 20 && outside < batch.xt.length, "clipped elements: " + outside);
    }

    @Test
    void cpuHandValues() {
        Backend cpu = OpTesting.cpu();
        // t = 0 -> prev = -1: the DDPM step returns the clipped x0 and adds no noise, even when noise is supplied
        Batch batch = new Batch(400, new int[] {4, 6}, Prediction.EPSILON, 1);
        java.util.Arrays.fill(batch.t, 0);
        java.util.Arrays.fill(batch.prevT, -1);
        float[] got = runDdpm(cpu, batch, Prediction.EPSILON, true, 1.0f, toFloat(batch.noise));
        double a0 = ABAR[0];
        double[] expected = new double[got.length];
        for (int i = 0; i < got.length; i++) {
            expected[i] = clamp((batch.xt[i] - Math.sqrt(1 - a0) * batch.model[i]) / Math.sqrt(a0), 1.0);
        }
        assertClose("ddpm t=0 returns clipped x0", got, expected, 1e-6);
        assertArrayEquals(got, runDdpm(cpu, batch, Prediction.EPSILON, true, 1.0f, null), "t=0 draws no noise");
        // sample prediction at t = 0: exactly the clipped model output
        got = runDdpm(cpu, batch, Prediction.SAMPLE, true, 0.5f, toFloat(batch.noise));
        for (int i = 0; i < got.length; i++) {
            assertEquals((float) clamp(batch.model[i], 0.5), got[i], 1e-6f);
        }
        // DDIM to the end with final_abar = 1: out = clipped x0 whatever eta (sigma = 0)
        Batch ddim = new Batch(401, new int[] {3, 5}, Prediction.SAMPLE, 100);
        got = runDdim(cpu, ddim, 1.0f, 1.0f, Prediction.SAMPLE, true, 1.0f, false, null, SEED, OFFSET);
        for (int i = 0; i < got.length; i++) {
            assertEquals((float) clamp(ddim.model[i], 1.0), got[i], 1e-6f);
        }
    }

    @Test
    void cpuDdimWithEtaZeroIsDeterministic() {
        Backend cpu = OpTesting.cpu();
        Batch batch = new Batch(500, new int[] {5, 7}, Prediction.EPSILON, 10);
        float[] a = runDdim(cpu, batch, 1.0f, 0.0f, Prediction.EPSILON, true, 1.0f, false, null, 1, 0);
        float[] b = runDdim(cpu, batch, 1.0f, 0.0f, Prediction.EPSILON, true, 1.0f, false, null, 2, 99);
        float[] c = runDdim(cpu, batch, 1.0f, 0.0f, Prediction.EPSILON, true, 1.0f, false, toFloat(batch.noise),
                3, 0);
        assertArrayEquals(a, b, "eta = 0 ignores the seed");
        assertArrayEquals(a, c, "eta = 0 ignores the noise");
        // and with eta > 0 the seed matters
        float[] d = runDdim(cpu, batch, 1.0f, 1.0f, Prediction.EPSILON, true, 1.0f, false, null, 1, 0);
        float[] e = runDdim(cpu, batch, 1.0f, 1.0f, Prediction.EPSILON, true, 1.0f, false, null, 2, 0);
        assertFalse(java.util.Arrays.equals(d, e), "eta = 1 uses the noise");
    }

    @Test
    void cpuPhiloxNoiseEqualsSuppliedPhiloxNoise() {
        // drawing inside the op is the same as supplying Philox.normal(seed, offset + b * N + i)
        Backend cpu = OpTesting.cpu();
        Batch batch = new Batch(600, new int[] {3, 7}, Prediction.EPSILON, 1);
        for (int i = 0; i < batch.b; i++) {
            batch.t[i] = 1 + i * 30;
            batch.prevT[i] = batch.t[i] - 1;
        }
        float[] supplied = toFloat(philoxNoise(SEED, OFFSET, batch.xt.length));
        assertArrayEquals(runDdpm(cpu, batch, Prediction.EPSILON, true, 1.0f, supplied),
                runDdpm(cpu, batch, Prediction.EPSILON, true, 1.0f, null), "DDPM");
        assertArrayEquals(runDdim(cpu, batch, 1.0f, 0.7f, Prediction.EPSILON, true, 1.0f, false, supplied, 0, 0),
                runDdim(cpu, batch, 1.0f, 0.7f, Prediction.EPSILON, true, 1.0f, false, null, SEED, OFFSET), "DDIM");
    }

    @Test
    void cpuDdimWithEtaOneMatchesCpuDdpm() {
        Backend cpu = OpTesting.cpu();
        Batch batch = new Batch(700, new int[] {256, 16, 2}, Prediction.EPSILON, 1);
        for (int i = 0; i < batch.b; i++) {
            batch.t[i] = Math.max(batch.t[i], 1);
            batch.prevT[i] = batch.t[i] - 1;
        }
        float[] ddpm = runDdpm(cpu, batch, Prediction.EPSILON, true, 1.0f, null);
        float[] ddim = runDdim(cpu, batch, 1.0f, 1.0f, Prediction.EPSILON, true, 1.0f, true, null, SEED, OFFSET);
        assertClose("ddim(eta=1, clipped eps) vs ddpm", ddim, ddpm, 1e-5);
    }

    @Test
    void outOfRangeTimestepGivesNaNOnCpu() {
        Backend cpu = OpTesting.cpu();
        Batch batch = new Batch(800, new int[] {5, 3}, Prediction.EPSILON, 1);
        // chains 1, 2, 3: t == T, t < 0, prev_t >= T; chains 0 and 4 are fine. Ops rejects these on the CPU, so the
        // kernels are called directly to check that they guard the index themselves.
        int[] t = {10, T, -1, 5, 0};
        int[] prevT = {9, T - 1, -2, T + 3, -1};
        batch.t[0] = 10;
        batch.prevT[0] = 9;
        batch.t[4] = 0;
        batch.prevT[4] = -1;
        try (Tensor model = cpu.of(toFloat(batch.model), 5, 3);
             Tensor xt = cpu.of(toFloat(batch.xt), 5, 3);
             Tensor x0 = cpu.of(toFloat(batch.x0), 5, 3);
             Tensor eps = cpu.of(toFloat(batch.eps), 5, 3);
             Tensor tt = cpu.of(t, 5);
             Tensor pt = cpu.of(prevT, 5);
             Tensor abar = cpu.of(ABAR, T);
             Tensor out = cpu.zeros(5, 3)) {
            assertThrows(IllegalArgumentException.class,
                    () -> Ops.ddpmStep(model, xt, tt, pt, abar, Prediction.EPSILON, true, 1f, null, 0, 0, out));

            CpuKernels.ct_ddpm_step_cpu(model.data(), xt.data(), tt.data(), pt.data(), abar.data(), T, 0, 1, 1f,
                    null, SEED, OFFSET, out.data(), 5, 3);
            checkNaNChains("ddpm_step", out.toFloatArray(), 3, new boolean[] {false, true, true, true, false});
            double[] z = philoxNoise(SEED, OFFSET, 15);
            double[] ref = ddpmStep(batch.model, batch.xt, batch.t, batch.prevT, Prediction.EPSILON, true, 1, z, 3);
            float[] o = out.toFloatArray();
            for (int i : new int[] {0, 1, 2, 12, 13, 14}) {
                assertEquals(ref[i], o[i], 1e-5);
            }

            CpuKernels.ct_ddim_step_cpu(model.data(), xt.data(), tt.data(), pt.data(), abar.data(), T, 1f, 1f, 0, 1, 1f,
                    0, null, SEED, OFFSET, out.data(), 5, 3);
            checkNaNChains("ddim_step", out.toFloatArray(), 3, new boolean[] {false, true, true, true, false});

            CpuKernels.ct_ddpm_add_noise_cpu(x0.data(), eps.data(), tt.data(), abar.data(), T, out.data(), 5, 3);
            checkNaNChains("add_noise", out.toFloatArray(), 3, new boolean[] {false, true, true, false, false});
        }
    }

    @Test
    void emptyBatchIsANoOp() {
        Backend cpu = OpTesting.cpu();
        try (Tensor model = cpu.zeros(0, 4);
             Tensor xt = cpu.zeros(0, 4);
             Tensor t = cpu.zeros(DType.I32, 0);
             Tensor abar = cpu.of(ABAR, T);
             Tensor out = cpu.zeros(0, 4)) {
            Ops.ddpmStep(model, xt, t, t, abar, Prediction.EPSILON, true, 1f, null, 0, 0, out);
            Ops.ddimStep(model, xt, t, t, abar, 1f, 1f, Prediction.EPSILON, true, 1f, false, null, 0, 0, out);
            Ops.ddpmAddNoise(model, xt, t, abar, out);
            assertEquals(0, out.numel());
        }
    }

    private static void checkNaNChains(String what, float[] out, int n, boolean[] bad) {
        for (int i = 0; i < out.length; i++) {
            boolean nan = Float.isNaN(out[i]);
            assertEquals(bad[i / n], nan, what + ": element " + i + " of chain " + i / n + " = " + out[i]);
        }
    }

    // ---- CUDA against the CPU ----------------------------------------------------------------------------------

    @Test
    void cudaMatchesCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        Backend cpu = OpTesting.cpu();
        for (int s = 0; s < SHAPES.length; s++) {
            for (Prediction prediction : Prediction.values()) {
                Batch batch = new Batch(900 + s, SHAPES[s], prediction, 1);
                String shape = Tensor.shapeString(batch.shape) + " " + prediction;
                assertClose("cuda add_noise " + shape, addNoiseOn(cuda, batch), addNoiseOn(cpu, batch), 1e-4);
                for (boolean philox : new boolean[] {false, true}) {
                    float[] noise = philox ? null : toFloat(batch.noise);
                    assertClose("cuda ddpm_step " + shape + " philox=" + philox,
                            runDdpm(cuda, batch, prediction, true, 1.0f, noise),
                            runDdpm(cpu, batch, prediction, true, 1.0f, noise), 1e-4);
                }
                Batch strided = new Batch(950 + s, SHAPES[s], prediction, 10);
                for (float eta : new float[] {0f, 1f}) {
                    for (boolean useClipped : new boolean[] {false, true}) {
                        assertClose("cuda ddim_step " + shape + " eta=" + eta + " useClipped=" + useClipped,
                                runDdim(cuda, strided, ABAR[0], eta, prediction, true, 1.0f, useClipped, null, SEED,
                                        OFFSET),
                                runDdim(cpu, strided, ABAR[0], eta, prediction, true, 1.0f, useClipped, null, SEED,
                                        OFFSET), 1e-4);
                    }
                }
            }
        }
    }

    @Test
    void outOfRangeTimestepGivesNaNOnCuda() {
        Backend cuda = OpTesting.cudaOrSkip();
        // Ops does not check device-resident indices: the kernels must guard them
        Batch batch = new Batch(1000, new int[] {5, 3}, Prediction.EPSILON, 1);
        int[] t = {10, T, -1, 5, 0};
        int[] prevT = {9, T - 1, -2, T + 3, -1};
        try (Tensor model = cuda.of(toFloat(batch.model), 5, 3);
             Tensor xt = cuda.of(toFloat(batch.xt), 5, 3);
             Tensor tt = cuda.of(t, 5);
             Tensor pt = cuda.of(prevT, 5);
             Tensor abar = cuda.of(ABAR, T);
             Tensor out = cuda.zeros(5, 3)) {
            Ops.ddpmStep(model, xt, tt, pt, abar, Prediction.EPSILON, true, 1f, null, SEED, OFFSET, out);
            checkNaNChains("cuda ddpm_step", out.toFloatArray(), 3, new boolean[] {false, true, true, true, false});
            Ops.ddimStep(model, xt, tt, pt, abar, 1f, 1f, Prediction.EPSILON, true, 1f, false, null, SEED, OFFSET, out);
            checkNaNChains("cuda ddim_step", out.toFloatArray(), 3, new boolean[] {false, true, true, true, false});
            Ops.ddpmAddNoise(model, xt, tt, abar, out);
            checkNaNChains("cuda add_noise", out.toFloatArray(), 3, new boolean[] {false, true, true, false, false});
        }
    }

    // ---- running the ops ---------------------------------------------------------------------------------------

    private static float[] addNoiseOn(Backend backend, Batch batch) {
        try (Tensor x0 = backend.of(toFloat(batch.x0), batch.shape);
             Tensor eps = backend.of(toFloat(batch.eps), batch.shape);
             Tensor t = backend.of(batch.t, batch.b);
             Tensor abar = backend.of(ABAR, T);
             Tensor xt = backend.zeros(batch.shape)) {
            Ops.ddpmAddNoise(x0, eps, t, abar, xt);
            return xt.toFloatArray();
        }
    }

    private static float[] runDdpm(Backend backend, Batch batch, Prediction prediction, boolean clip, float clipRange,
                                   float[] noise) {
        try (Tensor model = backend.of(toFloat(batch.model), batch.shape);
             Tensor xt = backend.of(toFloat(batch.xt), batch.shape);
             Tensor t = backend.of(batch.t, batch.b);
             Tensor prevT = backend.of(batch.prevT, batch.b);
             Tensor abar = backend.of(ABAR, T);
             Tensor noiseT = noise == null ? null : backend.of(noise, batch.shape);
             Tensor out = backend.zeros(batch.shape)) {
            Ops.ddpmStep(model, xt, t, prevT, abar, prediction, clip, clipRange, noiseT, SEED, OFFSET, out);
            return out.toFloatArray();
        }
    }

    private static float[] runDdim(Backend backend, Batch batch, float finalAbar, float eta, Prediction prediction,
                                   boolean clip, float clipRange, boolean useClipped, float[] noise, long seed,
                                   long offset) {
        try (Tensor model = backend.of(toFloat(batch.model), batch.shape);
             Tensor xt = backend.of(toFloat(batch.xt), batch.shape);
             Tensor t = backend.of(batch.t, batch.b);
             Tensor prevT = backend.of(batch.prevT, batch.b);
             Tensor abar = backend.of(ABAR, T);
             Tensor noiseT = noise == null ? null : backend.of(noise, batch.shape);
             Tensor out = backend.zeros(batch.shape)) {
            Ops.ddimStep(model, xt, t, prevT, abar, finalAbar, eta, prediction, clip, clipRange, useClipped, noiseT,
                    seed, offset, out);
            return out.toFloatArray();
        }
    }
}
