package org.cotrain.config;

/**
 * policy.model: the arguments of Diffusion Policy's TransformerForDiffusion (an image config has them directly under
 * policy, as DP's hybrid image policy takes them, and derives the sizes from task.shape_meta: {@link #readImage}).
 *
 * @param inputDim    width of a token of the denoised sequence: action_dim (obs_as_cond) or obs_dim + action_dim
 * @param outputDim   width of the prediction, = inputDim
 * @param horizon     sequence length H
 * @param nObsSteps   observation steps To, one condition token each (obs_as_cond)
 * @param condDim     width of an observation feature (obs_as_cond), else 0
 * @param nLayer      decoder layers
 * @param nHead       attention heads; divides nEmb
 * @param nEmb        model width
 * @param pDropEmb    dropout on the token embeddings, in [0, 1)
 * @param pDropAttn   dropout in the attention and the layers, in [0, 1)
 * @param causalAttn  causal self-attention mask, and the cross-attention mask t >= s - 1
 * @param timeAsCond  the diffusion step is a condition token (else an input token, encoder-only "BERT" variant)
 * @param obsAsCond   observations are condition tokens (else they are inpainted into the sequence)
 * @param nCondLayers 0: token-wise MLP condition encoder; > 0: a transformer encoder with that many layers
 */
public record ModelConfig(int inputDim, int outputDim, int horizon, int nObsSteps, int condDim, int nLayer,
                          int nHead, int nEmb, double pDropEmb, double pDropAttn, boolean causalAttn,
                          boolean timeAsCond, boolean obsAsCond, int nCondLayers) {

    static ModelConfig read(ConfigReader r, int horizon, int nObsSteps, int obsDim, int actionDim, boolean obsAsCond) {
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
        return new ModelConfig(inputDim, outputDim, modelHorizon, modelObsSteps, condDim, t.nLayer(), t.nHead(),
                t.nEmb(), t.pDropEmb(), t.pDropAttn(), t.causalAttn(), t.timeAsCond(), obsAsCond, t.nCondLayers());
    }

    /**
     * An image config's denoiser (DP's DiffusionTransformerHybridImagePolicy builds it): input_dim = output_dim =
     * action_dim, cond_dim = the observation feature width (64 per camera + the low-dim keys), the rest from
     * policy.n_layer, policy.n_head, ... .
     */
    static ModelConfig readImage(ConfigReader r, int horizon, int nObsSteps, int actionDim, int featureDim,
                                 boolean obsAsCond) {
        Denoiser t = readDenoiser(r, "policy.", obsAsCond);
        return new ModelConfig(actionDim, actionDim, horizon, nObsSteps, obsAsCond ? featureDim : 0, t.nLayer(),
                t.nHead(), t.nEmb(), t.pDropEmb(), t.pDropAttn(), t.causalAttn(), t.timeAsCond(), obsAsCond,
                t.nCondLayers());
    }

    /** The transformer's own keys, under policy.model. (low-dim) or policy. (image) as DP's two configs put them. */
    private record Denoiser(int nLayer, int nHead, int nEmb, double pDropEmb, double pDropAttn, boolean causalAttn,
                            boolean timeAsCond, int nCondLayers) {}

    private static Denoiser readDenoiser(ConfigReader r, String p, boolean obsAsCond) {
        int nLayer = r.integer(p + "n_layer", 1);
        int nCondLayers = r.integer(p + "n_cond_layers", 0);
        int nHead = r.integer(p + "n_head", 1);
        int nEmb = r.integer(p + "n_emb", 1);
        if (nEmb % nHead != 0) {
            throw r.invalid(p + "n_emb", "a multiple of " + p + "n_head (" + nHead + ")", (long) nEmb);
        }
        double pDropEmb = r.number(p + "p_drop_emb", 0, true, 1, false);
        double pDropAttn = r.number(p + "p_drop_attn", 0, true, 1, false);
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
}
