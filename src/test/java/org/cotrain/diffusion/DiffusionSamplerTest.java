package org.cotrain.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.cotrain.ops.OpTesting;
import org.cotrain.ops.Prediction;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The sampling loop end to end with analytic denoisers: the ideal denoiser of a single point x* must bring DDPM and
 * DDIM (eta 0) samples onto x*, and the ideal denoiser of a two-point mixture must bring each sample onto one of the
 * two points (both taken, never their average), which only happens when the sampler's noise, timesteps and
 * previous timesteps are right.
 */
class DiffusionSamplerTest {
    private static final NoiseSchedulerConfig DP = NoiseSchedulerConfig.diffusionPolicy();
    private static final int H = 8;
    private static final int DA = 2;
    private static final int N = H * DA;
    private static final long SEED = 42L;

    /** A point of [-0.9, 0.9]^(H Da) (inside the clip range). */
    private static double[] point(long seed) {
        double[] p = OpTesting.uniform(seed, N, -0.9, 0.9);
        for (int i = 0; i < N; i++) {
            p[i] = (float) p[i];
        }
        return p;
    }

    private static double distance(float[] samples, int chain, double[] p) {
        double d = 0;
        for (int i = 0; i < N; i++) {
            d = Math.max(d, Math.abs(samples[chain * N + i] - p[i]));
        }
        return d;
    }

    private static NoiseScheduler scheduler(Backend backend, NoiseSchedulerConfig config, boolean ddim) {
        return ddim ? new DdimScheduler(backend, config) : new DdpmScheduler(backend, config);
    }

    /** Samples B chains with the mixture denoiser of the given points. */
    private static float[] sample(Backend backend, NoiseSchedulerConfig config, boolean ddim, int steps, int batch,
                                  long seed, double[]... points) {
        try (NoiseScheduler s = scheduler(backend, config, ddim);
             DiffusionSampler sampler = new DiffusionSampler(
                     new MixtureDenoiser(s.schedule().alphasCumprod(), config.predictionType(), points), s, steps,
                     batch, H, DA);
             Tensor out = backend.empty(batch, H, DA)) {
            sampler.sample(null, seed, 0, out);
            return out.toFloatArray();
        }
    }

    @Test
    void singlePointIsReachedByEveryScheduler() {
        Backend cpu = OpTesting.cpu();
        double[] target = point(1);
        int batch = 4;
        Object[][] cases = {
            {DP, false, 100}, {DP, false, 16}, {DP, true, 10}, {DP, true, 100},
            {DP.withPredictionType(Prediction.SAMPLE), false, 100},
            {DP.withPredictionType(Prediction.SAMPLE), true, 10},
            {DP.withBetaSchedule(BetaSchedule.LINEAR).withClipSample(false), false, 10},
            {DP.withBetaSchedule(BetaSchedule.SCALED_LINEAR), true, 20},
        };
        for (Object[] c : cases) {
            NoiseSchedulerConfig config = (NoiseSchedulerConfig) c[0];
            boolean ddim = (Boolean) c[1];
            int steps = (Integer) c[2];
            float[] samples = sample(cpu, config, ddim, steps, batch, SEED, target);
            for (int b = 0; b < batch; b++) {
                double d = distance(samples, b, target);
                assertTrue(d < 1e-4, (ddim ? "DDIM " : "DDPM ") + steps + " steps, " + config.predictionType()
                        + ", " + config.betaSchedule() + ": chain " + b + " ends " + d + " from x*");
            }
        }
    }

    /**
     * With the ideal single-point predictor, deterministic DDIM keeps the noise estimate of x_T all along, so each
     * step is exactly x_prev = sqrt(abar_prev) x* + sqrt(1 - abar_prev) eps_T with eps_T = (x_T - sqrt(abar_first)
     * x*) / sqrt(1 - abar_first); without set_alpha_to_one the last step ends at abar[0], not at x*.
     */
    @Test
    void ddimWithoutAlphaToOneEndsAtTheNoiseLevelOfStepZero() {
        Backend cpu = OpTesting.cpu();
        double[] target = point(10);
        int batch = 3;
        NoiseSchedulerConfig config = DP.withSetAlphaToOne(false).withBetaSchedule(BetaSchedule.SCALED_LINEAR);
        float[] samples = sample(cpu, config, true, 20, batch, SEED, target);
        float[] abar = config.schedule().alphasCumprod();
        double aFirst = abar[95]; // 20 steps of 100: 95, 90, ..., 0, then abar[0] again as the final abar
        double aFinal = abar[0];
        double[] expected = new double[batch * N];
        try (Tensor xT = cpu.empty(batch, H, DA)) {
            org.cotrain.ops.Ops.randNormal(xT, SEED, 0);
            float[] x = xT.toFloatArray();
            for (int j = 0; j < expected.length; j++) {
                double eps = (x[j] - Math.sqrt(aFirst) * target[j % N]) / Math.sqrt(1 - aFirst);
                expected[j] = Math.sqrt(aFinal) * target[j % N] + Math.sqrt(1 - aFinal) * eps;
            }
        }
        OpTesting.assertClose("DDIM final sample at abar[0]", samples, expected, 1e-5);
        assertTrue(distance(samples, 0, target) > 1e-3, "the noise of abar[0] is left");
    }

