package org.cotrain.policy;

/**
 * How a policy samples action chunks: the scheduler, its number of denoising steps and (DDIM) eta. DDPM with the
 * config's num_inference_steps is Diffusion Policy's default; DDIM with fewer steps is faster.
 */
public record Sampling(Kind kind, int steps, float eta) {
    public enum Kind { DDPM, DDIM }

    public static Sampling ddpm(int steps) {
        return new Sampling(Kind.DDPM, steps, 0f);
    }

    public static Sampling ddim(int steps) {
        return new Sampling(Kind.DDIM, steps, 0f);
    }
}
