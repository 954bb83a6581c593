package org.cotrain.diffusion;

import org.cotrain.ops.Prediction;

/**
 * The noise_scheduler section of a Diffusion Policy config: the constructor arguments of diffusers'
 * DDPMScheduler and DDIMScheduler, under their config names. Checked on construction: a value we do not support
 * is an error that names the key and the value.
 *
 * @param numTrainTimesteps num_train_timesteps, T
 * @param betaStart         beta_start (linear and scaled_linear schedules)
 * @param betaEnd           beta_end (linear and scaled_linear schedules)
 * @param betaSchedule      beta_schedule
 * @param varianceType      variance_type: "fixed_small" only (DDPM; DDIM has no such key and ignores it)
 * @param clipSample        clip_sample: clamp the predicted x0 to [-clipSampleRange, clipSampleRange]
 * @param clipSampleRange   clip_sample_range (diffusers >= 0.13; 1.0 before, and in Diffusion Policy)
 * @param predictionType    prediction_type: what the denoiser predicts
 * @param setAlphaToOne     set_alpha_to_one (DDIM): abar before step 0 is 1, else abar[0]
 * @param stepsOffset       steps_offset (DDIM): added to every inference timestep
 */
public record NoiseSchedulerConfig(int numTrainTimesteps, double betaStart, double betaEnd, BetaSchedule betaSchedule,
                                   String varianceType, boolean clipSample, float clipSampleRange,
                                   Prediction predictionType, boolean setAlphaToOne, int stepsOffset) {

    /** The only variance_type the DDPM kernel implements. */
    public static final String FIXED_SMALL = "fixed_small";

    public NoiseSchedulerConfig {
        if (numTrainTimesteps < 1) {
            throw new IllegalArgumentException("noise_scheduler.num_train_timesteps must be >= 1, got "
                    + numTrainTimesteps);
        }
        if (betaSchedule == null) {
            throw new IllegalArgumentException("noise_scheduler.beta_schedule is missing");
        }
        if (!FIXED_SMALL.equals(varianceType)) {
            throw new IllegalArgumentException("noise_scheduler.variance_type '" + varianceType
                    + "' is not supported (only '" + FIXED_SMALL + "')");
        }
        if (!(clipSampleRange > 0) || !Float.isFinite(clipSampleRange)) {
            throw new IllegalArgumentException("noise_scheduler.clip_sample_range must be > 0, got "
                    + clipSampleRange);
        }
        if (predictionType == null) {
            throw new IllegalArgumentException("noise_scheduler.prediction_type is missing");
        }
        if (stepsOffset < 0 || stepsOffset >= numTrainTimesteps) {
            throw new IllegalArgumentException("noise_scheduler.steps_offset must be in [0, num_train_timesteps = "
                    + numTrainTimesteps + "), got " + stepsOffset);
        }
    }

    /**
     * The noise_scheduler of Diffusion Policy's low-dim transformer configs (e.g. push-T): DDPMScheduler with 100
     * steps, squaredcos_cap_v2, fixed_small, clip_sample, epsilon prediction. For DDIM, Diffusion Policy's DDIM
     * configs add set_alpha_to_one True and steps_offset 0, the values here.
     */
    public static NoiseSchedulerConfig diffusionPolicy() {
        return new NoiseSchedulerConfig(100, 0.0001, 0.02, BetaSchedule.SQUAREDCOS_CAP_V2, FIXED_SMALL, true, 1.0f,
                Prediction.EPSILON, true, 0);
    }

    /** prediction_type from its config name ("epsilon" or "sample"); others are an error naming the value. */
    public static Prediction predictionFromConfigName(String name) {
        for (Prediction p : Prediction.values()) {
            if (p.configName().equals(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException("noise_scheduler.prediction_type '" + name
                + "' is not supported (only 'epsilon' and 'sample')");
    }

    public NoiseSchedulerConfig withNumTrainTimesteps(int value) {
        return new NoiseSchedulerConfig(value, betaStart, betaEnd, betaSchedule, varianceType, clipSample,
                clipSampleRange, predictionType, setAlphaToOne, stepsOffset);
    }

    public NoiseSchedulerConfig withBetaSchedule(BetaSchedule value) {
        return new NoiseSchedulerConfig(numTrainTimesteps, betaStart, betaEnd, value, varianceType, clipSample,
                clipSampleRange, predictionType, setAlphaToOne, stepsOffset);
    }

    public NoiseSchedulerConfig withClipSample(boolean value) {
        return new NoiseSchedulerConfig(numTrainTimesteps, betaStart, betaEnd, betaSchedule, varianceType, value,
                clipSampleRange, predictionType, setAlphaToOne, stepsOffset);
    }

    public NoiseSchedulerConfig withPredictionType(Prediction value) {
        return new NoiseSchedulerConfig(numTrainTimesteps, betaStart, betaEnd, betaSchedule, varianceType,
                clipSample, clipSampleRange, value, setAlphaToOne, stepsOffset);
    }

    public NoiseSchedulerConfig withSetAlphaToOne(boolean value) {
        return new NoiseSchedulerConfig(numTrainTimesteps, betaStart, betaEnd, betaSchedule, varianceType,
                clipSample, clipSampleRange, predictionType, value, stepsOffset);
    }

    public NoiseSchedulerConfig withStepsOffset(int value) {
        return new NoiseSchedulerConfig(numTrainTimesteps, betaStart, betaEnd, betaSchedule, varianceType,
                clipSample, clipSampleRange, predictionType, setAlphaToOne, value);
    }

    /** The tables of this config's schedule. */
    public NoiseSchedule schedule() {
        return NoiseSchedule.create(betaSchedule, numTrainTimesteps, betaStart, betaEnd);
    }
}