    @Test
    void twoPointMixtureLandsOnThePointsNotTheirAverage() {
        Backend cpu = OpTesting.cpu();
        double[] p1 = point(2);
        double[] p2 = new double[N];
        for (int i = 0; i < N; i++) {
            p2[i] = -p1[i];
        }
        int batch = 64;
        for (boolean ddim : new boolean[] {false, true}) {
            float[] samples = sample(cpu, DP, ddim, ddim ? 10 : 100, batch, SEED, p1, p2);
            int near1 = 0;
            int near2 = 0;
            for (int b = 0; b < batch; b++) {
                double d1 = distance(samples, b, p1);
                double d2 = distance(samples, b, p2);
                assertTrue(Math.min(d1, d2) < 1e-4, (ddim ? "DDIM" : "DDPM") + " chain " + b + " ends between "
                        + "the modes: " + d1 + " from p1, " + d2 + " from p2");
                near1 += d1 < 1e-4 ? 1 : 0;
                near2 += d2 < 1e-4 ? 1 : 0;
            }
            // 64 fair coin flips: fewer than 10 of either side has probability ~1e-7
            assertTrue(near1 >= 10 && near2 >= 10, (ddim ? "DDIM" : "DDPM") + " modes taken " + near1 + " / "
                    + near2 + " times");
        }
    }

    @Test
    void sameSeedSameSamplesOtherSeedOtherSamples() {
        Backend cpu = OpTesting.cpu();
        double[] p1 = point(3);
        double[] p2 = point(4);
        for (boolean ddim : new boolean[] {false, true}) {
            float[] a = sample(cpu, DP, ddim, 10, 16, SEED, p1, p2);
            float[] b = sample(cpu, DP, ddim, 10, 16, SEED, p1, p2);
            float[] c = sample(cpu, DP, ddim, 10, 16, SEED + 1, p1, p2);
            assertArrayEquals(a, b, "same seed");
            assertFalse(Arrays.equals(a, c), "another seed");
        }
    }

    @Test
    void theLoopHandsTheDenoiserItsTimestepsAndConditionAndAllocatesNothing() {
        Backend cpu = OpTesting.cpu();
        int batch = 3;
        try (DdpmScheduler ddpm = new DdpmScheduler(cpu, DP);
             Tensor cond = cpu.zeros(batch, 2, 5);
             Tensor out = cpu.empty(batch, H, DA)) {
            long[] live = new long[2];
            MixtureDenoiser inner = new MixtureDenoiser(ddpm.schedule().alphasCumprod(), Prediction.EPSILON,
                    point(5));
            Denoiser watching = (sample, timesteps, c, o) -> {
                long now = cpu.liveBytes();
                if (live[0] == 0) {
                    live[0] = now;
                }
                live[1] = Math.max(live[1], Math.abs(now - live[0]));
                inner.predict(sample, timesteps, c, o);
            };
            try (DiffusionSampler sampler = new DiffusionSampler(watching, ddpm, 16, batch, H, DA)) {
                sampler.sample(cond, SEED, 0, out);
                assertEquals(0, live[1], "bytes allocated between model calls");
                assertSame(cond, inner.condSeen);
                int[] expected = ddpm.timesteps(); // 96, 90, ..., 0: seventeen (diffusers 0.11.1)
                assertArrayEquals(expected, sampler.timesteps());
                assertEquals(expected.length, inner.timestepsSeen.size());
                for (int k = 0; k < expected.length; k++) {
                    float[] t = new float[batch];
                    Arrays.fill(t, expected[k]);
                    assertArrayEquals(t, inner.timestepsSeen.get(k), "timesteps of call " + k);
                }
                assertEquals((17 + 1L) * batch * N, sampler.randomCount());
                // x_T is the standard normal draw at (seed, offset)
                try (Tensor xT = cpu.empty(batch, H, DA)) {
                    org.cotrain.ops.Ops.randNormal(xT, SEED, 0);
                    assertArrayEquals(xT.toFloatArray(), inner.samplesSeen.get(0));
                }
            }
        }
    }

