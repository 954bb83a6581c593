package org.cotrain.config;

import java.util.regex.Pattern;

/**
 * training: the loop. As in DP, checkpoint_every, val_every and sample_every count epochs, and max_train_steps and
 * max_val_steps cap the batches of one epoch (null: the whole data set).
 *
 * @param device                  "auto" (CUDA when a GPU is usable, else the CPU), "cpu", "cuda" or "cuda:N"
 * @param seed                    seed of every random draw of the run
 * @param resume                  continue from the run directory's latest checkpoint when there is one
 * @param lrScheduler             learning-rate schedule
 * @param lrWarmupSteps           linear warmup steps, >= 0
 * @param numEpochs               epochs, >= 1
 * @param gradientAccumulateEvery batches per optimizer step, >= 1
 * @param useEma                  keep the EMA weights (evaluated and checkpointed)
 * @param checkpointEvery         epochs between checkpoints, >= 1
 * @param valEvery                epochs between validation losses, >= 1
 * @param sampleEvery             epochs between sampling a training batch (action MSE), >= 1
 * @param maxTrainSteps           training batches per epoch at most, or null
 * @param maxValSteps             validation batches per validation at most, or null
 * @param tqdmIntervalSec         progress-bar refresh interval in seconds, > 0
 */
public record TrainingConfig(String device, long seed, boolean resume, LrSchedulerType lrScheduler, int lrWarmupSteps,
                             int numEpochs, int gradientAccumulateEvery, boolean useEma, int checkpointEvery,
                             int valEvery, int sampleEvery, Integer maxTrainSteps, Integer maxValSteps,
                             double tqdmIntervalSec) {

    private static final Pattern DEVICE = Pattern.compile("auto|cpu|cuda(:[0-9]+)?");

    static TrainingConfig read(ConfigReader r) {
        String p = "training.";
        Object deviceValue = r.value(p + "device");
        if (!(deviceValue instanceof String device) || !DEVICE.matcher(device).matches()) {
            throw r.invalid(p + "device", "auto, cpu, cuda or cuda:N", deviceValue);
        }
        long seed = r.anyInteger(p + "seed");
        boolean resume = r.bool(p + "resume");
        LrSchedulerType lrScheduler = r.choice(p + "lr_scheduler", LrSchedulerType.byConfigName());
        int lrWarmupSteps = r.integer(p + "lr_warmup_steps", 0);
        int numEpochs = r.integer(p + "num_epochs", 1);
        int gradientAccumulateEvery = r.integer(p + "gradient_accumulate_every", 1);
        boolean useEma = r.bool(p + "use_ema");
        int checkpointEvery = r.integer(p + "checkpoint_every", 1);
        int valEvery = r.integer(p + "val_every", 1);
        int sampleEvery = r.integer(p + "sample_every", 1);
        Integer maxTrainSteps = r.optionalInteger(p + "max_train_steps", 1);
        Integer maxValSteps = r.optionalInteger(p + "max_val_steps", 1);
        double tqdmIntervalSec = r.number(p + "tqdm_interval_sec", 0, false, Double.POSITIVE_INFINITY, false);
        return new TrainingConfig(device, seed, resume, lrScheduler, lrWarmupSteps, numEpochs,
                gradientAccumulateEvery, useEma, checkpointEvery, valEvery, sampleEvery, maxTrainSteps, maxValSteps,
                tqdmIntervalSec);
    }
}
