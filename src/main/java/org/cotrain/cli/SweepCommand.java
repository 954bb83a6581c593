package org.cotrain.cli;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.cotrain.experiment.SlurmLauncher;
import org.cotrain.experiment.SweepGrid;
import org.cotrain.experiment.SweepRunner;
import org.cotrain.experiment.SweepStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cotrain sweep grid.yaml}: train and evaluate every point of a cotraining grid (|D_R|, |D_S|, alpha, method,
 * shift, seed, plus a real-only baseline), then write the results table and the success-vs-alpha plots. Rerunning
 * the same command continues: finished points are skipped, an interrupted one resumes from its checkpoint. The grid
 * format: {@link SweepGrid}; an example: src/main/resources/org/cotrain/experiment/example_sweep.yaml. With
 * {@code --launcher slurm} the points run as a Slurm job array instead ({@link SlurmLauncher}); {@code --status}
 * shows where every point stands, from the directory alone.
 */
@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = "Train and evaluate a grid of cotrained policies; results table and success-vs-alpha plots.")
final class SweepCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "GRID.yaml", description = "The sweep grid (see example_sweep.yaml).")
    Path gridFile;

    @Option(names = "--out", paramLabel = "DIR", description = "Output directory (default runs/sweep-<grid name>);"
            + " rerunning continues what is unfinished there.")
    Path out;

    @Option(names = "--parallel", defaultValue = "1", paramLabel = "N", description = "Points at once, each with"
            + " cores/N CPU threads (CPU backend only; default ${DEFAULT-VALUE}).")
    int parallel;

    @Option(names = "--threads", paramLabel = "CORES", description = "CPU cores to share among the points (default:"
            + " all cores).")
    Integer cores;

    @Option(names = "--dry-run", description = "Print the datasets and points (finished, resumable, to run) and the"
            + " first unfinished point's config overrides; run nothing.")
    boolean dryRun;

    @Option(names = "--launcher", defaultValue = "local", paramLabel = "local|slurm", description = "local: run the"
            + " points here (default); slurm: submit them as a Slurm job array (one task per unfinished point, CPUs"
            + " per task = --threads, default 2) and a collect job, then return.")
    String launcher;

    @Option(names = "--partition", paramLabel = "P", description = "Slurm partition (default: the cluster's).")
    String partition;

    @Option(names = "--gpus-per-point", paramLabel = "N", description = "GPUs per Slurm task (--gres=gpu:N).")
    Integer gpusPerPoint;

    @Option(names = "--time", paramLabel = "T", description = "Time limit per Slurm task, e.g. 04:00:00; at the"
            + " limit a point stops with a checkpoint and resumes when requeued or resubmitted.")
    String time;

    @Option(names = "--max-concurrent", paramLabel = "K", description = "Slurm tasks running at once (%K).")
    Integer maxConcurrent;

    @Option(names = "--sbatch-arg", paramLabel = "ARG", description = "More sbatch arguments (repeatable), e.g."
            + " --sbatch-arg=--account=lab.")
    List<String> sbatchArgs = new ArrayList<>();

    @Option(names = "--status", description = "Show each point's state (done, running, failed, stopped, pending)"
            + " from DIR alone; run nothing.")
    boolean status;

    @Option(names = "--collect", description = "Write the tables and plots from the finished points and show the"
            + " status (the Slurm collect job runs this); run nothing. Exit 1 unless every point is done.")
    boolean collect;

    @Option(names = "--point", paramLabel = "N", description = "Run point N alone (1-based, as --status numbers"
            + " them): what a Slurm array task runs.")
    Integer point;

    @Override
    public Integer call() throws Exception {
        SweepGrid grid = SweepGrid.load(gridFile);
        Path dir = out != null ? out : Path.of("runs", "sweep-" + grid.name());
        boolean slurm = switch (launcher) {
            case "local" -> false;
            case "slurm" -> true;
            default -> throw new IllegalArgumentException("--launcher " + launcher + ": local or slurm");
        };
        int n = cores != null ? cores : slurm ? 2 : Runtime.getRuntime().availableProcessors();
        SweepRunner runner = new SweepRunner(grid, new SweepRunner.Options(dir, point != null ? 1 : parallel, n,
                dryRun), System.out);
        if (status || collect) {
            if (collect) runner.report();
            List<SweepStatus.Point> points = SweepStatus.read(grid, runner.pointsDir().getParent(),
                    SlurmLauncher.queue());
            SweepStatus.print(grid.name(), points, System.out);
            return !collect || SweepStatus.counts(points).get(SweepStatus.State.DONE) == points.size() ? 0 : 1;
        }
        if (slurm && point == null && !dryRun) {
            SlurmLauncher.Options o = new SlurmLauncher.Options(partition, gpusPerPoint, time, maxConcurrent, n,
                    sbatchArgs, thisCommand());
            new SlurmLauncher(grid, runner.pointsDir().getParent(), o, System.out).submit(runner);
            return 0;
        }
        // Ctrl-C: running trainers stop with a checkpoint; the next run resumes them.
        Thread hook = new Thread(() -> {
            runner.requestStop();
            try {
                runner.awaitFinished(120_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "cotrain-sweep-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            SweepRunner.Outcome o = point != null ? runner.runPoint(point) : runner.run();
            if (o.stopped()) return 130;
            return o.failed().isEmpty() ? 0 : 1;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it is waiting for us
            }
        }
    }

    /** How a Slurm task starts this cotrain: this JVM's java, its heap limit and classpath, the main class. */
    private static List<String> thisCommand() {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("-Xmx") || arg.startsWith("-Dorg.bytedeco")) cmd.add(arg);
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        return cmd;
    }
}
