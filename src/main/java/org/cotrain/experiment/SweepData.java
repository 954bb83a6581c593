package org.cotrain.experiment;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.cotrain.config.PolicyKind;
import org.cotrain.data.RobomimicReader;
import org.cotrain.io.DirectoryLock;
import org.cotrain.sim.DemoGenerator;
import org.cotrain.sim.EnvConfig;
import org.cotrain.sim.expert.Experts;

/**
 * A sweep's datasets ({@link SweepGrid#target()}, {@link SweepGrid#source}): a given file is checked for enough
 * demos; a generated one goes to {@code dir/<env>_<demos>_seed<s>[_<overrides hash>][_img].hdf5} and is reused when it
 * is complete (an interrupted generation leaves an unreadable or short file, which is generated again).
 */
public final class SweepData {
    /** The key of the target dataset in {@link #prepare}'s map (the sources are keyed by their shift). */
    static final String TARGET = "\u0000target";

    private final SweepGrid grid;
    private final Path dir;
    private final int cores;
    private final PrintStream out;

    /** Generated files go to {@code dir}, generated with {@code cores} threads; progress goes to {@code out}. */
    SweepData(SweepGrid grid, Path dir, int cores, PrintStream out) {
        this.grid = grid;
        this.dir = dir;
        this.cores = cores;
        this.out = out;
    }

    /** The dataset files the unfinished points need: generated (or reused) or checked. Key: shift, or TARGET. */
    Map<String, Path> prepare(List<SweepPoint> todo) throws IOException {
        Map<String, Path> files = new LinkedHashMap<>();
        if (todo.isEmpty()) return files;
        int maxReal = todo.stream().mapToInt(SweepPoint::realDemos).max().orElse(0);
        files.put(TARGET, dataset("target data", grid.target(), maxReal));
        for (String shift : grid.shifts()) {
            int maxSim = todo.stream().filter(p -> shift.equals(p.shift())).mapToInt(SweepPoint::simDemos).max()
                    .orElse(0);
            if (maxSim > 0) files.put(shift, dataset("source data " + shift, grid.source(shift), maxSim));
        }
        return files;
    }

    /** The file a data spec names: its path, or where it is generated. */
    Path file(SweepGrid.DataSpec d) {
        return d.generated() ? generatedFile(d) : d.path();
    }

    /**
     * Where a generated dataset goes: DIR/data/&lt;env&gt;_&lt;demos&gt;_seed&lt;s&gt;[_&lt;overrides hash&gt;][_img].hdf5
     * (_img: with the rendered frames, for an image base config).
     */
    public Path generatedFile(SweepGrid.DataSpec d) {
        String suffix = d.envOverrides().isEmpty() ? "" : "_" + Integer.toHexString(String.join(" ",
                d.envOverrides()).hashCode());
        return dir.resolve(d.env() + "_" + d.demos() + "_seed" + d.seed() + suffix + (images() ? "_img" : "")
                + ".hdf5");
    }

    /** "what -> file (there)" or "(to generate)"; a given file, and whether it is missing. */
    String describe(SweepGrid.DataSpec d) {
        if (!d.generated()) return d.path() + (Files.isRegularFile(d.path()) ? "" : " (MISSING)");
        Path f = generatedFile(d);
        return d.describe() + " -> " + f + (demosIn(f) == d.demos() ? " (there)" : " (to generate)");
    }

    /** Whether the points train image policies (the base config is an image config): the data then has frames. */
    private boolean images() {
        return grid.baseConfig().kind() == PolicyKind.IMAGE;
    }

    private Path dataset(String what, SweepGrid.DataSpec d, int needed) throws IOException {
        if (!d.generated()) {
            int n = demosIn(d.path());
            if (n < 0) throw new IllegalArgumentException(what + ": " + d.path() + " is not a readable dataset");
            if (n < needed) {
                throw new IllegalArgumentException(what + ": " + d.path() + " has " + n + " demos, the grid asks for "
                        + needed);
            }
            out.printf(Locale.ROOT, "  %s: %s (%d demos)%n", what, d.path(), n);
            return d.path();
        }
        Path file = generatedFile(d);
        if (demosIn(file) == d.demos()) {
            out.printf(Locale.ROOT, "  %s: %s is already there%n", what, file);
            return file;
        }
        // One generator at a time: the tasks of a cluster sweep share DIR/data, and a file is generated once.
        try (DirectoryLock lock = claimWaiting(file.getParent())) {
            if (demosIn(file) == d.demos()) { // another process generated it while this one waited
                out.printf(Locale.ROOT, "  %s: %s is there now%n", what, file);
                return file;
            }
            return generate(what, d, file);
        }
    }

    private Path generate(String what, SweepGrid.DataSpec d, Path file) throws IOException {
        EnvConfig env = d.envConfig();
        out.printf(Locale.ROOT, "  %s: generating %s into %s%n", what, d.describe(), file);
        ForkJoinPool pool = new ForkJoinPool(cores);
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName("generate " + d.env()).setInitialMax(d.demos())
                .setStyle(ProgressBarStyle.ASCII).setUnit(" demos", 1).setUpdateIntervalMillis(500).build()) {
            DemoGenerator.Result r = DemoGenerator.generate(env, env.expert(), i -> Experts.create(env), d.demos(),
                    file, new DemoGenerator.Options(d.seed(), false, images(), null, bar::stepTo), pool);
            bar.close();
            out.printf(Locale.ROOT, "  %s: %d demos, %d steps, expert success %d/%d, %.1f s%n", file, r.demos(),
                    r.samples(), r.successes(), r.attempts(), r.seconds());
        } finally {
            pool.shutdown();
        }
        return file;
    }

    /** Claims a directory, waiting (up to 6 hours) while another process holds it. */
    private DirectoryLock claimWaiting(Path dir) throws IOException {
        Files.createDirectories(dir);
        long deadline = System.nanoTime() + TimeUnit.HOURS.toNanos(6);
        boolean told = false;
        while (true) {
            try {
                return DirectoryLock.claim(dir, "cotrain sweep: generating datasets");
            } catch (DirectoryLock.DirectoryInUseException busy) {
                if (System.nanoTime() > deadline) throw busy;
                if (!told) out.println("  waiting: " + busy.getMessage());
                told = true;
                try {
                    Thread.sleep(2000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while waiting for " + dir, e);
                }
            }
        }
    }

    /** Demos in a dataset file, or -1 when it is missing or unreadable (an interrupted generation). */
    private static int demosIn(Path file) {
        if (!Files.isRegularFile(file)) return -1;
        try (RobomimicReader r = RobomimicReader.open(file)) {
            return r.demos().size();
        } catch (RuntimeException unreadable) {
            return -1;
        }
    }
}
