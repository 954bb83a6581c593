package org.cotrain.train;

import java.time.Duration;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The terminal progress bar of a training run (the me.tongfei progressbar library): steps done of the total,
 * it/s and ETA from the library, plus the latest loss and learning rate. On a non-interactive stream (CI, a log
 * file) the library prints plain lines instead of redrawing.
 */
public final class TrainProgress implements AutoCloseable {
    private final ProgressBar bar;

    public TrainProgress(String task, long totalSteps, long startStep) {
        this.bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(totalSteps).startsFrom(startStep,
                Duration.ZERO).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).showSpeed()
                .setUnit(" it", 1).continuousUpdate().build();
    }

    /** One optimizer step done; shows its loss and learning rate. */
    public void step(double loss, double lr) {
        bar.setExtraMessage(String.format(Locale.ROOT, "loss %.4g lr %.2e", loss, lr));
        bar.step();
    }

    @Override
    public void close() {
        bar.close();
    }
}
