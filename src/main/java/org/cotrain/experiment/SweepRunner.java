package org.cotrain.experiment;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.cotrain.backend.Backends;
import org.cotrain.config.Config;
import org.cotrain.config.TrainConfig;
import org.cotrain.data.Datasets;
import org.cotrain.data.DemoDataset;
import org.cotrain.io.AtomicFiles;
import org.cotrain.io.Checkpoint;
import org.cotrain.io.DirectoryLock;
import org.cotrain.io.Json;
import org.cotrain.sim.EnvConfig;
import org.cotrain.sim.Evaluator;
import org.cotrain.tensor.Backend;
import org.cotrain.train.Trainer;

/**
 * Runs a sweep ({@link SweepGrid}) into an output directory:
 * <pre>
 * DIR/grid.yaml                       the grid of the latest run
 * DIR/data/&lt;env&gt;_&lt;demos&gt;_seed&lt;s&gt;[_img].hdf5   generated datasets (with the 96x96 frames, _img, when the
 *                                     base config is an image config), reused when complete
 * DIR/points/&lt;id&gt;/                    one run directory per point: config.yaml, checkpoints/, metrics.jsonl, loss.png
 * DIR/points/&lt;id&gt;/result.json        the point's parameters, its evaluation and timings: the point is finished
 * DIR/results.csv, results.json       one row per finished point; summary.csv and results.json: over seeds
 * DIR/methods.md                      methods compared at one data size
 * DIR/plots/success_vs_alpha*.png     success rate vs alpha, one panel per |D_R|, and all panels together
 * DIR/plots/coverage_vs_alpha*.png    the same for the mean max coverage
 * </pre>
 * The sweep claims DIR ({@link DirectoryLock}) and each point's trainer claims the point's run directory, so a second
 * sweep into DIR is refused while one runs. Resumable: a point with a result.json is skipped (its files are not
 * touched), a point with a checkpoint continues from it (training.resume=true; the point's config is the grid's, so
 * a grid changed in another key than the steps is refused for that point), and a point whose training finished but whose evaluation was interrupted is only
 * evaluated. Every point is evaluated from the same initial conditions (eval.seed) with the policy sampling seeded by
 * the same seed, so points differ only by what they were trained on and their training seed. Points run one at a
 * time with the trainer's progress bar, or (CPU backend only) {@code parallel} at a time with cores / parallel
 * threads each: their output then goes to each point's log.txt and the console gets a status line every 30 seconds.
 * Training is bitwise the same with any thread count, so a point's result does not depend on {@code parallel}.
 * A point that fails (e.g. a diverged loss) is reported and the others go on; Ctrl-C ({@link #requestStop}) stops
 * the running trainers with a checkpoint.
 */
public final class SweepRunner {
    public static final String RESULT = "result.json";
    public static final String POINTS = "points";
    /** A point's error, written by the run that failed (the message, then the stack trace), removed on success. */
    public static final String ERROR = "error.txt";

    /**
     * @param outDir   the sweep directory
     * @param parallel points at once
     * @param cores    CPU cores to share among them (cotrain.threads = cores / parallel, at least 1)
     * @param dryRun   only print the plan
     */
    public record Options(Path outDir, int parallel, int cores, boolean dryRun) {
        public Options {
            if (parallel < 1) throw new IllegalArgumentException("--parallel must be >= 1, got " + parallel);
            if (cores < 1) throw new IllegalArgumentException("cores must be >= 1, got " + cores);
            outDir = outDir.toAbsolutePath().normalize();
        }

        public int threadsPerPoint() {
            return Math.max(1, cores / parallel);
        }
    }

    /** What a run did: points in the grid, skipped as finished, finished now, failed (id: message), stopped. */
    public record Outcome(int total, int skipped, int ran, List<String> failed, boolean stopped, List<Path> plots) {}

    private final SweepGrid grid;
    private final Options options;
    private final PrintStream out;
    private final SweepData data;
    private final Map<String, Running> running = new ConcurrentHashMap<>();
    private final CountDownLatch finished = new CountDownLatch(1);
    private volatile boolean stopRequested;

