package org.cotrain.config;

/**
 * The options of Diffusion Policy's TransformerForDiffusion, with its argument names in the comments: a low-dim
 * config's policy.model section ({@link #read}), or an image config's denoiser keys directly under policy, as DP's
 * hybrid image policy takes them, with the sizes derived from task.shape_meta ({@link #readImage}). The one home of
 * the denoiser's config: the reader checks each key against the config, the constructor the model's invariants.
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

    /** The same denoiser with another condition width (domain conditioning adds a column per dataset). */
    public TransformerForDiffusionConfig withCondDim(int width) {
        return new TransformerForDiffusionConfig(inputDim, outputDim, horizon, nObsSteps, width, nLayer, nHead, nEmb,
                pDropEmb, pDropAttn, causalAttn, timeAsCond, obsAsCond, nCondLayers);
    }

    static TransformerForDiffusionConfig read(ConfigReader r, int horizon, int nObsSteps, int obsDim, int actionDim, boolean obsAsCond) {
        String p = "policy.model.";
        int inputDim = r.integer(p + "input_dim", 1);
        r.same(p + "input_dim", inputDim, obsAsCond ? "action_dim" : "obs_dim + action_dim",
                obsAsCond ? actionDim : obsDim + actionDim);
        int outputDim = r.integer(p + "output_dim", 1);
        r.same(p + "output_dim", outputDim, p + "input_dim", inputDim);
        int modelHorizon = r.integer(p + "horizon", 1);
        r.same(p + "horizon", modelHorizon, "horizon", horizon);
        int modelObsSteps = r.integer(p + "n_obs_steps", 1);
        r.same(p + "n_obs_steps", modelObsSteps, "n_obs_steps", nObsSteps);
        int condDim = r.integer(p + "cond_dim", 0);
        r.same(p + "cond_dim", condDim, obsAsCond ? "obs_dim" : "0 (obs_as_cond is false)", obsAsCond ? obsDim : 0);
        Denoiser t = readDenoiser(r, p, obsAsCond);
        return new TransformerForDiffusionConfig(inputDim, outputDim, modelHorizon, modelObsSteps, condDim, t.nLayer(), t.nHead(),
                t.nEmb(), t.pDropEmb(), t.pDropAttn(), t.causalAttn(), t.timeAsCond(), obsAsCond, t.nCondLayers());
    }

    /**
     * An image config's denoiser (DP's DiffusionTransformerHybridImagePolicy builds it): input_dim = output_dim =
     * action_dim, cond_dim = the observation feature width (64 per camera + the low-dim keys), the rest from
     * policy.n_layer, policy.n_head, ... .
     */
    static TransformerForDiffusionConfig readImage(ConfigReader r, int horizon, int nObsSteps, int actionDim, int featureDim,
                                 boolean obsAsCond) {
        Denoiser t = readDenoiser(r, "policy.", obsAsCond);
        return new TransformerForDiffusionConfig(actionDim, actionDim, horizon, nObsSteps, obsAsCond ? featureDim : 0, t.nLayer(),
                t.nHead(), t.nEmb(), t.pDropEmb(), t.pDropAttn(), t.causalAttn(), t.timeAsCond(), obsAsCond,
                t.nCondLayers());
    }

    /** The transformer's own keys, under policy.model. (low-dim) or policy. (image) as DP's two configs put them. */
    private record Denoiser(int nLayer, int nHead, int nEmb, float pDropEmb, float pDropAttn, boolean causalAttn,
                            boolean timeAsCond, int nCondLayers) {}

    private static Denoiser readDenoiser(ConfigReader r, String p, boolean obsAsCond) {
        int nLayer = r.integer(p + "n_layer", 1);
        int nCondLayers = r.integer(p + "n_cond_layers", 0);
        int nHead = r.integer(p + "n_head", 1);
        int nEmb = r.integer(p + "n_emb", 1);
        if (nEmb % nHead != 0) {
            throw r.invalid(p + "n_emb", "a multiple of " + p + "n_head (" + nHead + ")", (long) nEmb);
        }
        if (nEmb < 4 || nEmb % 2 != 0) {
            throw r.invalid(p + "n_emb", "even and >= 4 (the sinusoidal step embedding)", (long) nEmb);
        }
        float pDropEmb = (float) r.number(p + "p_drop_emb", 0, true, 1, false);
        float pDropAttn = (float) r.number(p + "p_drop_attn", 0, true, 1, false);
        boolean causalAttn = r.bool(p + "causal_attn");
        boolean timeAsCond = r.bool(p + "time_as_cond");
        boolean modelObsAsCond = r.bool(p + "obs_as_cond");
        r.same(p + "obs_as_cond", modelObsAsCond, "obs_as_cond", obsAsCond);
        if (obsAsCond && !timeAsCond) {
            // As in DP: without time_as_cond there are no condition tokens to put the observations in.
            throw r.invalid(p + "time_as_cond", "true when obs_as_cond is true", false);
        }
        return new Denoiser(nLayer, nHead, nEmb, pDropEmb, pDropAttn, causalAttn, timeAsCond, nCondLayers);
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
