package org.cotrain.diffusion;

import java.util.Arrays;
import java.util.Objects;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;

/**
 * The conditional sampling loop of Diffusion Policy (DiffusionTransformerLowdimPolicy.conditional_sample): draws
 * x_T ~ N(0, I), then for every inference timestep t asks the {@link Denoiser} for its prediction at t and takes one
 * reverse step of the {@link NoiseScheduler}; optionally with inpainting (condition_data where condition_mask is
 * set, before every model call and once more at the end).
 *
 * <p>A sampler is made for one batch shape (B, H, Da) = (batch, horizon, action_dim) and one number of inference
 * steps S, and allocates everything it needs up front: two (B, H, Da) trajectory buffers used in turn, the model
 * output, and, per inference step, the (B) timesteps as int32 (for the step kernel) and float32 (for the denoiser)
 * and the (B) previous timesteps. The loop itself allocates nothing and copies nothing between host and device, so
 * it can be replayed as a CUDA graph; the inpainting buffers are allocated at the first conditionalSample. Around
 * the loop the denoiser's sampling session (Denoiser.beginSampling, given the loop's timesteps) may prepare its
 * weights once per call: the CPU transformer packs them and computes the memory's keys and values ahead.
 *
 * <p>Randomness: x_T is drawn at (seed, offset + i) and the noise of step k (k = 0 .. S'-1, S' the number of
 * timesteps) at (seed, offset + (k + 1) n + i), n = B H Da: one call uses {@link #randomCount()} consecutive
 * Philox indices, so the same (seed, offset) gives the same samples, and a caller that samples repeatedly with one
 * seed advances offset by randomCount() per call.
 *
 * <p>The sampler sets the scheduler's timesteps (as conditional_sample does) but does not own the scheduler or the
 * denoiser; close() frees its own buffers only.
 */
public final class DiffusionSampler implements AutoCloseable {
    private final Denoiser denoiser;
    private final NoiseScheduler noiseScheduler;
    private final Backend backend;
    private final int batchSize;
    private final int horizon;
    private final int actionDim;
    private final int[] timesteps;          // (S') noisiest first
    private final float[] modelTimestepValues; // the same as the denoiser sees them, for its sampling session
    private final Tensor[] stepTimesteps;   // S' x (B) int32: t of step k, for the step kernel
    private final Tensor[] prevTimesteps;   // S' x (B) int32: where step k goes
    private final Tensor[] modelTimesteps;  // S' x (B) float32: t of step k, for the denoiser
    private final Tensor trajectoryA;       // (B, H, Da)
    private final Tensor trajectoryB;       // (B, H, Da)
    private final Tensor modelOutput;       // (B, H, Da)
    private Tensor keepMask;                // (B, H, Da) 1 - condition_mask, allocated at first inpainting
    private Tensor maskedConditionData;     // (B, H, Da) condition_data * condition_mask
    private boolean closed;

    /**
     * @param denoiser          the network (its prediction type must be the scheduler's prediction_type)
     * @param noiseScheduler    DDPM or DDIM; its timesteps are set to numInferenceSteps
     * @param numInferenceSteps num_inference_steps
     * @param batchSize         B
     * @param horizon           H
     * @param actionDim         Da
     */
    public DiffusionSampler(Denoiser denoiser, NoiseScheduler noiseScheduler, int numInferenceSteps, int batchSize,
                            int horizon, int actionDim) {
        this.denoiser = Objects.requireNonNull(denoiser, "denoiser");
        this.noiseScheduler = Objects.requireNonNull(noiseScheduler, "noiseScheduler");
        if (batchSize < 1 || horizon < 1 || actionDim < 1) {
            throw new IllegalArgumentException("sampler: batch, horizon and action_dim must be >= 1, got ("
                    + batchSize + ", " + horizon + ", " + actionDim + ")");
        }
        this.backend = noiseScheduler.backend();
        this.batchSize = batchSize;
        this.horizon = horizon;
        this.actionDim = actionDim;
        noiseScheduler.setTimesteps(numInferenceSteps);
        this.timesteps = noiseScheduler.timesteps();
        int steps = timesteps.length;
        this.modelTimestepValues = new float[steps];
        for (int k = 0; k < steps; k++) {
            modelTimestepValues[k] = timesteps[k];
        }
        this.stepTimesteps = new Tensor[steps];
        this.prevTimesteps = new Tensor[steps];
        this.modelTimesteps = new Tensor[steps];
        Tensor a = null;
        Tensor b = null;
        Tensor m = null;
        try {
            int[] tv = new int[batchSize];
            int[] pv = new int[batchSize];
            float[] fv = new float[batchSize];
            for (int k = 0; k < steps; k++) {
                Arrays.fill(tv, timesteps[k]);
                Arrays.fill(pv, noiseScheduler.previousTimestep(timesteps[k]));
                Arrays.fill(fv, timesteps[k]);
                stepTimesteps[k] = backend.of(tv, batchSize);
                prevTimesteps[k] = backend.of(pv, batchSize);
                modelTimesteps[k] = backend.of(fv, batchSize);
            }
            a = backend.empty(batchSize, horizon, actionDim);
            b = backend.empty(batchSize, horizon, actionDim);
            m = backend.empty(batchSize, horizon, actionDim);
        } catch (RuntimeException e) {
            closeAll(stepTimesteps);
            closeAll(prevTimesteps);
            closeAll(modelTimesteps);
            closeAll(a, b, m);
            throw e;
        }
        this.trajectoryA = a;
        this.trajectoryB = b;
        this.modelOutput = m;
    }

