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
 * @param obsDim               = task.obs_dim
 * @param actionDim            = task.action_dim
 */
public record TrainConfig(String name, String taskName, String expName, int horizon, int nObsSteps, int nActionSteps,
                          boolean obsAsCond, boolean predActionStepsOnly, int obsDim, int actionDim, TaskConfig task,
                          PolicyConfig policy, EmaConfig ema, DataloaderConfig dataloader,
                          DataloaderConfig valDataloader, OptimizerConfig optimizer, TrainingConfig training,
                          CotrainConfig cotrain) {

    /** The top-level sizes the sections are checked against. */
    record Shape(int horizon, int nObsSteps, int nActionSteps, int obsDim, int actionDim, boolean obsAsCond,
                 boolean predActionStepsOnly) {}

    /** Reads and checks every key of the config. */
    public static TrainConfig from(Config config) {
        return read(new ConfigReader(config));
    }

    static TrainConfig read(ConfigReader r) {
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
        boolean obsAsCond = r.bool("obs_as_cond");
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
        PolicyConfig policy = PolicyConfig.read(r, shape);
        EmaConfig ema = EmaConfig.read(r);
        DataloaderConfig dataloader = DataloaderConfig.read(r, "dataloader");
        DataloaderConfig valDataloader = DataloaderConfig.read(r, "val_dataloader");
        OptimizerConfig optimizer = OptimizerConfig.read(r);
        TrainingConfig training = TrainingConfig.read(r);
        CotrainConfig cotrain = CotrainConfig.read(r, task.dataset().paths().size(),
                policy.noiseScheduler().numTrainTimesteps());
        return new TrainConfig(name, taskName, expName, horizon, nObsSteps, nActionSteps, obsAsCond,
                predActionStepsOnly, obsDim, actionDim, task, policy, ema, dataloader, valDataloader, optimizer,
                training, cotrain);
    }
}
