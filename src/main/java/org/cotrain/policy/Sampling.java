package org.cotrain.policy;

/**
 * How a policy samples action chunks: the scheduler, its number of denoising steps, (DDIM) eta and the
 * classifier-free guidance weight w. DDPM with the config's num_inference_steps is Diffusion Policy's default; DDIM
 * with fewer steps is faster. w = 1 is the plain conditional sample; any other w samples with
 * eps = eps_null + w (eps_cond - eps_null), both predictions in one batched denoiser call
 * ({@link org.cotrain.diffusion.GuidedDenoiser}), e.g. {@code Sampling.ddim(16).guidance(2)}.
 */
public record Sampling(Kind kind, int steps, float eta, float guidance) {
    public enum Kind { DDPM, DDIM }

    public Sampling {
        if (!(guidance >= 0) || Float.isInfinite(guidance)) {
            throw new IllegalArgumentException("guidance weight must be finite and >= 0, got " + guidance);
        }
    }

    /** Without guidance (w = 1). */
    public Sampling(Kind kind, int steps, float eta) {
        this(kind, steps, eta, 1f);
    }

    public static Sampling ddpm(int steps) {
        return new Sampling(Kind.DDPM, steps, 0f);
    }

    public static Sampling ddim(int steps) {
        return new Sampling(Kind.DDIM, steps, 0f);
    }

    /** The same sampler with guidance weight w (1 = none, 0 = the prior). */
    public Sampling guidance(double w) {
        return new Sampling(kind, steps, eta, (float) w);
    }

    /** Whether sampling combines a conditional and a null prediction (w != 1). */
    public boolean guided() {
        return guidance != 1f;
    }
}
