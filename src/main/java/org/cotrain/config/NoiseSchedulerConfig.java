package org.cotrain.config;

import java.util.LinkedHashMap;
import java.util.Map;
import org.cotrain.diffusion.BetaSchedule;
import org.cotrain.ops.Prediction;

/**
 * policy.noise_scheduler: the DDPM training schedule, diffusers' DDPMScheduler arguments.
 *
 * @param numTrainTimesteps diffusion steps N
 * @param betaStart         first beta of the linear schedules, in (0, 1)
 * @param betaEnd           last beta of the linear schedules, in (0, 1)
 * @param betaSchedule      how the betas grow
 * @param varianceType      the reverse-step variance; "fixed_small", the one the DDPM kernels implement
 * @param clipSample        clip the predicted x0 to [-1, 1] when sampling
 * @param predictionType    what the denoiser predicts: the noise (epsilon) or x0 (sample)
 */
public record NoiseSchedulerConfig(int numTrainTimesteps, double betaStart, double betaEnd, BetaSchedule betaSchedule,
                                   String varianceType, boolean clipSample, Prediction predictionType) {

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
        String varianceType = r.choice(p + "variance_type", Map.of("fixed_small", "fixed_small"));
        boolean clipSample = r.bool(p + "clip_sample");
        Map<String, Prediction> predictions = new LinkedHashMap<>();
        for (Prediction prediction : Prediction.values()) {
            predictions.put(prediction.configName(), prediction);
        }
        Prediction predictionType = r.choice(p + "prediction_type", predictions);
        return new NoiseSchedulerConfig(numTrainTimesteps, betaStart, betaEnd, betaSchedule, varianceType, clipSample,
                predictionType);
    }
}
