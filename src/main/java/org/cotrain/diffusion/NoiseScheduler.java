package org.cotrain.diffusion;

import java.util.Arrays;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;

/**
 * A diffusion noise scheduler (Diffusion Policy's noise_scheduler): the forward process for training
 * ({@link #addNoise}) and one reverse step for sampling ({@link #step}), every chain of a batch at its own
 * timestep, on the batched kernels of ddpm.h. {@link DdpmScheduler} and {@link DdimScheduler} implement it.
 *
 * <p>A scheduler owns its alphas_cumprod table on its backend (closed by {@link #close()}). Its inference
 * timesteps are set by {@link #setTimesteps(int)}, as in diffusers; the explicit
 * {@link #step(Tensor, Tensor, Tensor, Tensor, Tensor, long, long, Tensor)} takes the previous timesteps as a
 * tensor and does not depend on them.
 */
public interface NoiseScheduler extends AutoCloseable {

    NoiseSchedulerConfig config();

    /** The host copy of the tables. */
    NoiseSchedule schedule();

    /** The backend that holds the table and runs the steps. */
    Backend backend();

    /** alphas_cumprod on the backend: the table the kernels read. (T) */
    Tensor alphasCumprod();

    default int numTrainTimesteps() {
        return config().numTrainTimesteps();
    }

    /** Sets the inference timesteps for numInferenceSteps reverse steps (diffusers' set_timesteps). */
    void setTimesteps(int numInferenceSteps);

    /** The number of inference steps last set. */
    int numInferenceSteps();

    /** A copy of the inference timesteps, first (noisiest) to last. */
    int[] timesteps();

    /** The timestep a reverse step from t goes to: t - T / num_inference_steps (negative after the last step). */
    int previousTimestep(int t);

    /**
     * The forward process: noisySamples = sqrt(abar[t]) originalSamples + sqrt(1 - abar[t]) noise, per sample.
     *
     * @param originalSamples (B, ...) clean samples x0
     * @param noise           (B, ...) standard normal noise
     * @param timesteps       (B) int32 in [0, T)
     * @param noisySamples    (B, ...) out
     */
    default void addNoise(Tensor originalSamples, Tensor noise, Tensor timesteps, Tensor noisySamples) {
        Ops.ddpmAddNoise(originalSamples, noise, timesteps, alphasCumprod(), noisySamples);
    }

    /**
     * One reverse step of every chain from timesteps[b] to prevTimesteps[b]. The step's noise is {@code noise}
     * when not null, else standard normals drawn at (seed, offset + element index).
     *
     * @param modelOutput   (B, ...) the denoiser's prediction (noise or x0, per prediction_type)
     * @param timesteps     (B) int32 in [0, T)
     * @param prevTimesteps (B) int32, each before its timestep (negative after the last step)
     * @param sample        (B, ...) x_t
     * @param noise         (B, ...) or null
     * @param prevSample    (B, ...) out: x_prev
     */
    void step(Tensor modelOutput, Tensor timesteps, Tensor prevTimesteps, Tensor sample, Tensor noise, long seed,
              long offset, Tensor prevSample);

    /**
     * One reverse step of every chain from timesteps[b] to {@link #previousTimestep}(timesteps[b]). Convenience:
     * the previous timesteps are computed on the host, so this copies the timesteps to the host and back and
     * allocates one (B) tensor; a sampling loop should precompute them and call the explicit form.
     */
    default void step(Tensor modelOutput, Tensor timesteps, Tensor sample, Tensor noise, long seed, long offset,
                      Tensor prevSample) {
        if (timesteps.dtype() != DType.I32 || timesteps.rank() != 1) {
            throw new IllegalArgumentException("step: timesteps must be (B) int32, got " + timesteps);
        }
        int[] t = timesteps.toIntArray();
        int[] prev = new int[t.length];
        for (int i = 0; i < t.length; i++) {
            prev[i] = previousTimestep(t[i]);
        }
        try (Tensor prevTimesteps = backend().of(prev, prev.length)) {
            step(modelOutput, timesteps, prevTimesteps, sample, noise, seed, offset, prevSample);
        }
    }

    /**
     * One reverse step of the whole batch from timestep t (diffusers' step with an int timestep). Convenience: it
     * allocates two (B) tensors.
     */
    default void step(Tensor modelOutput, int t, Tensor sample, Tensor noise, long seed, long offset,
                      Tensor prevSample) {
        int b = modelOutput.dim(0); // (B, ...)
        int[] tv = new int[b];
        int[] pv = new int[b];
        Arrays.fill(tv, t);
        Arrays.fill(pv, previousTimestep(t));
        try (Tensor timesteps = backend().of(tv, b); Tensor prevTimesteps = backend().of(pv, b)) {
            step(modelOutput, timesteps, prevTimesteps, sample, noise, seed, offset, prevSample);
        }
    }

    /** Frees the device table. Idempotent. */
    @Override
    void close();
}
