package org.cotrain.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ForkJoinPool;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.cotrain.backend.Backends;
import org.cotrain.experiment.PolicyEvaluation;
import org.cotrain.io.AtomicFiles;
import org.cotrain.sim.BatchPolicy;
import org.cotrain.sim.EnvConfig;
import org.cotrain.sim.EnvPresets;
import org.cotrain.sim.Evaluator;
import org.cotrain.sim.expert.Experts;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cotrain eval --checkpoint C --env <preset> --trials N}: success rate (Wilson 95% interval) and mean max
 * coverage of a policy, or of a scripted expert, over matched initial conditions (trial i of a seed is the same
 * start for every policy).
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Evaluate a policy checkpoint (or a scripted expert) in a sandbox environment.")
final class EvalCommand implements Callable<Integer> {

    static final class Subject {
        @Option(names = "--checkpoint", paramLabel = "FILE", description = "A checkpoint or saved policy.")
        Path checkpoint;

        @Option(names = "--expert", paramLabel = "target|source", description = "Evaluate a scripted expert.")
        String expert;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Subject subject;

    @Option(names = "--env", required = true, paramLabel = "PRESET",
            description = "target, source, or source-<visual|physics|task>-<0..3>.")
    String env;

    @Option(names = "--trials", defaultValue = "50", description = "Episodes (default ${DEFAULT-VALUE}).")
    int trials;

    @Option(names = "--seed", defaultValue = "100000", description = "Seed of the initial conditions (default"
            + " ${DEFAULT-VALUE}, apart from generate's default 0 so evaluation starts are not training starts).")
    long seed;

    @Option(names = "--videos", defaultValue = "0", description = "Videos of the first K trials.")
    int videos;

    @Option(names = "--out", paramLabel = "FILE.json", description = "Write the result (per-episode too) as JSON.")
    Path out;

    @Option(names = "--batch", defaultValue = "50", description = "Episodes stepped together (one denoising batch).")
    int batch;

    @Option(names = "--threads", description = "Environment threads (default: all cores).")
    Integer threads;

    @Option(names = "--ddim", paramLabel = "STEPS", description = "Sample with DDIM in this many steps instead of the"
            + " config's DDPM steps.")
    Integer ddim;

    @Option(names = "--guidance", paramLabel = "W", description = "Classifier-free guidance weight w >= 0 (low-dim"
            + " policies trained with cotrain.guidance): eps = eps_null + w (eps_cond - eps_null); default: the"
            + " checkpoint config's cotrain.guidance.weight (1.0 = unguided).")
    Double guidance;

    @Option(names = "--action-steps", paramLabel = "N", description = "Execute N actions of each predicted chunk"
            + " instead of the config's n_action_steps (replans more often; 1..horizon - n_obs_steps + 1).")
    Integer actionSteps;

    @Parameters(paramLabel = "key=value", description = "Environment overrides.")
    List<String> overrides = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        EnvConfig config = EnvPresets.get(env).withOverrides(overrides);
        int n = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        if (n <= 0 || batch <= 0) throw new IllegalArgumentException("--threads and --batch must be > 0");
        if (videos < 0) throw new IllegalArgumentException("--videos must be >= 0");
        if (trials <= 0) throw new IllegalArgumentException("--trials must be > 0, got " + trials);
        Path videoDir = null;
        if (videos > 0) {
            String base = out != null ? out.getFileName().toString().replaceFirst("\\.json$", "") : "eval";
            videoDir = (out != null && out.getParent() != null ? out.getParent() : Path.of(".")).resolve(base
                    + "_videos");
            Files.createDirectories(videoDir);
        }
        ForkJoinPool pool = new ForkJoinPool(n);
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName("eval " + config.name()).setInitialMax(trials)
                .setStyle(ProgressBarStyle.ASCII).setUnit(" episodes", 1).setUpdateIntervalMillis(500).build()) {
            Evaluator.Result r;
            if (subject.expert != null) {
                String style = subject.expert;
                r = Evaluator.evaluate(style + " expert", config, BatchPolicy.perEpisode(i -> Experts.create(style,
                        config), pool), trials, seed, batch, false, videos, videoDir, pool, i -> bar.step());
            } else {
                if (!Files.isRegularFile(subject.checkpoint)) {
                    throw new IllegalArgumentException("--checkpoint " + subject.checkpoint + ": no such file");
                }
                r = PolicyEvaluation.evaluate(subject.checkpoint, Backends.select(), config, trials, seed, ddim,
                        actionSteps, guidance, batch, videos, videoDir, pool, i -> bar.step());
            }
            bar.close();
            System.out.println(r.summary());
            if (out != null) {
                AtomicFiles.writeString(out, r.toJson());
                System.out.println("wrote " + out + (videoDir != null ? " and " + videos + " videos in " + videoDir
                        : ""));
            }
        } finally {
            pool.shutdown();
        }
        return 0;
    }
}
