package org.cotrain.policy;

import java.util.Arrays;
import org.cotrain.config.ConditionalUnet1DConfig;
import org.cotrain.config.GuidanceConfig;
import org.cotrain.config.TrainConfig;
import org.cotrain.config.TransformerForDiffusionConfig;
import org.cotrain.diffusion.NoiseSchedulerConfig;

/**
 * What defines a low-dim diffusion policy (Diffusion Policy's DiffusionTransformerLowdimPolicy with obs_as_cond, or
 * DiffusionUnetLowdimPolicy with obs_as_global_cond): the denoiser, the training noise schedule and the sizes of an
 * observation history and an action chunk.
 *
 * @param model             the transformer denoiser (input_dim = output_dim = actionDim, cond_dim = obsDim), or null
 *                          for a U-Net policy
 * @param unet              the U-Net denoiser (input_dim = actionDim, cond_dim per step = obsDim), or null for a
 *                          transformer policy
 * @param noiseScheduler    the DDPM training schedule (also the sampling schedule's table)
 * @param horizon           H: actions predicted per chunk
 * @param nObsSteps         To: observation steps the policy conditions on
 * @param nActionSteps      Ta: actions executed per chunk, from index To - 1
 * @param obsDim            Do: width of one observation step
 * @param actionDim         Da: width of one action
 * @param numInferenceSteps default denoising steps when sampling
 * @param numDomains        0, or the number of domains whose one-hot label is appended to each observation step
 *                          (domain conditioning)
 * @param guidance          classifier-free guidance (cotrain.guidance); with a learned null condition that training
 *                          uses, one "has observation" column follows the observations of each step, so cond_dim =
 *                          obsDim + that column + numDomains ({@link #conditionDim})
 */
