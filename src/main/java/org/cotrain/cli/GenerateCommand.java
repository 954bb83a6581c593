package org.cotrain.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ForkJoinPool;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.cotrain.sim.DemoGenerator;
import org.cotrain.sim.EnvConfig;
import org.cotrain.sim.EnvPresets;
import org.cotrain.sim.expert.Experts;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cotrain generate --env <preset> --demos N --out data.h5}: demonstrations by the environment's scripted
 * expert in the robomimic layout (obs/image, obs/agent_pos, obs/keypoints, obs/state, actions, rewards, dones,
 * states; the environment config as the env_args attribute); with --actions-only the actions, rewards and dones
 * alone (the action prior of classifier-free guidance).
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate expert demonstrations in a sandbox environment as robomimic-layout HDF5.")
final class GenerateCommand implements Callable<Integer> {

    @Option(names = "--env", required = true, paramLabel = "PRESET",
            description = "target, source, or source-<visual|physics|task>-<0..3>.")
    String env;

    @Option(names = "--demos", required = true, paramLabel = "N", description = "Demos to write.")
    int demos;

    @Option(names = "--out", required = true, paramLabel = "FILE.hdf5", description = "The dataset to write.")
    Path out;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of initial conditions and expert noise.")
    long seed;

    @Option(names = "--expert", paramLabel = "target|source",
            description = "The expert (default: the preset's: target for target, source for source*).")
    String expert;

    @Option(names = "--keep-failures", description = "Also keep episodes that did not succeed.")
    boolean keepFailures;

    @Option(names = "--no-images", description = "Leave out obs/image (low-dim datasets, faster).")
    boolean noImages;

    @Option(names = "--actions-only", description = "Write actions (with rewards and dones) and no observations,"
            + " next_obs or states: data for the action prior of classifier-free guidance; mark the file in"
            + " cotrain.guidance.action_only. Implies --no-images.")
    boolean actionsOnly;

    @Option(names = "--threads", description = "Worker threads (default: all cores).")
    Integer threads;

    @Parameters(paramLabel = "key=value", description = "Environment overrides, e.g. physics.com_offset=20.")
    List<String> overrides = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        EnvConfig config = EnvPresets.get(env).withOverrides(overrides);
        int n = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        if (n <= 0) throw new IllegalArgumentException("--threads must be > 0, got " + n);
        ForkJoinPool pool = new ForkJoinPool(n);
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName("generate " + config.name()).setInitialMax(demos)
                .setStyle(ProgressBarStyle.ASCII).setUnit(" demos", 1).setUpdateIntervalMillis(500).build()) {
            int[] episodes = {0};
            String style = expert != null ? expert : config.expert();
            DemoGenerator.Options options = new DemoGenerator.Options(seed, keepFailures, !noImages && !actionsOnly,
                    i -> {
                        synchronized (episodes) {
                            episodes[0]++;
                        }
                    },
                    written -> {
                        bar.stepTo(written);
                        bar.setExtraMessage(episodes[0] + " episodes");
                    }, actionsOnly);
            DemoGenerator.Result r = DemoGenerator.generate(config, style, i -> Experts.create(style, config), demos,
                    out, options, pool);
            bar.close();
            System.out.printf(Locale.ROOT, "wrote %s: %d demos, %d samples; expert success %d/%d episodes; %.1f s"
                    + " (%.2f demos/s, %d threads)%n", r.file(), r.demos(), r.samples(), r.successes(), r.attempts(),
                    r.seconds(), r.demos() / r.seconds(), n);
        } finally {
            pool.shutdown();
        }
        return 0;
    }
}
