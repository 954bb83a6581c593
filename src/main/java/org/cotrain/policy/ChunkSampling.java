package org.cotrain.policy;

import org.cotrain.diffusion.DdimScheduler;
import org.cotrain.diffusion.DdpmScheduler;
import org.cotrain.diffusion.DiffusionSampler;
import org.cotrain.diffusion.GuidedDenoiser;
import org.cotrain.diffusion.NoiseScheduler;
import org.cotrain.diffusion.NoiseSchedulerConfig;
import org.cotrain.random.Streams;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * The sampling side of a policy, shared by the low-dim and the image policy: the chosen {@link Sampling}, the seed of
 * the sampling noise (each call draws fresh noise: key (seed, SAMPLING, call number)), and a {@link DiffusionSampler}
 * kept for the last batch size. Conditions in, normalised action chunks out. A guided {@link Sampling} (w != 1) runs
 * the sampler on a {@link GuidedDenoiser} around the model, with the null condition the policy gave
 * ({@link #setNullCondition}); w = 1 runs it on the model itself, the unguided path.
 */
final class ChunkSampling implements AutoCloseable {
    private final Backend backend;
    private final TrainableDenoiser model;
    private final NoiseSchedulerConfig schedule;
    private final int horizon;
    private final int actionDim;
    private Sampling sampling;
    private NoiseScheduler scheduler;
    private DiffusionSampler sampler;
    private GuidedDenoiser guided;      // the sampler's denoiser when sampling is guided, else null
    private float[] nullKeep;           // (C) the null condition per column: c * keep + add; null = none
    private float[] nullAdd;            // (C)
    private long seed;
    private long calls;

    ChunkSampling(Backend backend, TrainableDenoiser model, NoiseSchedulerConfig schedule, int horizon,
                  int actionDim, int numInferenceSteps) {
        this.backend = backend;
        this.model = model;
        this.schedule = schedule;
        this.horizon = horizon;
        this.actionDim = actionDim;
        this.sampling = Sampling.ddpm(numInferenceSteps);
    }

    Sampling sampling() {
        return sampling;
    }

    /** Chooses the sampler: DDPM (steps dividing T as diffusers spaces them) or DDIM with any steps and eta. */
    void setSampling(Sampling s) {
        int t = schedule.numTrainTimesteps();
        if (s.steps() < 1 || s.steps() > t) {
            throw new IllegalArgumentException("sampling steps must be in [1, " + t + "], got " + s.steps());
        }
        if (s.guided() && nullKeep == null) {
            throw new IllegalArgumentException("guidance weight " + s.guidance() + ": this policy has no null"
                    + " condition to guide against (train it with cotrain.guidance.p_uncond > 0 or action-only data)");
        }
        closeSampler();
        this.sampling = s;
    }

    /**
     * The null condition of guided sampling, per condition column: c_null = c keep + add (see GuidedDenoiser); null
     * for a policy without one.
     */
    void setNullCondition(float[] keep, float[] add) {
        closeSampler();
        this.nullKeep = keep == null ? null : keep.clone();
        this.nullAdd = add == null ? null : add.clone();
    }

    /** The seed of the sampling noise; each later call draws fresh noise from it. */
    void setSeed(long s) {
        this.seed = s;
        this.calls = 0;
    }

    /** The key of the next call's randomness (and counts the call): e.g. for evaluation crops drawn alongside. */
    long nextKey() {
        return Streams.key(seed, Streams.SAMPLING, calls++);
    }

    /** cond (B, To, cond_dim) -> out (B, H, Da), normalised, with the noise of key {@link #nextKey()}. */
    void sample(Tensor cond, Tensor out, long key) {
        sampler(cond.dim(0)).sample(cond, key, 0, out);
    }

    private DiffusionSampler sampler(int batch) {
        if (sampler != null && sampler.batchSize() == batch) {
            return sampler;
        }
        closeSampler();
        scheduler = sampling.kind() == Sampling.Kind.DDPM ? new DdpmScheduler(backend, schedule)
                : new DdimScheduler(backend, schedule, sampling.eta(), false);
        if (sampling.guided()) {
            guided = new GuidedDenoiser(model, backend, sampling.guidance(), nullKeep, nullAdd);
        }
        sampler = new DiffusionSampler(guided != null ? guided : model, scheduler, sampling.steps(), batch, horizon,
                actionDim);
        return sampler;
    }

    private void closeSampler() {
        if (sampler != null) {
            sampler.close();
            sampler = null;
        }
        if (scheduler != null) {
            scheduler.close();
            scheduler = null;
        }
        if (guided != null) {
            guided.close();
            guided = null;
        }
    }

    @Override
    public void close() {
        closeSampler();
    }
}
