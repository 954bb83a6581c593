package org.cotrain.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.cotrain.experiment.SweepGrid;
import org.cotrain.experiment.SweepRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cotrain sweep grid.yaml}: train and evaluate every point of a cotraining grid (|D_R|, |D_S|, alpha, method,
 * shift, seed, plus a real-only baseline), then write the results table and the success-vs-alpha plots. Rerunning
 * the same command continues: finished points are skipped, an interrupted one resumes from its checkpoint. The grid
 * format: {@link SweepGrid}; an example: src/main/resources/org/cotrain/experiment/example_sweep.yaml.
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

    @Override
    public Integer call() throws Exception {
        SweepGrid grid = SweepGrid.load(gridFile);
        Path dir = out != null ? out : Path.of("runs", "sweep-" + grid.name());
        int n = cores != null ? cores : Runtime.getRuntime().availableProcessors();
        SweepRunner runner = new SweepRunner(grid, new SweepRunner.Options(dir, parallel, n, dryRun), System.out);
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
            SweepRunner.Outcome o = runner.run();
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
}
