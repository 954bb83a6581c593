package org.cotrain.config;

import java.util.LinkedHashMap;
import java.util.Map;
import org.cotrain.diffusion.BetaSchedule;
import org.cotrain.diffusion.NoiseSchedulerConfig;
import org.cotrain.ops.Prediction;

/**
 * Reads policy.noise_scheduler (diffusers' DDPMScheduler arguments) into the diffusion package's
 * {@link NoiseSchedulerConfig}. The DDIM-only settings Diffusion Policy's low-dim configs do not have take DP's DDIM
 * values (set_alpha_to_one true, steps_offset 0), and clip_sample_range its fixed 1.0.
 */
final class NoiseSchedulerReader {
    private NoiseSchedulerReader() {}

    static NoiseSchedulerConfig read(ConfigReader r) {
        String p = "policy.noise_scheduler.";
        int numTrainTimesteps = r.integer(p + "num_train_timesteps", 1);
        double betaStart = r.number(p + "beta_start", 0, false, 1, false);
        double betaEnd = r.number(p + "beta_end", 0, false, 1, false);
        Map<String, BetaSchedule> schedules = new LinkedHashMap<>();
        for (BetaSchedule schedule : BetaSchedule.values()) {
            schedules.put(schedule.configName(), schedule);
        }
        BetaSchedule betaSchedule = r.choice(p + "beta_schedule", schedules);
        String varianceType = r.choice(p + "variance_type",
                Map.of(NoiseSchedulerConfig.FIXED_SMALL, NoiseSchedulerConfig.FIXED_SMALL));
        boolean clipSample = r.bool(p + "clip_sample");
        Map<String, Prediction> predictions = new LinkedHashMap<>();
        for (Prediction prediction : Prediction.values()) {
            predictions.put(prediction.configName(), prediction);
        }
        Prediction predictionType = r.choice(p + "prediction_type", predictions);
        return new NoiseSchedulerConfig(numTrainTimesteps, betaStart, betaEnd, betaSchedule, varianceType, clipSample,
                1.0f, predictionType, true, 0);
    }
}
