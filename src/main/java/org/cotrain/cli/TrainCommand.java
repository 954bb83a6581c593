package org.cotrain.cli;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.cotrain.backend.Backend;
import org.cotrain.backend.Backends;
import org.cotrain.config.Config;
import org.cotrain.config.TrainConfig;
import org.cotrain.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cotrain train --config <file|preset> [key=value ...]}: trains a diffusion policy (low-dim or image, as the
 * config says). Ctrl-C stops after the current step with a checkpoint; {@code --resume} (or training.resume=true)
 * continues it exactly.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train a Diffusion Policy (DP-T, low-dim or from images) from HDF5 demonstrations.")
final class TrainCommand implements Callable<Integer> {

    @Option(names = "--config", required = true, paramLabel = "FILE|PRESET",
            description = "A YAML config or a preset name (pusht_lowdim_transformer, small_cpu).")
    String config;

    @Option(names = "--run-dir", paramLabel = "DIR",
            description = "Where checkpoints, metrics and plots go (default runs/<date>_<name>_<task>).")
    Path runDir;

    @Option(names = "--resume", description = "Continue from the run directory's checkpoint (needs --run-dir).")
    boolean resume;

    @Option(names = "--no-progress", description = "No progress bar (metrics still go to metrics.jsonl).")
    boolean noProgress;

    @Parameters(paramLabel = "key=value", description = "Config overrides, e.g. training.num_epochs=5.")
    List<String> overrides = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        List<String> all = new ArrayList<>(overrides);
        if (resume) {
            if (runDir == null) {
                throw new IllegalArgumentException("--resume needs --run-dir: the run to continue");
            }
            all.add("training.resume=true");
        }
        Config cfg = Config.load(config, all);
        TrainConfig tc = cfg.toTrainConfig();
        Path dir = runDir != null ? runDir : Path.of("runs", LocalDateTime.now().format(
                DateTimeFormatter.ofPattern("yyyy.MM.dd-HH.mm.ss")) + "_" + tc.name() + "_" + tc.taskName());
        Backend backend = Backends.forDevice(tc.training().device(), tc.cotrain().threads());
        Trainer trainer = new Trainer(cfg, dir, backend, System.out).showProgress(!noProgress);
        Thread hook = new Thread(() -> {
            trainer.requestStop();
            try {
                trainer.awaitFinished(120_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "cotrain-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            Trainer.Result r = trainer.run();
            return r.stopped() ? 130 : 0;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it is waiting for us
            }
        }
    }
}
