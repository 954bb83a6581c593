package org.cotrain.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.cotrain.backend.Backends;
import org.cotrain.experiment.CotrainDemo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code cotrain demo}: the main job. Sandbox data, a real-only and a cotrained policy, a matched evaluation, the
 * comparison; about 6 minutes on two quiet CPU cores (low-dim policies), a larger version with images with a GPU.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Generate target and source demos, train a real-only and a cotrained policy, compare them.")
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--out", defaultValue = "runs/demo", description = "Output directory (default ${DEFAULT-VALUE});"
            + " rerunning continues what is unfinished there.")
    Path out;

    @Option(names = "--real-demos", description = "Target demos |D_R| (default 20; 50 with a GPU).")
    Integer realDemos;

    @Option(names = "--sim-demos", description = "Source demos |D_S| (default 500).")
    Integer simDemos;

    @Option(names = "--sim-env", description = "Source environment preset (default source).")
    String simEnv;

    @Option(names = "--alpha", description = "Share of target samples when cotraining (default: natural,"
            + " |D_R|/(|D_R|+|D_S|)).")
    Double alpha;

    @Option(names = "--steps", description = "Training steps per policy (default 12000; 20000 with a GPU).")
    Long steps;

    @Option(names = "--trials", description = "Evaluation episodes per policy (default 100).")
    Integer trials;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of data, training and evaluation.")
    long seed;

    @Option(names = "--threads", description = "CPU threads (default: all cores).")
    Integer threads;

    @Option(names = "--device", defaultValue = "auto", description = "auto (GPU when there is one), cpu or cuda.")
    String device;

    @Option(names = "--env-set", paramLabel = "KEY=VALUE", description = "A sandbox setting for the target and"
            + " source environments alike (repeatable). Default on a CPU: the easier task "
            + "reset.angle_range_deg=30 reset.block_min=176 reset.block_max=336; none with a GPU.")
    List<String> envSet;

    @Option(names = "--full-task", description = "On a CPU too: the full Push-T task (no --env-set defaults).")
    boolean fullTask;

    @Option(names = "--config", paramLabel = "FILE|PRESET", description = "The policies' config (default small_cpu,"
            + " low-dim, on a CPU; pusht_image_transformer, from images, with a GPU); an image config (e.g."
            + " small_cpu_image) generates the data with frames.")
    String config;

    @Override
    public Integer call() throws Exception {
        int n = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        boolean gpu = device.equals("cuda") || (device.equals("auto") && Backends.cuda().isPresent());
        CotrainDemo.Settings d = gpu ? CotrainDemo.Settings.gpu(out, n) : CotrainDemo.Settings.cpu(out, n);
        if (alpha != null && !(alpha > 0 && alpha < 1)) {
            throw new IllegalArgumentException("--alpha must be in (0, 1), got " + alpha);
        }
        d = new CotrainDemo.Settings(out, config != null ? config : d.preset(), realDemos != null ? realDemos : d.realDemos(),
                simDemos != null ? simDemos : d.simDemos(), simEnv != null ? simEnv : d.simEnv(),
                alpha != null ? alpha : d.alpha(), steps != null ? steps : d.trainSteps(),
                trials != null ? trials : d.trials(), d.ddimSteps(), seed, d.device(), n,
                envSet != null ? envSet : fullTask ? List.of() : d.envOverrides());
        if (d.realDemos() < 1 || d.simDemos() < 1 || d.trainSteps() < 1 || d.trials() < 1) {
            throw new IllegalArgumentException("--real-demos, --sim-demos, --steps and --trials must be >= 1");
        }
        System.out.printf("cotrain demo: %s, %d threads, %s policies (%s), into %s%n", gpu ? "GPU" : "CPU", n,
                d.images() ? "image" : "low-dim", d.preset(), out);
        new CotrainDemo(d, System.out).run();
        return 0;
    }
}