    public int batchSize() {
        return batchSize;
    }

    public int horizon() {
        return horizon;
    }

    public int actionDim() {
        return actionDim;
    }

    /** The inference timesteps of the loop, noisiest first. */
    public int[] timesteps() {
        return timesteps.clone();
    }

    /** The Philox indices one call uses from its offset: (number of timesteps + 1) B H Da. */
    public long randomCount() {
        return (timesteps.length + 1L) * batchSize * horizon * actionDim;
    }

    /**
     * Samples action chunks: the loop without inpainting (Diffusion Policy's low-dim transformer with the
     * observations as condition, whose condition_mask is all false).
     *
     * @param cond (B, To, cond_dim) the condition for the denoiser, or null
     * @param out  (B, H, Da) the samples
     */
    public void sample(Tensor cond, long seed, long offset, Tensor out) {
        run(null, cond, seed, offset, out);
    }

    /**
     * Samples with inpainting: where conditionMask is 1 the trajectory is overwritten with conditionData before
     * every model call and after the last step (Diffusion Policy's conditional_sample).
     *
     * @param conditionData (B, H, Da) the values to impose
     * @param conditionMask (B, H, Da) float32, 1 where conditionData is imposed and 0 elsewhere
     * @param cond          (B, To, cond_dim) the condition for the denoiser, or null
     * @param out           (B, H, Da) the samples
     */
    public void conditionalSample(Tensor conditionData, Tensor conditionMask, Tensor cond, long seed, long offset,
                                  Tensor out) {
        checkTrajectoryShape("condition_data", conditionData);
        checkTrajectoryShape("condition_mask", conditionMask);
        float[] mask = conditionMask.toFloatArray();
        for (int i = 0; i < mask.length; i++) {
            if (mask[i] != 0f && mask[i] != 1f) {
                throw new IllegalArgumentException("sampler: condition_mask must hold 0 or 1, element " + i + " is "
                        + mask[i]);
            }
        }
        if (keepMask == null) {
            keepMask = backend.empty(batchSize, horizon, actionDim);
            maskedConditionData = backend.empty(batchSize, horizon, actionDim);
        }
        // x <- x * (1 - mask) + data * mask is exact for a 0/1 mask: x * 0 + d = d and x * 1 + 0 = x.
        Ops.fill(keepMask, 1f);
        Ops.axpby(keepMask, conditionMask, keepMask, 1f, -1f);
        Ops.mul(conditionData, conditionMask, maskedConditionData);
        run(keepMask, cond, seed, offset, out);
    }

    /** The loop; keep is null without inpainting. */
    private void run(Tensor keep, Tensor cond, long seed, long offset, Tensor out) {
        checkOpen();
        checkTrajectoryShape("out", out);
        long n = (long) batchSize * horizon * actionDim;
        Tensor x = trajectoryA;     // x_t, (B, H, Da)
        Tensor next = trajectoryB;  // x_prev, (B, H, Da)
        Ops.randNormal(x, seed, offset);
        try (Denoiser.Session ignored = denoiser.beginSampling(modelTimestepValues)) {
            for (int k = 0; k < timesteps.length; k++) {
                if (keep != null) {
                    applyCondition(keep, x);
                }
                denoiser.predict(x, modelTimesteps[k], cond, modelOutput);
                noiseScheduler.step(modelOutput, stepTimesteps[k], prevTimesteps[k], x, null, seed,
                        offset + (k + 1L) * n, next);
                Tensor swap = x;
                x = next;
                next = swap;
            }
        }
        if (keep != null) {
            applyCondition(keep, x);
        }
        backend.copy(x, out);
    }

    /** x = x * keep + condition_data * mask, in place. (B, H, Da) */
    private void applyCondition(Tensor keep, Tensor x) {
        Ops.mul(x, keep, x);
        Ops.add(x, maskedConditionData, x);
    }

    private void checkTrajectoryShape(String name, Tensor t) {
        Objects.requireNonNull(t, name);
        if (t.dtype() != DType.F32 || !t.hasShape(batchSize, horizon, actionDim)) {
            throw new IllegalArgumentException("sampler: " + name + " must be float32 "
                    + Tensor.shapeString(batchSize, horizon, actionDim) + " (batch, horizon, action_dim), got " + t);
        }
        if (t.backend() != backend) {
            throw new IllegalArgumentException("sampler: " + name + " is on " + t.backend().name()
                    + ", the scheduler on " + backend.name());
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("sampler used after close()");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeAll(stepTimesteps);
        closeAll(prevTimesteps);
        closeAll(modelTimesteps);
        closeAll(trajectoryA, trajectoryB, modelOutput, keepMask, maskedConditionData);
    }

    private static void closeAll(Tensor... tensors) {
        for (Tensor t : tensors) {
            if (t != null) {
                t.close();
            }
        }
    }
}
