package org.cotrain.policy;

/**
 * The options of Diffusion Policy's TransformerForDiffusion, with its argument names in the comments.
 *
 * <p>As in DP, obs_as_cond means cond_dim > 0 (the two must agree here), observation conditioning needs
 * time_as_cond, and time_as_cond = false selects the BERT-style variant: the diffusion-step token is prepended to
 * the action tokens of a TransformerEncoder of n_layer layers, with no condition encoder and no decoder.
 *
 * @param inputDim    input_dim: features of each token of the noisy sample (Da for an action-only trajectory)
 * @param outputDim   output_dim
 * @param horizon     horizon: sample tokens
 * @param nObsSteps   n_obs_steps: observation tokens of the condition (used when obsAsCond)
 * @param condDim     cond_dim: features of each observation token, 0 for none
 * @param nLayer      n_layer: decoder layers (encoder layers in the BERT-style variant)
 * @param nHead       n_head
 * @param nEmb        n_emb
 * @param pDropEmb    p_drop_emb: dropout on the token embeddings
 * @param pDropAttn   p_drop_attn: dropout inside the transformer layers (attention weights, FFN, residuals)
 * @param causalAttn  causal_attn: causal self-attention, and the memory mask t >= s - 1 with observation tokens
 * @param timeAsCond  time_as_cond: the diffusion step is a condition token (DP's transformer policies use true)
 * @param obsAsCond   obs_as_cond: the observations are condition tokens
 * @param nCondLayers n_cond_layers: 0 for the token-wise MLP condition encoder, else TransformerEncoder layers
 */
public record TransformerForDiffusionConfig(int inputDim, int outputDim, int horizon, int nObsSteps, int condDim,
                                            int nLayer, int nHead, int nEmb, float pDropEmb, float pDropAttn,
                                            boolean causalAttn, boolean timeAsCond, boolean obsAsCond,
                                            int nCondLayers) {
    public TransformerForDiffusionConfig {
        positive("input_dim", inputDim);
        positive("output_dim", outputDim);
        positive("horizon", horizon);
        positive("n_layer", nLayer);
        positive("n_head", nHead);
        positive("n_emb", nEmb);
        if (nEmb % nHead != 0) {
            throw new IllegalArgumentException("n_emb " + nEmb + " is not divisible by n_head " + nHead);
        }
        if (nEmb < 4 || nEmb % 2 != 0) {
            throw new IllegalArgumentException("n_emb must be even and >= 4 (sinusoidal step embedding), got "
                    + nEmb);
        }
        probability("p_drop_emb", pDropEmb);
        probability("p_drop_attn", pDropAttn);
        if (condDim < 0) {
            throw new IllegalArgumentException("cond_dim must be >= 0, got " + condDim);
        }
        if (nCondLayers < 0) {
            throw new IllegalArgumentException("n_cond_layers must be >= 0, got " + nCondLayers);
        }
        if (obsAsCond != (condDim > 0)) {
            throw new IllegalArgumentException("obs_as_cond=" + obsAsCond + " disagrees with cond_dim=" + condDim
                    + ": Diffusion Policy conditions on observations exactly when cond_dim > 0");
        }
        if (obsAsCond && !timeAsCond) {
            throw new IllegalArgumentException("obs_as_cond needs time_as_cond=true (as in Diffusion Policy)");
        }
        if (obsAsCond) {
            positive("n_obs_steps", nObsSteps);
        }
    }

    /** The tokens of the trunk: horizon, plus the step token in the BERT-style variant (DP's T). */
    public int tokens() {
        return timeAsCond ? horizon : horizon + 1;
    }

    /** Condition tokens: the step, then n_obs_steps observations when obsAsCond; 0 in the BERT variant (DP's T_cond). */
    public int condTokens() {
        if (!timeAsCond) {
            return 0;
        }
        return 1 + (obsAsCond ? nObsSteps : 0);
    }

    /** Whether the cross-attention gets DP's memory_mask (t >= s - 1): causal with observation tokens. */
    public boolean hasMemoryMask() {
        return causalAttn && timeAsCond && obsAsCond;
    }

    private static void positive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }

    private static void probability(String name, float p) {
        if (!(p >= 0f && p < 1f)) {
            throw new IllegalArgumentException(name + " must be in [0, 1), got " + p);
        }
    }
}