    /** A point in progress: its trainer (while training) and evaluation progress, for status lines and Ctrl-C. */
    private static final class Running {
        final Path dir;
        final long start = System.nanoTime();
        volatile Trainer trainer;
        volatile String phase = "starting";
        final AtomicInteger episodes = new AtomicInteger();

        Running(Path dir) {
            this.dir = dir;
        }
    }

    public SweepRunner(SweepGrid grid, Options options, PrintStream out) {
        this.grid = grid;
        this.options = options;
        this.out = out;
        this.data = new SweepData(grid, options.outDir().resolve("data"), options.cores(), out);
    }

    /** The sweep's datasets: where they are generated, and their generation. */
    public SweepData data() {
        return data;
    }

    /** Stops starting points and asks the running trainers to stop with a checkpoint (Ctrl-C). */
    public void requestStop() {
        stopRequested = true;
        for (Running r : running.values()) {
            Trainer t = r.trainer;
            if (t != null) t.requestStop();
        }
    }

    /** Waits (up to the given milliseconds) for {@link #run} to return. */
    public boolean awaitFinished(long millis) throws InterruptedException {
        return finished.await(millis, TimeUnit.MILLISECONDS);
    }

    public Path pointsDir() {
        return options.outDir().resolve(POINTS);
    }

    public Path pointDir(SweepPoint p) {
        return pointsDir().resolve(p.id());
    }

    public Outcome run() throws IOException {
        try {
            return sweep();
        } finally {
            finished.countDown();
        }
    }

    /**
     * Runs point {@code number} (1-based, in {@link SweepPoint#enumerate}'s order, as the dry run lists them) alone: a task of a cluster job array
     * ({@link SlurmLauncher}). Other tasks run in DIR at the same time, so this claims the point only
     * ({@link SweepTask}), not DIR, and leaves the tables to {@link #report()}; the data must be there (the
     * submission prepares it; a missing file is generated here). A finished point is not run again; a point with a
     * checkpoint resumes from it; a failure is written to the point's error.txt.
     */
    public Outcome runPoint(int number) throws IOException {
        try {
            List<SweepPoint> points = SweepPoint.enumerate(grid);
            if (number < 1 || number > points.size()) {
                throw new IllegalArgumentException("--point " + number + ": the grid " + grid.name() + " has points 1"
                        + " to " + points.size());
            }
            SweepPoint p = points.get(number - 1);
            try (SweepTask task = SweepTask.claim(options.outDir(), p)) {
                try {
                    SlurmLauncher.requireUnchanged(grid, options.outDir());
                } catch (IllegalArgumentException changed) {
                    writeError(pointDir(p), changed.getMessage(), changed);
                    throw changed;
                }
                if (Files.isRegularFile(pointDir(p).resolve(RESULT))) {
                    out.printf(Locale.ROOT, "cotrain sweep %s: point %d (%s) is finished already%n", grid.name(),
                            number, p.id());
                    return new Outcome(points.size(), 1, 0, List.of(), false, List.of());
                }
                Map<String, Path> files = data.prepare(List.of(p));
                List<String> failed = Collections.synchronizedList(new ArrayList<>());
                AtomicInteger ran = new AtomicInteger();
                int finished = (int) points.stream().filter(q -> Files.isRegularFile(pointDir(q).resolve(RESULT)))
                        .count();
                runOne(p, number, points.size(), files, options.threadsPerPoint(), out, false, failed, ran,
                        new ArrayList<>(), new AtomicInteger(finished), 1, false);
                return new Outcome(points.size(), 0, ran.get(), List.copyOf(failed),
                        failed.isEmpty() && ran.get() == 0, List.of());
            }
        } finally {
            finished.countDown();
        }
    }

    /** Writes the tables and plots from every finished point's result.json (a cluster sweep's collect step). */
    public List<Path> report() throws IOException {
        Files.createDirectories(options.outDir());
        if (Files.isRegularFile(grid.file())) {
            AtomicFiles.writeString(options.outDir().resolve("grid.yaml"), Files.readString(grid.file()));
        }
        return report(SweepPoint.enumerate(grid));
    }