public record LowdimPolicyConfig(TransformerForDiffusionConfig model, ConditionalUnet1DConfig unet,
                                 NoiseSchedulerConfig noiseScheduler, int horizon, int nObsSteps, int nActionSteps,
                                 int obsDim, int actionDim, int numInferenceSteps, int numDomains,
                                 GuidanceConfig guidance) {

    /** Without guidance. */
    public LowdimPolicyConfig(TransformerForDiffusionConfig model, ConditionalUnet1DConfig unet,
                              NoiseSchedulerConfig noiseScheduler, int horizon, int nObsSteps, int nActionSteps,
                              int obsDim, int actionDim, int numInferenceSteps, int numDomains) {
        this(model, unet, noiseScheduler, horizon, nObsSteps, nActionSteps, obsDim, actionDim, numInferenceSteps,
                numDomains, GuidanceConfig.OFF);
    }

    /** A transformer (DP-T) policy. */
    public LowdimPolicyConfig(TransformerForDiffusionConfig model, NoiseSchedulerConfig noiseScheduler, int horizon,
                              int nObsSteps, int nActionSteps, int obsDim, int actionDim, int numInferenceSteps,
                              int numDomains) {
        this(model, null, noiseScheduler, horizon, nObsSteps, nActionSteps, obsDim, actionDim, numInferenceSteps,
                numDomains);
    }

    public LowdimPolicyConfig {
        if (numDomains < 0) throw new IllegalArgumentException("numDomains must be >= 0, got " + numDomains);
        if (guidance == null) guidance = GuidanceConfig.OFF;
        if (guidance.mode() == GuidanceConfig.Mode.DOMAIN && numDomains < 2) {
            throw new IllegalArgumentException("guidance mode domain needs a domain-conditioned policy of two or more"
                    + " domains, this one has " + numDomains);
        }
        int flag = guidance.observedFlag() ? 1 : 0;
        if ((model == null) == (unet == null)) {
            throw new IllegalArgumentException("a low-dim policy has one denoiser: the transformer or the U-Net");
        }
        if (unet != null) {
            if (!unet.obsAsGlobalCond() || unet.condDim() != obsDim + flag + numDomains
                    || unet.nObsSteps() != nObsSteps) {
                throw new IllegalArgumentException("the low-dim U-Net policy conditions the denoiser on the"
                        + " observations: need obs_as_global_cond with obs_dim (" + obsDim + ") + observed flag ("
                        + flag + ") + domains (" + numDomains + ") per step and n_obs_steps = " + nObsSteps
                        + ", got cond_dim "
                        + unet.condDim() + ", n_obs_steps " + unet.nObsSteps());
            }
            if (unet.inputDim() != actionDim || unet.horizon() != horizon) {
                throw new IllegalArgumentException("the U-Net's input_dim/horizon (" + unet.inputDim() + ", "
                        + unet.horizon() + ") must be the action_dim/horizon (" + actionDim + ", " + horizon + ")");
            }
        } else if (!model.obsAsCond() || model.condDim() != obsDim + flag + numDomains
                || model.nObsSteps() != nObsSteps) {
            throw new IllegalArgumentException("the low-dim policy conditions the denoiser on the observations: need"
                    + " obs_as_cond with cond_dim = obs_dim (" + obsDim + ") + observed flag (" + flag + ") + domains ("
                    + numDomains
                    + ") and n_obs_steps = " + nObsSteps
                    + ", got obs_as_cond " + model.obsAsCond() + ", cond_dim " + model.condDim()
                    + ", n_obs_steps " + model.nObsSteps());
        }
        if (model != null && (model.inputDim() != actionDim || model.outputDim() != actionDim
                || model.horizon() != horizon)) {
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
            if (c.policy().unet() != null) {
                throw new IllegalArgumentException("obs_as_global_cond: false (observations inpainted into the"
                        + " trajectory) is not supported; cotrain's low-dim policy conditions on observations"
                        + " (obs_as_global_cond: true)");
            }
            throw new IllegalArgumentException("obs_as_cond: false (observations inpainted into the trajectory) is not"
                    + " supported; cotrain's low-dim policy conditions on observations (obs_as_cond: true)");
        }
        if (c.predActionStepsOnly()) {
            throw new IllegalArgumentException("pred_action_steps_only: true is not supported; set it to false");
        }
        // Domain conditioning widens the condition by one column per dataset, a learned null condition by its flag
        // column (the config's cond_dim is obs_dim).
        int domains = c.cotrain().domainConditioning() ? c.task().dataset().paths().size() : 0;
        GuidanceConfig guidance = c.cotrain().guidance();
        int extra = domains + (guidance.observedFlag() ? 1 : 0);
        TransformerForDiffusionConfig m = c.policy().model();
        ConditionalUnet1DConfig u = c.policy().unet();
        TransformerForDiffusionConfig model = m == null ? null : m.withCondDim(m.condDim() + extra);
        ConditionalUnet1DConfig unet = u == null ? null : u.withCondDim(u.condDim() + extra);
        return new LowdimPolicyConfig(model, unet, c.policy().noiseScheduler(), c.horizon(), c.nObsSteps(),
                c.nActionSteps(), c.obsDim(), c.actionDim(), c.policy().numInferenceSteps(), domains, guidance);
    }

    /**
     * Width of one observation step as the denoiser sees it: obsDim, the "has observation" column of a learned null
     * condition, then the domain label's columns.
     */
    public int conditionDim() {
        return obsDim + (guidance.observedFlag() ? 1 : 0) + numDomains;
    }

    /**
     * The null condition of guided sampling per condition column (c_null = c keep + add), or null when guidance is
     * not possible: mode observation zeroes the observation columns and the flag (domain labels kept) when training
     * used the null condition; mode domain swaps the one-hot label for domain 1's (the first source dataset).
     */
    public float[][] nullCondition() {
        int c = conditionDim();
        float[] keep = new float[c];
        float[] add = new float[c];
        int labels = c - numDomains; // the first label column
        if (guidance.mode() == GuidanceConfig.Mode.DOMAIN) {
            Arrays.fill(keep, 0, labels, 1f);
            add[labels + 1] = 1f;
            return new float[][] {keep, add};
        }
        if (!guidance.trainsNullCondition()) {
            return null;
        }
        Arrays.fill(keep, labels, c, 1f);
        return new float[][] {keep, add};
    }
}
