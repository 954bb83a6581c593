package org.cotrain.diffusion;

import java.util.Objects;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * diffusers' DDIMScheduler (0.11.1, as Diffusion Policy uses it): epsilon or sample prediction, optional clipping
 * of the predicted x0, eta, use_clipped_model_output, on {@link Ops#ddimStep}.
 *
 * <p>Inference timesteps (set_timesteps): {@code (arange(0, steps) * (T // steps)).round()[::-1] + steps_offset},
 * and a step from t goes to {@code t - T // steps}; where that is negative, abar of the previous step is
 * final_alpha_cumprod: 1 with set_alpha_to_one, else abar[0]. diffusers' step keyword arguments eta and
 * use_clipped_model_output are fixed per scheduler here (Diffusion Policy passes neither: eta 0).
 */
public final class DdimScheduler implements NoiseScheduler {
    private final NoiseSchedulerConfig config;
    private final NoiseSchedule schedule;
    private final Backend backend;
    private final float eta;
    private final boolean useClippedModelOutput;
    private final float finalAlphaCumprod;
    private final Tensor alphasCumprod; // (T)
    private int numInferenceSteps; // 0 until setTimesteps
    private int[] timesteps = new int[0];

    /** Deterministic DDIM (eta 0), as Diffusion Policy samples with it. */
    public DdimScheduler(Backend backend, NoiseSchedulerConfig config) {
        this(backend, config, 0f, false);
    }

    /**
     * @param eta                   the weight of the noise of each step (0: deterministic DDIM, 1: DDPM-like)
     * @param useClippedModelOutput recompute the noise estimate from the clipped x0
     */
    public DdimScheduler(Backend backend, NoiseSchedulerConfig config, float eta, boolean useClippedModelOutput) {
        this.backend = Objects.requireNonNull(backend, "backend");
        this.config = Objects.requireNonNull(config, "config");
        if (!(eta >= 0) || !Float.isFinite(eta)) {
            throw new IllegalArgumentException("DDIM eta must be >= 0, got " + eta);
        }
        this.eta = eta;
        this.useClippedModelOutput = useClippedModelOutput;
        this.schedule = config.schedule();
        this.finalAlphaCumprod = config.setAlphaToOne() ? 1.0f : schedule.alphaCumprod(0);
        this.alphasCumprod = backend.of(schedule.alphasCumprod(), schedule.numTrainTimesteps());
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

    public float eta() {
        return eta;
    }

    public boolean useClippedModelOutput() {
        return useClippedModelOutput;
    }

    /** abar before the first training step: 1 with set_alpha_to_one, else abar[0]. */
    public float finalAlphaCumprod() {
        return finalAlphaCumprod;
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        int t = config.numTrainTimesteps();
        if (numInferenceSteps < 1 || numInferenceSteps > t) {
            throw new IllegalArgumentException("DDIM num_inference_steps must be in [1, num_train_timesteps = " + t
                    + "], got " + numInferenceSteps);
        }
        int stepRatio = t / numInferenceSteps;
        int offset = config.stepsOffset();
        int first = (numInferenceSteps - 1) * stepRatio + offset;
        if (first >= t) {
            // diffusers would index alphas_cumprod[T] at the first step
            throw new IllegalArgumentException("DDIM with num_inference_steps " + numInferenceSteps
                    + " and steps_offset " + offset + " starts at timestep " + first
                    + ", past num_train_timesteps - 1 = " + (t - 1));
        }
        int[] ts = new int[numInferenceSteps];
        for (int i = 0; i < numInferenceSteps; i++) {
            ts[i] = (numInferenceSteps - 1 - i) * stepRatio + offset; // integers: round() changes nothing
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
        if (numInferenceSteps == 0) {
            throw new IllegalStateException("DDIM: call setTimesteps(num_inference_steps) before stepping");
        }
        return t - config.numTrainTimesteps() / numInferenceSteps;
    }

    @Override
    public void step(Tensor modelOutput, Tensor timesteps, Tensor prevTimesteps, Tensor sample, Tensor noise,
                     long seed, long offset, Tensor prevSample) {
        Ops.ddimStep(modelOutput, sample, timesteps, prevTimesteps, alphasCumprod, finalAlphaCumprod, eta,
                config.predictionType(), config.clipSample(), config.clipSampleRange(), useClippedModelOutput, noise,
                seed, offset, prevSample);
    }

    @Override
    public void close() {
        alphasCumprod.close();
    }
}
