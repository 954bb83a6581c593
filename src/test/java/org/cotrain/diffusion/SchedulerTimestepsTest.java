package org.cotrain.diffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cotrain.ops.OpTesting;
import org.cotrain.ops.Prediction;
import org.cotrain.tensor.Backend;
import org.junit.jupiter.api.Test;

/** set_timesteps and the previous timestep of both schedulers against diffusers' lists, and the config checks. */
class SchedulerTimestepsTest {
    private static final NoiseSchedulerConfig DP = NoiseSchedulerConfig.diffusionPolicy();

    @Test
    void ddpmTimestepsEqualDiffusers() {
        Backend cpu = OpTesting.cpu();
        try (DdpmScheduler ddpm = new DdpmScheduler(cpu, DP)) {
            // diffusers' default before set_timesteps: every training step, t - 1 before t
            assertArrayEquals(ScheduleFixture.ints("ddpm_timesteps/100"), ddpm.timesteps());
            assertEquals(41, ddpm.previousTimestep(42));
            for (int steps : new int[] {100, 10, 16}) {
                ddpm.setTimesteps(steps);
                assertArrayEquals(ScheduleFixture.ints("ddpm_timesteps/" + steps), ddpm.timesteps(), "steps " + steps);
                assertEquals(steps, ddpm.numInferenceSteps());
            }
            // 16 steps: ratio 100 // 16 = 6, seventeen timesteps 96 .. 0 (diffusers 0.11.1)
            assertEquals(17, ddpm.timesteps().length);
            assertEquals(90, ddpm.previousTimestep(96));
            assertEquals(-6, ddpm.previousTimestep(0));
            var e = assertThrows(IllegalArgumentException.class, () -> ddpm.setTimesteps(101));
            assertTrue(e.getMessage().contains("num_inference_steps"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> ddpm.setTimesteps(0));
        }
    }

    @Test
    void ddimTimestepsEqualDiffusers() {
        Backend cpu = OpTesting.cpu();
        for (int offset : new int[] {0, 1}) {
            try (DdimScheduler ddim = new DdimScheduler(cpu, DP.withStepsOffset(offset))) {
                var e = assertThrows(IllegalStateException.class, () -> ddim.previousTimestep(10));
                assertTrue(e.getMessage().contains("setTimesteps"), e.getMessage());
                for (int steps : new int[] {100, 10, 16}) {
                    if (offset == 1 && steps == 100) {
                        // 99 + 1 = 100 is past the table: diffusers would fail at its first step, we at once
                        var e2 = assertThrows(IllegalArgumentException.class, () -> ddim.setTimesteps(100));
                        assertTrue(e2.getMessage().contains("steps_offset"), e2.getMessage());
                        continue;
                    }
                    ddim.setTimesteps(steps);
                    assertArrayEquals(ScheduleFixture.ints("ddim_timesteps/" + steps + "/" + offset),
                            ddim.timesteps(), "steps " + steps + " offset " + offset);
                    assertEquals(ddim.timesteps()[1], ddim.previousTimestep(ddim.timesteps()[0]));
                }
            }
        }
    }

    @Test
    void ddimFinalAlphaCumprod() {
        Backend cpu = OpTesting.cpu();
        try (DdimScheduler one = new DdimScheduler(cpu, DP);
             DdimScheduler first = new DdimScheduler(cpu, DP.withSetAlphaToOne(false))) {
            assertEquals(1.0f, one.finalAlphaCumprod());
            assertEquals(first.schedule().alphaCumprod(0), first.finalAlphaCumprod());
        }
    }

    @Test
    void schedulersOwnTheirTable() {
        Backend cpu = OpTesting.cpu();
        long before = cpu.liveBytes();
        DdpmScheduler ddpm = new DdpmScheduler(cpu, DP);
        assertArrayEquals(ddpm.schedule().alphasCumprod(), ddpm.alphasCumprod().toFloatArray());
        assertEquals(before + 4L * 100, cpu.liveBytes());
        ddpm.close();
        ddpm.close();
        assertEquals(before, cpu.liveBytes());
        assertTrue(ddpm.alphasCumprod().isClosed());
    }

    @Test
    void unsupportedConfigValuesAreNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> new NoiseSchedulerConfig(100, 1e-4, 0.02,
                BetaSchedule.SQUAREDCOS_CAP_V2, "fixed_small_log", true, 1f, Prediction.EPSILON, true, 0));
        assertTrue(e.getMessage().contains("variance_type") && e.getMessage().contains("'fixed_small_log'"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> NoiseSchedulerConfig.predictionFromConfigName("v_prediction"));
        assertTrue(e.getMessage().contains("prediction_type") && e.getMessage().contains("'v_prediction'"),
                e.getMessage());
        assertEquals(Prediction.SAMPLE, NoiseSchedulerConfig.predictionFromConfigName("sample"));
        e = assertThrows(IllegalArgumentException.class, () -> DP.withNumTrainTimesteps(0));
        assertTrue(e.getMessage().contains("num_train_timesteps"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> DP.withStepsOffset(100));
        assertTrue(e.getMessage().contains("steps_offset"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new NoiseSchedulerConfig(100, 1e-4, 0.02,
                BetaSchedule.LINEAR, "fixed_small", true, 0f, Prediction.EPSILON, true, 0));
        assertTrue(e.getMessage().contains("clip_sample_range"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new DdimScheduler(OpTesting.cpu(), DP, -0.5f, false));
        assertTrue(e.getMessage().contains("eta"), e.getMessage());
    }
}
