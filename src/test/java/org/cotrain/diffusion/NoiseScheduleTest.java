package org.cotrain.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cotrain.ops.OpTesting;
import org.junit.jupiter.api.Test;

/**
 * The schedule tables against PyTorch (the fixture of tools/pytorch/noise_schedule_fixture.py, T = 100) and against
 * the float64 closed forms.
 */
class NoiseScheduleTest {
    private static final double BETA_START = 0.0001;
    private static final double BETA_END = 0.02;

    private static NoiseSchedule schedule(BetaSchedule s, int t) {
        return NoiseSchedule.create(s, t, BETA_START, BETA_END);
    }

    /** Largest distance in units in the last place between two float arrays of one sign. */
    private static int maxUlps(float[] a, float[] b) {
        assertEquals(a.length, b.length, "length");
        int worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(Float.floatToIntBits(a[i]) - Float.floatToIntBits(b[i])));
        }
        return worst;
    }

    @Test
    void squaredCosCapV2EqualsPyTorchBitForBit() {
        NoiseSchedule s = schedule(BetaSchedule.SQUAREDCOS_CAP_V2, ScheduleFixture.T);
        assertArrayEquals(ScheduleFixture.floats("betas/squaredcos_cap_v2"), s.betas());
        assertArrayEquals(ScheduleFixture.floats("alphas_cumprod/squaredcos_cap_v2"), s.alphasCumprod());
    }

    @Test
    void linearSchedulesMatchPyTorchWithinOneUlpOfAlphasCumprod() {
        for (BetaSchedule b : new BetaSchedule[] {BetaSchedule.LINEAR, BetaSchedule.SCALED_LINEAR}) {
            NoiseSchedule s = schedule(b, ScheduleFixture.T);
            float[] torchBetas = ScheduleFixture.floats("betas/" + b.configName());
            float[] torchAbar = ScheduleFixture.floats("alphas_cumprod/" + b.configName());
            // PyTorch 1.13's vectorised linspace rounds a few betas differently from the scalar formula (see
            // NoiseSchedule); abar, the table the kernels use, stays within one ulp.
            assertTrue(maxUlps(s.alphasCumprod(), torchAbar) <= 1, b + " alphas_cumprod: "
                    + maxUlps(s.alphasCumprod(), torchAbar) + " ulps from PyTorch");
            assertTrue(maxUlps(s.betas(), torchBetas) <= 8, b + " betas: " + maxUlps(s.betas(), torchBetas)
                    + " ulps from PyTorch");
            assertEquals(torchBetas[0], s.betas()[0], b + " first beta");
            assertEquals(torchBetas[ScheduleFixture.T - 1], s.betas()[ScheduleFixture.T - 1], b + " last beta");
        }
    }

    /** The float64 betas of each schedule, straight from its definition. (T) */
    private static double[] closedFormBetas(BetaSchedule s, int t) {
        double[] betas = new double[t];
        for (int i = 0; i < t; i++) {
            double u = (double) i / (t - 1);
            switch (s) {
                case LINEAR:
                    betas[i] = BETA_START + (BETA_END - BETA_START) * u;
                    break;
                case SCALED_LINEAR:
                    double r = Math.sqrt(BETA_START) + (Math.sqrt(BETA_END) - Math.sqrt(BETA_START)) * u;
                    betas[i] = r * r;
                    break;
                default:
                    betas[i] = Math.min(1 - cosBar((i + 1.0) / t) / cosBar((double) i / t), 0.999);
            }
        }
        return betas;
    }

    private static double cosBar(double tau) {
        double c = Math.cos((tau + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    @Test
    void tablesMatchTheFloat64ClosedForm() {
        for (BetaSchedule b : BetaSchedule.values()) {
            for (int t : new int[] {100, 1000, 7}) {
                NoiseSchedule s = schedule(b, t);
                double[] betas = closedFormBetas(b, t);
                double[] alphas = new double[t];
                double[] abar = new double[t];
                double prod = 1;
                for (int i = 0; i < t; i++) {
                    alphas[i] = 1 - betas[i];
                    prod *= alphas[i];
                    abar[i] = prod;
                }
                String what = b.configName() + " T=" + t;
                OpTesting.assertClose(what + " betas", s.betas(), betas, 1e-6);
                OpTesting.assertClose(what + " alphas", s.alphas(), alphas, 1e-6);
                OpTesting.assertClose(what + " alphas_cumprod", s.alphasCumprod(), abar, 1e-6);
                // Element by element too, where the value is not tiny: the cumulative product of float32 alphas
                // drifts by a few 1e-7 relative over 1000 steps.
                float[] got = s.alphasCumprod();
                for (int i = 0; i < t; i++) {
                    if (abar[i] > 1e-3) {
                        double rel = Math.abs(got[i] - abar[i]) / abar[i];
                        assertTrue(rel < 2e-6, what + " alphas_cumprod[" + i + "] = " + got[i] + " vs " + abar[i]);
                    }
                }
                // The cosine schedule's product telescopes: abar[i] = alpha_bar((i + 1) / T) / alpha_bar(0), up to
                // the capped last beta.
                if (b == BetaSchedule.SQUAREDCOS_CAP_V2) {
                    for (int i = 0; i < t - 1; i++) {
                        double closed = cosBar((i + 1.0) / t) / cosBar(0);
                        if (closed > 1e-3) {
                            assertTrue(Math.abs(got[i] - closed) / closed < 2e-6, what + " telescoped abar[" + i
                                    + "]");
                        }
                    }
                    assertEquals(0.999f, s.betas()[t - 1], what + " capped last beta");
                }
            }
        }
    }

    @Test
    void alphasAreOneMinusBetasInFloat32() {
        NoiseSchedule s = schedule(BetaSchedule.SCALED_LINEAR, 50);
        float[] betas = s.betas();
        float[] alphas = s.alphas();
        for (int i = 0; i < betas.length; i++) {
            assertEquals(1f - betas[i], alphas[i]);
        }
        assertEquals(50, s.numTrainTimesteps());
        assertEquals(s.alphasCumprod()[7], s.alphaCumprod(7));
    }

    @Test
    void singleStepLinearScheduleIsBetaStart() {
        NoiseSchedule s = schedule(BetaSchedule.LINEAR, 1);
        assertArrayEquals(new float[] {(float) BETA_START}, s.betas());
    }

    @Test
    void badArgumentsAreNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> BetaSchedule.fromConfigName("cosine"));
        assertTrue(e.getMessage().contains("'cosine'") && e.getMessage().contains("squaredcos_cap_v2"),
                e.getMessage());
        assertEquals(BetaSchedule.SCALED_LINEAR, BetaSchedule.fromConfigName("scaled_linear"));
        e = assertThrows(IllegalArgumentException.class, () -> schedule(BetaSchedule.LINEAR, 0));
        assertTrue(e.getMessage().contains("num_train_timesteps"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> NoiseSchedule.create(BetaSchedule.LINEAR, 10, 0.0001, 1.5));
        assertTrue(e.getMessage().contains("beta_end"), e.getMessage());
    }
}