    private Outcome sweep() throws IOException {
        List<SweepPoint> points = SweepPoint.enumerate(grid);
        List<SweepPoint> todo = new ArrayList<>();
        for (SweepPoint p : points) {
            if (!Files.isRegularFile(pointDir(p).resolve(RESULT))) todo.add(p);
        }
        int threads = options.threadsPerPoint();
        String device = grid.baseConfig().toTrainConfig().training().device();
        out.printf(Locale.ROOT, "cotrain sweep %s: %d points (%d finished, %d to run), %d at a time with %d thread%s"
                        + " each, device %s, into %s%n", grid.name(), points.size(), points.size() - todo.size(),
                todo.size(), options.parallel(), threads, threads == 1 ? "" : "s", device, options.outDir());
        out.printf(Locale.ROOT, "  evaluation: %s, %d trials per point from seed %d, sampling %s%n", grid.eval().env(),
                grid.eval().trials(), grid.eval().seed(), grid.eval().sampling());
        if (options.dryRun()) {
            dryRun(points, todo, threads);
            return new Outcome(points.size(), points.size() - todo.size(), 0, List.of(), false, List.of());
        }
        if (options.parallel() > 1 && !todo.isEmpty()
                && !(Backends.forDevice(device, threads) instanceof org.cotrain.backend.CpuBackend)) {
            // The CUDA backend has one stream for every caller (and reductions share one scratch buffer on it):
            // two trainings at once on it would interleave their work on that stream.
            throw new IllegalArgumentException("--parallel " + options.parallel() + " runs points at once on the CPU"
                    + " backend only; training.device=" + device + " uses the GPU, run one point at a time there");
        }
        if (Files.exists(options.outDir()) && !Files.isDirectory(options.outDir())) {
            throw new IllegalArgumentException(options.outDir() + " is a file, not a directory: --out must name a"
                    + " sweep directory (new or a sweep's)");
        }
        Files.createDirectories(options.outDir());
        // one sweep process per directory: a second one would train the same points into the same run directories
        try (DirectoryLock lock = DirectoryLock.claim(options.outDir(), "cotrain sweep " + grid.name())) {
            AtomicFiles.removeLeftovers(options.outDir());
            return sweepClaimed(points, todo, threads);
        }
    }

