package org.cotrain.config;

/**
 * The typed, validated training config: what the trainer, the policy and the data pipeline read. Built from a
 * {@link Config} (the YAML with Diffusion Policy's key names); every value is type- and range-checked, and the keys
 * DP's configs repeat by interpolation (policy.horizon, task.dataset.horizon, policy.model.cond_dim, ...) are
 * checked to agree, each error naming the key, the bad value and where it came from.
 *
 * @param name                 experiment family name (DP: train_diffusion_transformer_lowdim)
 * @param taskName             = task.name
 * @param expName              free label of the run
 * @param horizon              H, the length of a predicted action chunk (and of a training window)
 * @param nObsSteps            To, the observation steps the policy sees
 * @param nActionSteps         Ta, the actions executed per prediction, from index To - 1
 * @param obsAsCond            observations condition the denoiser (else they are inpainted)
 * @param predActionStepsOnly  predict only the Ta executed actions (needs obsAsCond)
 * @param obsDim               = task.obs_dim (image configs: the low_dim keys of task.shape_meta together)
 * @param actionDim            = task.action_dim (image configs: task.shape_meta.action.shape[0])
 * @param kind                 low-dim or image (the config has task.shape_meta)
 * @param shapeMeta            image configs: task.shape_meta; null for low-dim ones
 * @param obsEncoder           image configs: the encoder's settings (policy.crop_shape, ...); null for low-dim ones
 */
