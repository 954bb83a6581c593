package org.cotrain.diffusion;

import java.util.Objects;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * diffusers' DDPMScheduler as Diffusion Policy uses it (diffusers 0.11.1): variance_type fixed_small, epsilon or
 * sample prediction, optional clipping of the predicted x0, on {@link Ops#ddpmStep}.
 *
 * <p>Inference timesteps (set_timesteps): {@code arange(0, T, T // steps)[::-1]}, and a step from t goes to
 * {@code t - T // steps}. Note that when steps does not divide T this gives more than steps timesteps (T = 100,
 * steps = 16: 96, 90, ..., 0, seventeen of them), as diffusers 0.11.1 does. Until set_timesteps is called the
 * timesteps are all T of them, as diffusers' default.
 *
 * <p>The reverse step's variance is (1 - abar[prev_t]) / (1 - abar[t]) (1 - abar[t] / abar[prev_t]) (ddpm.h),
 * the form of later diffusers versions; diffusers 0.11.1 uses abar[t - 1] and betas[t] instead, which is the same
 * for num_inference_steps = T (Diffusion Policy's setting) up to float rounding of the table.
 */
public final class DdpmScheduler implements NoiseScheduler {
    private final NoiseSchedulerConfig config;
    private final NoiseSchedule schedule;
    private final Backend backend;
    private final Tensor alphasCumprod; // (T)
    private int numInferenceSteps;
    private int[] timesteps;

    /** A scheduler whose table lives on backend; close it to free the table. */
    public DdpmScheduler(Backend backend, NoiseSchedulerConfig config) {
        this.backend = Objects.requireNonNull(backend, "backend");
        this.config = Objects.requireNonNull(config, "config");
        this.schedule = config.schedule();
        this.alphasCumprod = backend.of(schedule.alphasCumprod(), schedule.numTrainTimesteps());
        setTimesteps(config.numTrainTimesteps());
    }

    @Override
    public NoiseSchedulerConfig config() {
        return config;
    }

    @Override
    public NoiseSchedule schedule() {
        return schedule;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public Tensor alphasCumprod() {
        return alphasCumprod;
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        int t = config.numTrainTimesteps();
        if (numInferenceSteps < 1 || numInferenceSteps > t) {
            throw new IllegalArgumentException("DDPM num_inference_steps must be in [1, num_train_timesteps = " + t
                    + "], got " + numInferenceSteps);
        }
        int stepRatio = t / numInferenceSteps;
        int count = (t + stepRatio - 1) / stepRatio; // len(arange(0, T, stepRatio))
        int[] ts = new int[count];
        for (int i = 0; i < count; i++) {
            ts[i] = (count - 1 - i) * stepRatio; // reversed: noisiest first
        }
        this.numInferenceSteps = numInferenceSteps;
        this.timesteps = ts;
    }

    @Override
    public int numInferenceSteps() {
        return numInferenceSteps;
    }

    @Override
    public int[] timesteps() {
        return timesteps.clone();
    }

    @Override
    public int previousTimestep(int t) {
        return t - config.numTrainTimesteps() / numInferenceSteps;
    }

    @Override
    public void step(Tensor modelOutput, Tensor timesteps, Tensor prevTimesteps, Tensor sample, Tensor noise,
                     long seed, long offset, Tensor prevSample) {
        Ops.ddpmStep(modelOutput, sample, timesteps, prevTimesteps, alphasCumprod, config.predictionType(),
                config.clipSample(), config.clipSampleRange(), noise, seed, offset, prevSample);
    }

    @Override
    public void close() {
        alphasCumprod.close();
    }
}
