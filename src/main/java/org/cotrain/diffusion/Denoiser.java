package org.cotrain.diffusion;

import org.cotrain.tensor.Tensor;

/**
 * A network that denoises action chunks: given noisy samples, their diffusion steps and the condition, it writes
 * its prediction (the noise or the clean sample, per the scheduler's prediction type). The samplers call it once per
 * step; {@code org.cotrain.policy.TransformerForDiffusion} is the Diffusion Policy implementation.
 */
public interface Denoiser {
    /**
     * @param sample    (B, H, Da) noisy action chunks
     * @param timesteps (B) diffusion steps, float32
     * @param cond      (B, To, cond_dim) observation features, or null for an unconditional model
     * @param out       (B, H, Da) the prediction
     */
    void predict(Tensor sample, Tensor timesteps, Tensor cond, Tensor out);

    /**
     * Opened by the samplers before the steps of one sampling call and closed after them. In between the weights do
     * not change, every {@link #predict} gets the same cond tensor with the same values, and the steps' timesteps
     * are among {@code timesteps} (the call's, noisiest first; null when unknown). So a denoiser may prepare what
     * depends on those alone once per call: TransformerForDiffusion packs its weights for the fused CPU layer and
     * computes the condition tokens' and the step tokens' keys and values ahead. The default prepares nothing.
     */
    default Session beginSampling(float[] timesteps) {
        return () -> { };
    }

    /** What {@link #beginSampling} holds open. */
    interface Session extends AutoCloseable {
        @Override
        void close();
    }
}
