package org.cotrain.optim;

import java.util.Locale;

/**
 * The learning rate at each optimizer step, as diffusers' {@code get_scheduler(name, num_warmup_steps,
 * num_training_steps)} wrapped in torch's LambdaLR, which Diffusion Policy steps once per batch: step k (counted
 * from 0) uses {@code baseLr * factor(k)}.
 *
 * <ul>
 *   <li>{@code constant}: 1.</li>
 *   <li>{@code constant_with_warmup}: k / warmup during warmup, then 1.</li>
 *   <li>{@code linear}: k / warmup, then falling linearly to 0 at the last step.</li>
 *   <li>{@code cosine}: k / warmup, then 0.5 (1 + cos(pi * progress)) (diffusers' num_cycles = 0.5).</li>
 * </ul>
 */
public final class LrSchedule {
    private final String name;
    private final double baseLr;
    private final long warmupSteps;
    private final long trainingSteps;

    public LrSchedule(String name, double baseLr, long warmupSteps, long trainingSteps) {
        String n = name.toLowerCase(Locale.ROOT);
        if (!n.equals("constant") && !n.equals("constant_with_warmup") && !n.equals("linear")
                && !n.equals("cosine")) {
            throw new IllegalArgumentException("training.lr_scheduler '" + name
                    + "' is not supported; use cosine, linear, constant or constant_with_warmup");
        }
        if (!(baseLr >= 0) || Double.isInfinite(baseLr)) {
            throw new IllegalArgumentException("learning rate must be finite and >= 0, got " + baseLr);
        }
        if (warmupSteps < 0 || trainingSteps < 0) {
            throw new IllegalArgumentException("warmup and training steps must be >= 0, got " + warmupSteps + " and "
                    + trainingSteps);
        }
        this.name = n;
        this.baseLr = baseLr;
        this.warmupSteps = warmupSteps;
        this.trainingSteps = trainingSteps;
    }

    /** The learning rate of optimizer step {@code step} (0-based). */
    public double lr(long step) {
        return baseLr * factor(step);
    }

    /** The multiplier of the base learning rate at {@code step}, in [0, 1]. */
    public double factor(long step) {
        if (name.equals("constant")) {
            return 1.0;
        }
        if (step < warmupSteps) {
            return (double) step / Math.max(1, warmupSteps);
        }
        switch (name) {
            case "constant_with_warmup":
                return 1.0;
            case "linear":
                return Math.max(0.0, (double) (trainingSteps - step) / Math.max(1, trainingSteps - warmupSteps));
            default: {
                double progress = (double) (step - warmupSteps) / Math.max(1, trainingSteps - warmupSteps);
                return Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * progress)));
            }
        }
    }
}
