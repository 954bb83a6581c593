package org.cotrain.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.cotrain.backend.Backends;
import org.cotrain.config.Config;
import org.cotrain.config.Presets;
import org.cotrain.config.TrainConfig;
import org.cotrain.io.Checkpoint;
import org.cotrain.tensor.Backend;
import org.cotrain.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cotrain train --config <file|preset> [key=value ...]}: trains a diffusion policy (low-dim or image, as the
 * config says). Ctrl-C stops after the current step with a checkpoint; {@code --resume --run-dir DIR} continues it
 * exactly, from the run's own config.yaml (plus any overrides of the keys a resumed run may change). Only
 * {@code --resume} resumes: the command sets training.resume from it, whatever the config says, and a run directory
 * that already holds a run is an error without it.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train a Diffusion Policy (DP-T, low-dim or from images) from HDF5 demonstrations.")
final class TrainCommand implements Callable<Integer> {

    @Option(names = "--config", paramLabel = "FILE|PRESET",
            description = "A YAML config or a preset name (pusht_lowdim_transformer, small_cpu); with --resume, the"
                    + " run's config.yaml when left out.")
    String config;

    @Option(names = "--run-dir", paramLabel = "DIR",
            description = "Where checkpoints, metrics and plots go (default runs/<date>_<name>_<task>).")
    Path runDir;

    @Option(names = "--resume", description = "Continue the run in --run-dir from its checkpoint, with its config"
            + " (a changed key other than the steps, checkpoint interval and threads is refused).")
    boolean resume;

    @Option(names = "--no-progress", description = "No progress bar (metrics still go to metrics.jsonl).")
    boolean noProgress;

    @Parameters(paramLabel = "key=value", description = "Config overrides, e.g. training.num_epochs=5.")
    List<String> overrides = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        List<String> all = new ArrayList<>(overrides);
        all.add("training.resume=" + resume);
        Config cfg;
        if (resume) {
            if (runDir == null) {
                throw new IllegalArgumentException("--resume needs --run-dir: the run to continue");
            }
            Path stored = runDir.resolve("config.yaml");
            if (!Files.isRegularFile(stored) && !Files.isRegularFile(Checkpoint.in(runDir))) {
                throw new IllegalArgumentException("--resume: " + runDir + " holds no run to continue (no config.yaml,"
                        + " no " + Checkpoint.PATH_IN_RUN_DIR + ")");
            }
            if (config == null && !Files.isRegularFile(stored)) {
                throw new IllegalArgumentException("--resume: " + stored + " is missing; give the run's --config");
            }
            cfg = config != null ? Config.load(config, all) : Config.fromFile(stored).withOverrides(all);
        } else {
            if (config == null) {
                throw new IllegalArgumentException("--config is required (a YAML file or a preset: "
                        + String.join(", ", Presets.NAMES) + "), unless --resume continues a run");
            }
            cfg = Config.load(config, all);
        }
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
