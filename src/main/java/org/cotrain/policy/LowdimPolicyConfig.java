package org.cotrain.policy;

import org.cotrain.config.TrainConfig;
import org.cotrain.config.TransformerForDiffusionConfig;
import org.cotrain.diffusion.NoiseSchedulerConfig;

/**
 * What defines a low-dim diffusion policy (Diffusion Policy's DiffusionTransformerLowdimPolicy with obs_as_cond):
 * the denoiser, the training noise schedule and the sizes of an observation history and an action chunk.
 *
 * @param model             the denoiser (input_dim = output_dim = actionDim, cond_dim = obsDim)
 * @param noiseScheduler    the DDPM training schedule (also the sampling schedule's table)
 * @param horizon           H: actions predicted per chunk
 * @param nObsSteps         To: observation steps the policy conditions on
 * @param nActionSteps      Ta: actions executed per chunk, from index To - 1
 * @param obsDim            Do: width of one observation step
 * @param actionDim         Da: width of one action
 * @param numInferenceSteps default denoising steps when sampling
 * @param numDomains        0, or the number of domains whose one-hot label is appended to each observation step
 *                          (domain conditioning: cond_dim = obsDim + numDomains)
 */
public record LowdimPolicyConfig(TransformerForDiffusionConfig model, NoiseSchedulerConfig noiseScheduler,
                                 int horizon, int nObsSteps, int nActionSteps, int obsDim, int actionDim,
                                 int numInferenceSteps, int numDomains) {

    public LowdimPolicyConfig {
        if (numDomains < 0) throw new IllegalArgumentException("numDomains must be >= 0, got " + numDomains);
        if (!model.obsAsCond() || model.condDim() != obsDim + numDomains || model.nObsSteps() != nObsSteps) {
            throw new IllegalArgumentException("the low-dim policy conditions the denoiser on the observations: need"
                    + " obs_as_cond with cond_dim = obs_dim (" + obsDim + ") + domains (" + numDomains
                    + ") and n_obs_steps = " + nObsSteps
                    + ", got obs_as_cond " + model.obsAsCond() + ", cond_dim " + model.condDim()
                    + ", n_obs_steps " + model.nObsSteps());
        }
        if (model.inputDim() != actionDim || model.outputDim() != actionDim || model.horizon() != horizon) {
            throw new IllegalArgumentException("the denoiser's input_dim/output_dim/horizon (" + model.inputDim() + ", "
                    + model.outputDim() + ", " + model.horizon() + ") must be the action_dim/horizon (" + actionDim
                    + ", " + horizon + ")");
        }
        if (nObsSteps - 1 + nActionSteps > horizon) {
            throw new IllegalArgumentException("n_obs_steps - 1 + n_action_steps = " + (nObsSteps - 1 + nActionSteps)
                    + " exceeds the horizon " + horizon);
        }
        if (numInferenceSteps < 1 || numInferenceSteps > noiseScheduler.numTrainTimesteps()) {
            throw new IllegalArgumentException("num_inference_steps must be in [1, " + noiseScheduler.numTrainTimesteps()
                    + "], got " + numInferenceSteps);
        }
    }

    /**
     * The policy of a training config. The inpainting variant (obs_as_cond false) and pred_action_steps_only are not
     * implemented; they are rejected here by key.
     */
    public static LowdimPolicyConfig from(TrainConfig c) {
        if (c.isImage()) {
            throw new IllegalArgumentException("an image config (it has task.shape_meta): its policy is ImagePolicy,"
                    + " not the low-dim one");
        }
        if (!c.obsAsCond()) {
            throw new IllegalArgumentException("obs_as_cond: false (observations inpainted into the trajectory) is not"
                    + " supported; cotrain's low-dim policy conditions on observations (obs_as_cond: true)");
        }
        if (c.predActionStepsOnly()) {
            throw new IllegalArgumentException("pred_action_steps_only: true is not supported; set it to false");
        }
        TransformerForDiffusionConfig m = c.policy().model();
        // Domain conditioning widens the condition by one column per dataset (the config's cond_dim is obs_dim).
        int domains = c.cotrain().domainConditioning() ? c.task().dataset().paths().size() : 0;
        TransformerForDiffusionConfig model = m.withCondDim(m.condDim() + domains);
        return new LowdimPolicyConfig(model, c.policy().noiseScheduler(), c.horizon(), c.nObsSteps(),
                c.nActionSteps(), c.obsDim(), c.actionDim(), c.policy().numInferenceSteps(), domains);
    }

    /** Width of one observation step as the denoiser sees it: obsDim plus the domain label's columns. */
    public int conditionDim() {
        return obsDim + numDomains;
    }
}
