package org.cotrain.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ScheduleTest {

    /**
     * Values of torch.optim.lr_scheduler.LambdaLR with diffusers' cosine lambda (warmup 500, 10000 steps, lr 1e-4),
     * read from optimizer.param_groups[0]['lr'] before each step (torch 1.13).
     */
    @Test
    void cosineWithWarmupMatchesTorch() {
        LrSchedule s = new LrSchedule("cosine", 1e-4, 500, 10000);
        long[] steps = {0, 1, 250, 499, 500, 501, 5250, 9999, 10000};
        double[] torch = {0.0, 2.0000000000000002e-07, 5e-05, 9.98e-05, 0.0001, 9.999999726603759e-05, 5e-05,
            2.7339624120159555e-12, 0.0};
        for (int i = 0; i < steps.length; i++) {
            assertEquals(torch[i], s.lr(steps[i]), 1e-18, "step " + steps[i]);
        }
        // Past the last step diffusers' cosine rises again (only negative factors are clamped); runs stop before.
        assertEquals(1e-4 * 0.5 * (1 + Math.cos(Math.PI * 19500 / 9500.0)), s.lr(20000), 1e-18);
    }

    @Test
    void otherSchedules() {
        assertEquals(1e-3, new LrSchedule("constant", 1e-3, 100, 1000).lr(0), 0);
        LrSchedule warm = new LrSchedule("constant_with_warmup", 1e-3, 100, 1000);
        assertEquals(0.5e-3, warm.lr(50), 1e-15);
        assertEquals(1e-3, warm.lr(999), 0);
        LrSchedule linear = new LrSchedule("linear", 1.0, 10, 110);
        assertEquals(0.5, linear.lr(5), 1e-15);
        assertEquals(1.0, linear.lr(10), 1e-15);
        assertEquals(0.5, linear.lr(60), 1e-15);
        assertEquals(0.0, linear.lr(110), 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new LrSchedule("cosine_with_restarts_typo", 1e-4, 0, 10));
        assertTrue(e.getMessage().contains("cosine_with_restarts_typo"), e.getMessage());
    }

    /** DP's EMAModel.get_decay: 0 for the first two updates, then 1 - (1 + s)^-0.75 capped at 0.9999. */
    @Test
    void emaDecayFollowsDiffusionPolicy() {
        EmaDecay ema = EmaDecay.diffusionPolicyDefaults();
        assertEquals(0.0, ema.decay(0), 0);
        assertEquals(0.0, ema.decay(1), 0);
        assertEquals(1 - Math.pow(2, -0.75), ema.decay(2), 1e-15);
        assertEquals(1 - Math.pow(1001, -0.75), ema.decay(1001), 1e-15);
        assertEquals(0.9999, ema.decay(100_000_000L), 0);
        double previous = 0;
        for (long k = 2; k < 100_000; k += 997) {
            assertTrue(ema.decay(k) > previous, "rises at " + k);
            previous = ema.decay(k);
        }
        EmaDecay delayed = new EmaDecay(10, 1.0, 0.75, 0.0, 0.9999);
        assertEquals(0.0, delayed.decay(11), 0);
        assertEquals(1 - Math.pow(2, -0.75), delayed.decay(12), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> new EmaDecay(0, 0, 0.75, 0, 0.9999));
    }
}