    private Outcome sweepClaimed(List<SweepPoint> points, List<SweepPoint> todo, int threads) throws IOException {
        if (Files.isRegularFile(grid.file())) {
            AtomicFiles.writeString(options.outDir().resolve("grid.yaml"), Files.readString(grid.file()));
        }
        Map<String, Path> data = this.data.prepare(todo);
        List<String> failed = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger ran = new AtomicInteger();
        List<Double> pointSeconds = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger done = new AtomicInteger(points.size() - todo.size());

        if (options.parallel() == 1) {
            for (int i = 0; i < todo.size() && !stopRequested; i++) {
                SweepPoint p = todo.get(i);
                runOne(p, points.indexOf(p) + 1, points.size(), data, threads, out, true, failed, ran, pointSeconds,
                        done, todo.size(), true);
            }
        } else {
            ExecutorService pool = Executors.newFixedThreadPool(options.parallel(), r -> {
                Thread t = new Thread(r, "sweep-point");
                t.setDaemon(true);
                return t;
            });
            ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "sweep-status");
                t.setDaemon(true);
                return t;
            });
            ticker.scheduleAtFixedRate(this::status, 30, 30, TimeUnit.SECONDS);
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (SweepPoint p : todo) {
                    futures.add(pool.submit(() -> {
                        if (stopRequested) return null;
                        Path dir = pointDir(p);
                        Files.createDirectories(dir);
                        try (PrintStream log = new PrintStream(new FileOutputStream(dir.resolve("log.txt").toFile(),
                                true), true, StandardCharsets.UTF_8)) {
                            runOne(p, points.indexOf(p) + 1, points.size(), data, threads, log, false, failed, ran,
                                    pointSeconds, done, todo.size(), true);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : futures) {
                    try {
                        f.get();
                    } catch (java.util.concurrent.ExecutionException e) {
                        throw new IOException("sweep point task failed: " + e.getCause(), e.getCause());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        requestStop();
                        break;
                    }
                }
            } finally {
                ticker.shutdownNow();
                pool.shutdown();
            }
        }
        List<Path> plots = report(points);
        boolean stopped = stopRequested && done.get() < points.size();
        out.printf(Locale.ROOT, "%ncotrain sweep %s: %d of %d points finished (%d now)%s; results in %s%n",
                grid.name(), done.get(), points.size(), ran.get(), failed.isEmpty() ? "" : ", " + failed.size()
                        + " failed", options.outDir());
        for (String f : failed) out.println("  failed: " + f);
        if (stopped) out.println("  stopped; run the same command again to continue");
        return new Outcome(points.size(), points.size() - todo.size(), ran.get(), List.copyOf(failed), stopped, plots);
    }

    /**
     * Trains (or finishes), evaluates and records one point; failures are reported and recorded (the list and the
     * point's error.txt), not thrown. writeTables: rewrite the tables after the point (not when other processes may
     * be writing them).
     */
    private void runOne(SweepPoint p, int index, int total, Map<String, Path> data, int threads, PrintStream log,
                        boolean progress, List<String> failed, AtomicInteger ran, List<Double> pointSeconds,
                        AtomicInteger done, int todo, boolean writeTables) {
        String tag = String.format(Locale.ROOT, "[point %d/%d] %s", index, total, p.id());
        Path dir = pointDir(p);
        Running r = new Running(dir);
        running.put(p.id(), r);
        try {
            out.printf(Locale.ROOT, "%n%s: %s%n", tag, describe(p));
            Files.createDirectories(dir);
            Config config = p.config(grid, data.get(SweepData.TARGET), p.isRealOnly() ? null : data.get(p.shift()), threads);
            String device = config.toTrainConfig().training().device();
            Backend backend = Backends.forDevice(device, threads);
            long resumedFrom = Checkpoint.step(Checkpoint.in(dir));
            Trainer trainer = new Trainer(config, dir, backend, log).showProgress(progress);
            r.trainer = trainer;
            r.phase = "training";
            if (stopRequested) return;
            Trainer.Result trained = trainer.run();
            double trainSeconds = trained.trainSeconds(); // over every resumed part of the point's training
            r.trainer = null;
            if (trained.stopped()) {
                out.printf(Locale.ROOT, "%s: stopped at step %d of %d (checkpoint kept)%n", tag, trained.steps(),
                        trained.totalSteps());
                return;
            }
            if (stopRequested) return;
            r.phase = "evaluating";
            out.printf(Locale.ROOT, "%s: trained %d steps in %.0f s%s; evaluating %d trials on %s%n", tag,
                    trained.steps(), trainSeconds, resumedFrom > 0 ? " (resumed at step " + resumedFrom + ")" : "",
                    grid.eval().trials(), grid.eval().env());
            SweepGrid.Eval e = grid.eval();
            EnvConfig env = e.envConfig();
            long t1 = System.nanoTime();
            Evaluator.Result result;
            ForkJoinPool pool = new ForkJoinPool(threads);
            try {
                if (progress) {
                    try (ProgressBar bar = new ProgressBarBuilder().setTaskName("eval " + e.env())
                            .setInitialMax(e.trials()).setStyle(ProgressBarStyle.ASCII).setUnit(" episodes", 1)
                            .setUpdateIntervalMillis(500).build()) {
                        result = evaluate(dir, backend, env, pool, i -> {
                            r.episodes.incrementAndGet();
                            bar.step();
                        });
                    }
                } else {
                    result = evaluate(dir, backend, env, pool, i -> r.episodes.incrementAndGet());
                }
            } finally {
                pool.shutdown();
            }
            double evalSeconds = (System.nanoTime() - t1) / 1e9;
            List<List<String>> demos = trainingDemos(config);
            AtomicFiles.writeString(dir.resolve(RESULT), resultJson(p, data, device, threads, trained, resumedFrom,
                    trainSeconds, evalSeconds, demos, result));
            Files.deleteIfExists(dir.resolve(ERROR)); // an earlier failure of this point, since fixed
            ran.incrementAndGet();
            int nowDone = done.incrementAndGet();
            pointSeconds.add(trainSeconds + evalSeconds);
            double[] w = result.wilson95();
            double mean = pointSeconds.stream().mapToDouble(Double::doubleValue).average().orElse(0);
            int left = total - nowDone;
            out.printf(Locale.ROOT, "%s: %d/%d = %.3f [%.3f, %.3f], mean max coverage %.3f; train %.0f s, eval %.0f s"
                            + " | %d of %d points finished%s%n", tag, result.successes(), result.trials(),
                    result.successRate(), w[0], w[1], result.meanMaxCoverage(), trainSeconds, evalSeconds, nowDone,
                    total, left > 0 ? String.format(Locale.ROOT, ", about %s left", duration(mean * left
                            / options.parallel())) : "");
            if (writeTables) {
                synchronized (this) {
                    report(SweepPoint.enumerate(grid));
                }
            }
        } catch (Exception | OutOfMemoryError ex) {
            String message = ex.getMessage() != null ? ex.getMessage() : ex.toString();
            failed.add(p.id() + ": " + message);
            out.printf(Locale.ROOT, "%s: FAILED: %s%n", tag, message);
            if (log != out) ex.printStackTrace(log);
            writeError(dir, message, ex);
        } finally {
            running.remove(p.id());
        }
    }

    private static void writeError(Path dir, String message, Throwable ex) {
        try {
            StringWriter trace = new StringWriter();
            ex.printStackTrace(new PrintWriter(trace));
            Files.createDirectories(dir);
            AtomicFiles.writeString(dir.resolve(ERROR), message.replace('\n', ' ') + "\n\n" + trace);
        } catch (IOException | RuntimeException e) {
            ex.addSuppressed(e); // the failure is reported already; its file is a convenience
        }
    }

    private Evaluator.Result evaluate(Path dir, Backend backend, EnvConfig env, ForkJoinPool pool,
                                      IntConsumer onEpisode) throws IOException {
        SweepGrid.Eval e = grid.eval();
        return PolicyEvaluation.evaluate(Checkpoint.in(dir), backend, env, e.trials(), e.seed(),
                e.ddimSteps(), e.batch(), 0, null, pool, onEpisode);
    }

    /** Rewrites the tables and plots from every finished point's result.json. */
    private synchronized List<Path> report(List<SweepPoint> points) throws IOException {
        SweepResults results = SweepResults.read(pointsDir(), points);
        results.write(options.outDir(), grid, points.size());
        return SweepPlots.write(options.outDir().resolve("plots"), grid, results);
    }

    private String describe(SweepPoint p) {
        if (p.isRealOnly()) {
            return String.format(Locale.ROOT, "real_only, the first %d target demos alone, seed %d", p.realDemos(),
                    p.seed());
        }
        return String.format(Locale.ROOT, "%d target + %d %s demos, alpha %.4f%s, method %s, seed %d", p.realDemos(),
                p.simDemos(), p.shift(), p.alphaValue(), p.alpha().natural() ? " (natural)" : "", p.method(),
                p.seed());
    }

    private String resultJson(SweepPoint p, Map<String, Path> data, String device, int threads,
                              Trainer.Result trained, long resumedFrom, double trainSeconds, double evalSeconds,
                              List<List<String>> demos, Evaluator.Result result) {
        SweepGrid.Eval e = grid.eval();
        Path sim = p.isRealOnly() ? null : data.get(p.shift());
        return "{\n  \"point\": " + p.toJson()
                + ",\n  \"sweep\": " + Json.quote(grid.name())
                + ",\n  \"data\": {\"real\": " + Json.quote(data.get(SweepData.TARGET).toString()) + ", \"sim\": "
                + (sim == null ? "null" : Json.quote(sim.toString())) + "}"
                + String.format(Locale.ROOT, ",%n  \"device\": %s,%n  \"threads\": %d,%n  \"train_steps\": %d,"
                                + "%n  \"resumed_from_step\": %d,%n  \"train_seconds\": %.3f,%n  \"eval_seconds\": %.3f",
                        Json.quote(device), threads, trained.steps(), resumedFrom, trainSeconds, evalSeconds)
                + String.format(Locale.ROOT, ",%n  \"eval\": {\"env\": %s, \"trials\": %d, \"seed\": %d,"
                                + " \"sampling\": %s, \"ddim_steps\": %s, \"batch\": %d, \"env_overrides\": [%s]}",
                        Json.quote(e.env()), e.trials(), e.seed(), Json.quote(e.sampling()),
                        e.ddimSteps() == null ? "null" : e.ddimSteps().toString(), e.batch(),
                        String.join(", ", e.envOverrides().stream().map(Json::quote).toList()))
                + ",\n  \"train_demos\": {\"real\": " + jsonList(demos.get(0)) + ", \"sim\": "
                + (demos.size() > 1 ? jsonList(demos.get(1)) : "null") + "}"
                + ",\n  \"result\": " + result.toJson().strip().replace("\n", "\n  ") + "\n}\n";
    }

    private static String jsonList(List<String> items) {
        return "[" + String.join(", ", items.stream().map(Json::quote).toList()) + "]";
    }

    /**
     * The training demos of each dataset of a config, in file order, as the Trainer selects them (validation split,
     * then the first cotrain.dataset_max_train_episodes / task.dataset.max_train_episodes training demos): recorded
     * in result.json, so that a point says exactly what it was trained on (and nested subsets can be checked).
     */
    public static List<List<String>> trainingDemos(Config config) {
        TrainConfig tc = config.toTrainConfig();
        List<List<String>> out = new ArrayList<>();
        for (DemoDataset data : Datasets.load(tc.task().dataset(), tc.cotrain())) {
            List<String> names = new ArrayList<>();
            boolean[] train = data.trainMask();
            for (int i = 0; i < train.length; i++) {
                if (train[i]) names.add(data.demoNames().get(i));
            }
            out.add(List.copyOf(names));
        }
        return out;
    }

    // ---- status ---------------------------------------------------------------------------------------------------

    private void dryRun(List<SweepPoint> points, List<SweepPoint> todo, int threads) {
        out.println("  data:");
        out.println("    target: " + data.describe(grid.target()));
        for (String shift : grid.shifts()) out.println("    " + shift + ": " + data.describe(grid.source(shift)));
        out.println("  points:");
        for (int i = 0; i < points.size(); i++) {
            SweepPoint p = points.get(i);
            Path dir = pointDir(p);
            String state;
            if (Files.isRegularFile(dir.resolve(RESULT))) {
                state = "finished";
            } else if (Files.isRegularFile(Checkpoint.in(dir))) {
                state = "resumes from its checkpoint at step " + Checkpoint.step(Checkpoint.in(dir));
            } else {
                state = "to run";
            }
            out.printf(Locale.ROOT, "    %3d  %-48s %s%n", i + 1, p.id(), state);
        }
        if (!todo.isEmpty()) {
            SweepPoint p = todo.get(0);
            Path real = data.file(grid.target());
            Path sim = p.isRealOnly() ? null : data.file(grid.source(p.shift()));
            out.println("  config overrides of " + p.id() + ": " + String.join(" ",
                    p.config(grid, real, sim, threads).overrides()));
        }
    }

    private void status() {
        if (running.isEmpty()) return;
        StringBuilder sb = new StringBuilder("  running:");
        for (Map.Entry<String, Running> e : running.entrySet()) {
            Running r = e.getValue();
            String what = switch (r.phase) {
                case "training" -> "training, step " + lastStep(r.dir.resolve("metrics.jsonl"));
                case "evaluating" -> "evaluating, " + r.episodes.get() + "/" + grid.eval().trials() + " episodes";
                default -> r.phase;
            };
            sb.append(String.format(Locale.ROOT, " %s (%s, %s)", e.getKey(), what,
                    duration((System.nanoTime() - r.start) / 1e9)));
        }
        out.println(sb);
    }

    private static final Pattern STEP = Pattern.compile("\"step\": ?(\\d+)");

    /** The step of the last line of a metrics log (cheap: reads its tail). */
    static long lastStep(Path metrics) {
        try (RandomAccessFile f = new RandomAccessFile(metrics.toFile(), "r")) {
            long len = f.length();
            int n = (int) Math.min(len, 4096);
            byte[] tail = new byte[n];
            f.seek(len - n);
            f.readFully(tail);
            Matcher m = STEP.matcher(new String(tail, StandardCharsets.UTF_8));
            long step = 0;
            while (m.find()) step = Long.parseLong(m.group(1)) + 1;
            return step;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }


    static String duration(double seconds) {
        if (seconds < 90) return String.format(Locale.ROOT, "%.0f s", seconds);
        if (seconds < 5400) return String.format(Locale.ROOT, "%.0f min", seconds / 60);
        return String.format(Locale.ROOT, "%.1f h", seconds / 3600);
    }
}
