package org.cotrain.config;

import org.cotrain.diffusion.NoiseSchedulerConfig;

/**
 * policy: the low-dim diffusion policy, or the image (hybrid) one ({@link #readImage}). DP's policy section repeats the top-level horizon, n_obs_steps,
 * n_action_steps, obs_dim, action_dim, obs_as_cond and pred_action_steps_only by interpolation; they are checked
 * equal to the top-level keys and not kept twice here.
 *
 * @param model             the denoiser
 * @param noiseScheduler    the training noise schedule
 * @param numInferenceSteps denoising steps when sampling, in [1, num_train_timesteps]
 */
public record PolicyConfig(TransformerForDiffusionConfig model, ConditionalUnet1DConfig unet,
                           NoiseSchedulerConfig noiseScheduler, int numInferenceSteps) {

    public PolicyConfig {
        if ((model == null) == (unet == null)) {
            throw new IllegalArgumentException("a policy has one denoiser: the transformer (model) or the U-Net (unet)");
        }
    }

    /** A transformer (DP-T) policy. */
    public PolicyConfig(TransformerForDiffusionConfig model, NoiseSchedulerConfig noiseScheduler,
                        int numInferenceSteps) {
        this(model, null, noiseScheduler, numInferenceSteps);
    }

    /**
     * A U-Net low-dim config's policy section (DP's train_diffusion_unet_lowdim_workspace): the ConditionalUnet1D's
     * keys under policy.model, the noise schedule, and DP's repeats of the top-level keys, checked equal to them;
     * oa_step_convention must be true (the executed actions start at index n_obs_steps - 1, as here).
     */
    static PolicyConfig readUnet(ConfigReader r, TrainConfig.Shape shape) {
        ConditionalUnet1DConfig unet = ConditionalUnet1DConfig.read(r, shape.horizon(), shape.nObsSteps(),
                shape.obsDim(), shape.actionDim(), shape.obsAsCond());
        NoiseSchedulerConfig noiseScheduler = NoiseSchedulerReader.read(r);
        r.same("policy.horizon", r.integer("policy.horizon", 1), "horizon", shape.horizon());
        r.same("policy.obs_dim", r.integer("policy.obs_dim", 1), "obs_dim", shape.obsDim());
        r.same("policy.action_dim", r.integer("policy.action_dim", 1), "action_dim", shape.actionDim());
        r.same("policy.n_action_steps", r.integer("policy.n_action_steps", 1), "n_action_steps",
                shape.nActionSteps());
        r.same("policy.n_obs_steps", r.integer("policy.n_obs_steps", 1), "n_obs_steps", shape.nObsSteps());
        int numInferenceSteps = r.integerIn("policy.num_inference_steps", 1, noiseScheduler.numTrainTimesteps());
        r.same("policy.obs_as_local_cond", r.bool("policy.obs_as_local_cond"), "obs_as_local_cond", false);
        r.same("policy.obs_as_global_cond", r.bool("policy.obs_as_global_cond"), "obs_as_global_cond",
                shape.obsAsCond());
        r.same("policy.pred_action_steps_only", r.bool("policy.pred_action_steps_only"), "pred_action_steps_only",
                shape.predActionStepsOnly());
        if (!r.bool("policy.oa_step_convention")) {
            throw r.invalid("policy.oa_step_convention", "true (actions are executed from index n_obs_steps - 1)",
                    false);
        }
        return new PolicyConfig(null, unet, noiseScheduler, numInferenceSteps);
    }

    static PolicyConfig read(ConfigReader r, TrainConfig.Shape shape) {
        TransformerForDiffusionConfig model = TransformerForDiffusionConfig.read(r, shape.horizon(), shape.nObsSteps(), shape.obsDim(), shape.actionDim(),
                shape.obsAsCond());
        NoiseSchedulerConfig noiseScheduler = NoiseSchedulerReader.read(r);
        r.same("policy.horizon", r.integer("policy.horizon", 1), "horizon", shape.horizon());
        r.same("policy.obs_dim", r.integer("policy.obs_dim", 1), "obs_dim", shape.obsDim());
        r.same("policy.action_dim", r.integer("policy.action_dim", 1), "action_dim", shape.actionDim());
        r.same("policy.n_action_steps", r.integer("policy.n_action_steps", 1), "n_action_steps",
                shape.nActionSteps());
        r.same("policy.n_obs_steps", r.integer("policy.n_obs_steps", 1), "n_obs_steps", shape.nObsSteps());
        int numInferenceSteps = r.integerIn("policy.num_inference_steps", 1, noiseScheduler.numTrainTimesteps());
        r.same("policy.obs_as_cond", r.bool("policy.obs_as_cond"), "obs_as_cond", shape.obsAsCond());
        r.same("policy.pred_action_steps_only", r.bool("policy.pred_action_steps_only"), "pred_action_steps_only",
                shape.predActionStepsOnly());
        return new PolicyConfig(model, noiseScheduler, numInferenceSteps);
    }

    /**
     * An image config's policy section: the denoiser's keys (see {@link TransformerForDiffusionConfig#readImage}), the noise schedule,
     * and DP's repeats of horizon, n_obs_steps, n_action_steps and obs_as_cond; the encoder's keys are
     * {@link ObsEncoderConfig}'s.
     */
    static PolicyConfig readImage(ConfigReader r, TrainConfig.Shape shape, int featureDim) {
        NoiseSchedulerConfig noiseScheduler = NoiseSchedulerReader.read(r);
        r.same("policy.horizon", r.integer("policy.horizon", 1), "horizon", shape.horizon());
        r.same("policy.n_action_steps", r.integer("policy.n_action_steps", 1), "n_action_steps",
                shape.nActionSteps());
        r.same("policy.n_obs_steps", r.integer("policy.n_obs_steps", 1), "n_obs_steps", shape.nObsSteps());
        int numInferenceSteps = r.integerIn("policy.num_inference_steps", 1, noiseScheduler.numTrainTimesteps());
        TransformerForDiffusionConfig model = TransformerForDiffusionConfig.readImage(r, shape.horizon(), shape.nObsSteps(), shape.actionDim(),
                featureDim, shape.obsAsCond());
        return new PolicyConfig(model, noiseScheduler, numInferenceSteps);
    }
}