public record TrainConfig(String name, String taskName, String expName, int horizon, int nObsSteps, int nActionSteps,
                          boolean obsAsCond, boolean predActionStepsOnly, int obsDim, int actionDim, TaskConfig task,
                          PolicyConfig policy, EmaConfig ema, DataloaderConfig dataloader,
                          DataloaderConfig valDataloader, OptimizerConfig optimizer, TrainingConfig training,
                          CotrainConfig cotrain, PolicyKind kind, ShapeMeta shapeMeta, ObsEncoderConfig obsEncoder) {

    /** Whether this is an image (hybrid) policy's config. */
    public boolean isImage() {
        return kind == PolicyKind.IMAGE;
    }

    /** The top-level sizes the sections are checked against. */
    record Shape(int horizon, int nObsSteps, int nActionSteps, int obsDim, int actionDim, boolean obsAsCond,
                 boolean predActionStepsOnly) {}

    /** Reads and checks every key of the config. */
    public static TrainConfig from(Config config) {
        return read(new ConfigReader(config));
    }

    static TrainConfig read(ConfigReader r) {
        return r.kind() == PolicyKind.IMAGE ? readImage(r) : readLowdim(r);
    }

    private static TrainConfig readLowdim(ConfigReader r) {
        String name = r.text("name");
        int horizon = r.integer("horizon", 1);
        int nObsSteps = r.integer("n_obs_steps", 1);
        int nActionSteps = r.integer("n_action_steps", 1);
        if (nObsSteps - 1 + nActionSteps > horizon) {
            // The executed actions are chunk[To-1 : To-1+Ta]; they must lie inside the chunk.
            throw r.invalid("n_action_steps", "<= horizon - n_obs_steps + 1 = " + (horizon - nObsSteps + 1)
                    + " (the executed actions start at index n_obs_steps - 1 of the predicted chunk)",
                    (long) nActionSteps);
        }
        boolean unet = r.kind() == PolicyKind.LOWDIM_UNET;
        if (unet && r.bool("obs_as_local_cond")) {
            throw r.invalid("obs_as_local_cond", "False (local conditioning of the U-Net is not supported; cotrain "
                    + "conditions on the observations globally, obs_as_global_cond: True)", true);
        }
        // DP's U-Net workspace: obs_as_global_cond plays obs_as_cond's part (the observations condition the model)
        boolean obsAsCond = r.bool(unet ? "obs_as_global_cond" : "obs_as_cond");
        boolean predActionStepsOnly = r.bool("pred_action_steps_only");
        if (predActionStepsOnly && !obsAsCond) {
            throw r.invalid("pred_action_steps_only", "false when obs_as_cond is false (as in DP)", true);
        }

        TaskConfig task = TaskConfig.read(r, horizon);
        String taskName = r.text("task_name");
        r.same("task_name", taskName, "task.name", task.name());
        String expName = r.label("exp_name");
        int obsDim = r.integer("obs_dim", 1);
        r.same("obs_dim", obsDim, "task.obs_dim", task.obsDim());
        int actionDim = r.integer("action_dim", 1);
        r.same("action_dim", actionDim, "task.action_dim", task.actionDim());

        Shape shape = new Shape(horizon, nObsSteps, nActionSteps, obsDim, actionDim, obsAsCond, predActionStepsOnly);
        PolicyConfig policy = unet ? PolicyConfig.readUnet(r, shape) : PolicyConfig.read(r, shape);
        EmaConfig ema = EmaConfig.read(r);
        DataloaderConfig dataloader = DataloaderConfig.read(r, "dataloader");
        DataloaderConfig valDataloader = DataloaderConfig.read(r, "val_dataloader");
        OptimizerConfig optimizer = unet ? OptimizerConfig.readUnet(r) : OptimizerConfig.read(r);
        TrainingConfig training = TrainingConfig.read(r);
        CotrainConfig cotrain = CotrainConfig.read(r, task.dataset().paths().size(),
                policy.noiseScheduler().numTrainTimesteps());
        return new TrainConfig(name, taskName, expName, horizon, nObsSteps, nActionSteps, obsAsCond,
                predActionStepsOnly, obsDim, actionDim, task, policy, ema, dataloader, valDataloader, optimizer,
                training, cotrain, unet ? PolicyKind.LOWDIM_UNET : PolicyKind.LOWDIM, null, null);
    }

    /**
     * An image config (DP's hybrid workspace keys): the sizes come from task.shape_meta; the denoiser's cond_dim is
     * 64 per camera plus the low-dim keys (DP's obs_feature_dim); pred_action_steps_only is not a key (false).
     */
    private static TrainConfig readImage(ConfigReader r) {
        String name = r.text("name");
        int horizon = r.integer("horizon", 1);
        int nObsSteps = r.integer("n_obs_steps", 1);
        int nActionSteps = r.integer("n_action_steps", 1);
        if (nObsSteps - 1 + nActionSteps > horizon) {
            throw r.invalid("n_action_steps", "<= horizon - n_obs_steps + 1 = " + (horizon - nObsSteps + 1)
                    + " (the executed actions start at index n_obs_steps - 1 of the predicted chunk)",
                    (long) nActionSteps);
        }
        boolean obsAsCond = r.bool("obs_as_cond");
        ShapeMeta shapeMeta = ShapeMeta.read(r);
        TaskConfig task = TaskConfig.readImage(r, horizon, shapeMeta);
        String taskName = r.text("task_name");
        r.same("task_name", taskName, "task.name", task.name());
        String expName = r.label("exp_name");
        int featureDim = org.cotrain.nn.ImageEncoder.FEATURES * shapeMeta.rgb().size() + shapeMeta.lowdimDim();
        Shape shape = new Shape(horizon, nObsSteps, nActionSteps, shapeMeta.lowdimDim(), shapeMeta.actionDim(),
                obsAsCond, false);
        PolicyConfig policy = PolicyConfig.readImage(r, shape, featureDim);
        ObsEncoderConfig obsEncoder = ObsEncoderConfig.read(r, shapeMeta);
        EmaConfig ema = EmaConfig.read(r);
        DataloaderConfig dataloader = DataloaderConfig.read(r, "dataloader");
        DataloaderConfig valDataloader = DataloaderConfig.read(r, "val_dataloader");
        OptimizerConfig optimizer = OptimizerConfig.readImage(r);
        TrainingConfig training = TrainingConfig.read(r);
        CotrainConfig cotrain = CotrainConfig.read(r, task.dataset().paths().size(),
                policy.noiseScheduler().numTrainTimesteps());
        return new TrainConfig(name, taskName, expName, horizon, nObsSteps, nActionSteps, obsAsCond, false,
                shapeMeta.lowdimDim(), shapeMeta.actionDim(), task, policy, ema, dataloader, valDataloader, optimizer,
                training, cotrain, PolicyKind.IMAGE, shapeMeta, obsEncoder);
    }
}
