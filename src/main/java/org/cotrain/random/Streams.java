package org.cotrain.random;

/**
 * The named random streams of a run. Every draw of a training run is Philox at (key, counter) with a key derived
 * here from the run's seed, the stream's name and (for per-step streams) the step, so that step k's timesteps,
 * noise and dropout masks are a pure function of (seed, k): a run resumed at step k draws exactly what the
 * uninterrupted run drew, whatever the backend. The data stream (batch k's windows) is keyed in
 * {@code MixtureDataset} the same way.
 */
public final class Streams {
    /** Diffusion timesteps of the training batches. */
    public static final long TIMESTEPS = 0x54494D45L;  // "TIME"
    /** Noise added to the training batches. */
    public static final long NOISE = 0x4E4F4953L;      // "NOIS"
    /** Observation noise of the training batches (cotrain.obs_noise_std), per batch. */
    public static final long OBS_NOISE = 0x4F42534EL;  // "OBSN"
    /**
     * Condition dropout of classifier-free guidance (cotrain.guidance.p_uncond): which training samples of batch k get
     * the null condition, per batch.
     */
    public static final long UNCOND = 0x554E434EL;     // "UNCN"
    /** Ambient diffusion: the noise taking a corrupt sample's observation x_{t_n} to x_t. */
    public static final long AMBIENT_NOISE = 0x414D4249L; // "AMBI"
    /** The noise-level classifier of ambient diffusion: its initialisation, batches, steps and noise. */
    public static final long NOISE_CLASSIFIER = 0x4E4C434CL; // "NLCL"
    /** Random crops of the image encoders' frames (training; evaluation without eval_fixed_crop). */
    public static final long CROP = 0x43524F50L;       // "CROP"
    /** Dropout masks of the training forward passes. */
    public static final long DROPOUT = 0x44524F50L;    // "DROP"
    /** Noise of the sampling loop. */
    public static final long SAMPLING = 0x53414D50L;   // "SAMP"
    /** Timesteps and noise of the validation batches (the same at every validation, so losses compare). */
    public static final long VALIDATION = 0x56414C49L; // "VALI"
    /** Train/validation split of a file without /mask/valid. */
    public static final long SPLIT = 0x53504C49L;      // "SPLI"
    /** Weight initialisation. */
    public static final long INIT = 0x494E4954L;       // "INIT"

    private Streams() {}

    /** The Philox key of a stream at a step: splitmix64 over (seed, stream, step), so nearby seeds do not collide. */
    public static long key(long seed, long stream, long step) {
        return mix(mix(mix(seed) ^ stream) ^ step);
    }

    /** The splitmix64 finaliser. */
    static long mix(long z) {
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