    @Test
    void inpaintingImposesTheConditionDataBeforeEveryModelCall() {
        Backend cpu = OpTesting.cpu();
        int batch = 2;
        double[] target = point(6);
        float[] mask = new float[batch * N];
        float[] data = new float[batch * N];
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < DA; i++) {
                mask[b * N + i] = 1f;        // the first action of the horizon is given
                data[b * N + i] = 0.25f * (b + 1) + i;
            }
            mask[b * N + N - 1] = 1f;        // and the last coordinate of the last one
            data[b * N + N - 1] = -3.5f;
        }
        try (DdimScheduler ddim = new DdimScheduler(cpu, DP);
             Tensor conditionData = cpu.of(data, batch, H, DA);
             Tensor conditionMask = cpu.of(mask, batch, H, DA);
             Tensor out = cpu.empty(batch, H, DA)) {
            MixtureDenoiser denoiser = new MixtureDenoiser(ddim.schedule().alphasCumprod(), Prediction.EPSILON,
                    target);
            try (DiffusionSampler sampler = new DiffusionSampler(denoiser, ddim, 10, batch, H, DA)) {
                sampler.conditionalSample(conditionData, conditionMask, null, SEED, 0, out);
                float[] result = out.toFloatArray();
                for (float[] seen : denoiser.samplesSeen) {
                    for (int j = 0; j < seen.length; j++) {
                        if (mask[j] == 1f) {
                            assertEquals(data[j], seen[j], "conditioned element " + j + " seen by the model");
                        }
                    }
                }
                for (int j = 0; j < result.length; j++) {
                    if (mask[j] == 1f) {
                        assertEquals(data[j], result[j], "conditioned element " + j + " of the result");
                    } else {
                        assertEquals(target[j % N], result[j], 1e-4, "free element " + j);
                    }
                }
                float[] bad = mask.clone();
                bad[3] = 0.5f;
                try (Tensor badMask = cpu.of(bad, batch, H, DA)) {
                    var e = assertThrows(IllegalArgumentException.class,
                            () -> sampler.conditionalSample(conditionData, badMask, null, SEED, 0, out));
                    assertTrue(e.getMessage().contains("condition_mask"), e.getMessage());
                }
            }
        }
    }

    @Test
    void wrongShapesAreNamedAndBuffersAreFreed() {
        Backend cpu = OpTesting.cpu();
        long before = cpu.liveBytes();
        try (DdpmScheduler ddpm = new DdpmScheduler(cpu, DP)) {
            long withTable = cpu.liveBytes();
            MixtureDenoiser denoiser = new MixtureDenoiser(ddpm.schedule().alphasCumprod(), Prediction.EPSILON,
                    point(7));
            DiffusionSampler sampler = new DiffusionSampler(denoiser, ddpm, 10, 2, H, DA);
            try (Tensor wrong = cpu.empty(2, H + 1, DA)) {
                var e = assertThrows(IllegalArgumentException.class, () -> sampler.sample(null, 1, 0, wrong));
                assertTrue(e.getMessage().contains("out") && e.getMessage().contains("(2, 8, 2)"), e.getMessage());
            }
            var e = assertThrows(IllegalArgumentException.class,
                    () -> new DiffusionSampler(denoiser, ddpm, 0, 2, H, DA));
            assertTrue(e.getMessage().contains("num_inference_steps"), e.getMessage());
            sampler.close();
            sampler.close();
            assertEquals(withTable, cpu.liveBytes(), "bytes held after the sampler is closed");
            try (Tensor out = cpu.empty(2, H, DA)) {
                assertThrows(IllegalStateException.class, () -> sampler.sample(null, 1, 0, out));
            }
        }
        assertEquals(before, cpu.liveBytes(), "bytes held after the scheduler is closed");
    }

    @Test
    void cudaSamplesEqualCpuSamples() {
        Backend cuda = OpTesting.cudaOrSkip();
        Backend cpu = OpTesting.cpu();
        double[] p1 = point(8);
        double[] p2 = point(9);
        for (boolean ddim : new boolean[] {false, true}) {
            float[] onCpu = sample(cpu, DP, ddim, ddim ? 10 : 100, 8, SEED, p1, p2);
            float[] onCuda = sample(cuda, DP, ddim, ddim ? 10 : 100, 8, SEED, p1, p2);
            OpTesting.assertClose((ddim ? "DDIM" : "DDPM") + " samples, CUDA vs CPU", onCuda, onCpu, 1e-4);
        }
    }
}
