package org.cotrain.experiment;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.cotrain.io.AtomicFiles;

/**
 * Runs a sweep's unfinished points on a Slurm cluster as one job array, with the sweep directory as the only shared
 * state (a shared filesystem, as on every cluster). Submission (on a login node) prepares the datasets, writes the
 * scripts and submits:
 * <pre>
 * DIR/slurm/sweep.sbatch       the array job: task N runs point N ({@code cotrain sweep GRID --out DIR --point N}),
 *                              at most max-concurrent at once (%K), requeueable
 * DIR/slurm/collect.sbatch     afterany the array: writes the tables and plots ({@code --collect})
 * DIR/slurm/logs/              each task's output (%A_%a.out, appended when a task is requeued)
 * DIR/slurm/jobs.txt           one line per submission: when, the job ids, the points
 * DIR/slurm/grid.yaml          the grid as first submitted: a changed grid is refused (by submission and tasks)
 * </pre>
 * Each task claims its point ({@link SweepTask}), writes its result atomically, and touches no other point's files.
 * A task stopped by the scheduler (time limit, preemption: SIGTERM, then SIGKILL after KillWait) checkpoints on the
 * SIGTERM (the command's shutdown hook stops the trainer); requeued, the same point resumes from that checkpoint,
 * exactly. Submitting again submits only the points that are neither done, running ({@link SweepStatus}) nor still
 * queued by an earlier submission.
 */
public final class SlurmLauncher {
    public static final String DIR = "slurm";
    /** The grid as first submitted into the sweep directory. */
    public static final String GRID = "grid.yaml";

    /**
     * @param partition    --partition, or null for the cluster's default
     * @param gpusPerPoint --gres=gpu:N per task, or null for none
     * @param time         --time per task (Slurm's formats, e.g. 04:00:00), or null for the partition's default
     * @param maxConcurrent tasks at once (the array's %K), or null for no limit
     * @param cpusPerPoint --cpus-per-task, and the point's CPU threads
     * @param sbatchArgs   more sbatch arguments, given to both submissions as they are
     * @param command      how a task starts cotrain (e.g. the java binary, -cp CLASSPATH, org.cotrain.cli.Main)
     */
    public record Options(String partition, Integer gpusPerPoint, String time, Integer maxConcurrent,
                          int cpusPerPoint, List<String> sbatchArgs, List<String> command) {
        public Options {
            if (cpusPerPoint < 1) {
                throw new IllegalArgumentException("--threads (CPUs per point) must be >= 1, got " + cpusPerPoint);
            }
            if (gpusPerPoint != null && gpusPerPoint < 0) {
                throw new IllegalArgumentException("--gpus-per-point must be >= 0, got " + gpusPerPoint);
            }
            if (maxConcurrent != null && maxConcurrent < 1) {
                throw new IllegalArgumentException("--max-concurrent must be >= 1, got " + maxConcurrent);
            }
            sbatchArgs = List.copyOf(sbatchArgs);
            command = List.copyOf(command);
        }
    }

    /** What a submission did: the array and collect job ids (null when nothing was submitted), the points. */
    public record Submission(String arrayJob, String collectJob, List<Integer> points) {}

    private final SweepGrid grid;
    private final Path gridFile; // the tasks read the grid from here
    private final Path outDir;
    private final Options options;
    private final PrintStream out;

    public SlurmLauncher(SweepGrid grid, Path outDir, Options options, PrintStream out) {
        this.grid = grid;
        this.gridFile = grid.file().toAbsolutePath().normalize();
        this.outDir = outDir.toAbsolutePath().normalize();
        this.options = options;
        this.out = out;
    }

    /** Submits every point that is neither done nor running; with every point done, writes the tables instead. */
    public Submission submit(SweepRunner runner) throws IOException {
        requireCommand("sbatch");
        if (Files.exists(outDir) && !Files.isWritable(outDir)) {
            throw new IllegalArgumentException("--out " + outDir + " is not writable by this user: the tasks write"
                    + " their points there");
        }
        requireUnchanged(grid, outDir);
        List<SweepStatus.Point> status = SweepStatus.read(grid, outDir, queue());
        Set<Integer> queued = queuedTasks();
        List<SweepStatus.Point> todo = status.stream().filter(p -> p.state() != SweepStatus.State.DONE
                && p.state() != SweepStatus.State.RUNNING && !queued.contains(p.number())).toList();
        long running = status.stream().filter(p -> p.state() == SweepStatus.State.RUNNING
                || p.state() != SweepStatus.State.DONE && queued.contains(p.number())).count();
        if (todo.isEmpty()) {
            if (running == 0) {
                runner.report();
                out.printf(Locale.ROOT, "cotrain sweep %s: all %d points are done; tables and plots written to %s%n",
                        grid.name(), status.size(), outDir);
            } else {
                out.printf(Locale.ROOT, "cotrain sweep %s: nothing to submit (%d points queued or running, the rest"
                                + " done)%n",
                        grid.name(), running);
            }
            return new Submission(null, null, List.of());
        }
        Files.createDirectories(outDir.resolve(DIR).resolve("logs"));
        Path submitted = outDir.resolve(DIR).resolve(GRID);
        if (!Files.isRegularFile(submitted)) AtomicFiles.writeString(submitted, Files.readString(gridFile));
        // The data first, here: tasks that each generated a missing file would do the same work at the same time.
        runner.data().prepare(todo.stream().map(SweepStatus.Point::point).toList());
        List<Integer> numbers = todo.stream().map(SweepStatus.Point::number).toList();
        Path array = outDir.resolve(DIR).resolve("sweep.sbatch");
        Path collect = outDir.resolve(DIR).resolve("collect.sbatch");
        AtomicFiles.writeString(array, arrayScript(numbers));
        AtomicFiles.writeString(collect, collectScript());
        String arrayJob = sbatch(List.of(), array);
        String collectJob = sbatch(List.of("--dependency=afterany:" + arrayJob), collect);
        String line = String.format(Locale.ROOT, "%s array %s collect %s points %s%n", Instant.now(), arrayJob,
                collectJob, numbers.stream().map(String::valueOf).collect(Collectors.joining(",")));
        Files.writeString(outDir.resolve(DIR).resolve("jobs.txt"), line, StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        out.printf(Locale.ROOT, "cotrain sweep %s: submitted job array %s (%d of %d points%s, %d CPU%s%s each) and"
                        + " collect job %s%n  status: cotrain sweep %s --out %s --status%n", grid.name(), arrayJob,
                numbers.size(), status.size(), options.maxConcurrent() == null ? ""
                        : ", at most " + options.maxConcurrent() + " at once", options.cpusPerPoint(),
                options.cpusPerPoint() == 1 ? "" : "s", options.gpusPerPoint() == null ? ""
                        : ", " + options.gpusPerPoint() + " GPU" + (options.gpusPerPoint() == 1 ? "" : "s"),
                collectJob, gridFile, outDir);
        return new Submission(arrayJob, collectJob, numbers);
    }

    /**
     * Refuses a grid whose text differs from the one first submitted into outDir (DIR/slurm/grid.yaml): the points
     * already finished or queued belong to that one. Submission and every task check it, so an edit of the grid file
     * while tasks wait in the queue fails those tasks (each with its error) instead of mixing two grids in one sweep.
     */
    public static void requireUnchanged(SweepGrid grid, Path outDir) throws IOException {
        Path submitted = outDir.resolve(DIR).resolve(GRID);
        if (Files.isRegularFile(submitted) && Files.isRegularFile(grid.file())
                && !Files.readString(submitted).equals(Files.readString(grid.file()))) {
            throw new IllegalArgumentException(grid.file() + " has changed since it was first submitted into "
                    + outDir + " (that grid is " + submitted + "): restore it, or use a new --out for the new grid");
        }
    }

    /** The tasks (point numbers) of this sweep's earlier array jobs (DIR/slurm/jobs.txt) still in the queue. */
    private Set<Integer> queuedTasks() throws IOException {
        Set<Integer> tasks = new TreeSet<>();
        Path jobs = outDir.resolve(DIR).resolve("jobs.txt");
        if (!Files.isRegularFile(jobs) || !onPath("squeue")) {
            return tasks;
        }
        for (String line : Files.readAllLines(jobs)) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 3 || !f[1].equals("array")) continue;
            // -r: one line per array task, pending ones included; %K: the task id
            Result r = run(List.of("squeue", "-h", "-r", "-j", f[2], "-o", "%K"), 30);
            if (r.exit != 0) continue; // a job the controller has forgotten
            for (String id : r.output.split("\\s+")) {
                if (id.matches("\\d+")) tasks.add(Integer.parseInt(id));
            }
        }
        return tasks;
    }

    /** The array job's script: task N runs point N. */
    String arrayScript(List<Integer> numbers) {
        String ids = numbers.stream().map(String::valueOf).collect(Collectors.joining(","));
        StringBuilder s = header("cotrain sweep " + grid.name() + ": task N trains and evaluates point N (`cotrain"
                + " sweep GRID --out DIR --status` numbers them)", "cotrain-" + grid.name());
        s.append("#SBATCH --array=").append(ids).append(options.maxConcurrent() == null ? ""
                : "%" + options.maxConcurrent()).append('\n');
        s.append("#SBATCH --output=").append(outDir.resolve(DIR).resolve("logs")).append("/%A_%a.out\n");
        s.append("#SBATCH --open-mode=append\n");
        s.append("#SBATCH --requeue\n");
        s.append("#SBATCH --cpus-per-task=").append(options.cpusPerPoint()).append('\n');
        if (options.time() != null) s.append("#SBATCH --time=").append(options.time()).append('\n');
        if (options.gpusPerPoint() != null && options.gpusPerPoint() > 0) {
            s.append("#SBATCH --gres=gpu:").append(options.gpusPerPoint()).append('\n');
        }
        // exec: the scheduler's SIGTERM reaches the JVM itself, whose shutdown hook checkpoints the training.
        s.append("exec ").append(command()).append(" sweep ").append(quote(gridFile.toString())).append(" --out ")
                .append(quote(outDir.toString())).append(" --point \"$SLURM_ARRAY_TASK_ID\" --threads \"${SLURM_CPUS_PER_TASK:-")
                .append(options.cpusPerPoint()).append("}\"\n");
        return s.toString();
    }

    /** The collect job's script: the tables and plots of every finished point, and the status. */
    String collectScript() {
        StringBuilder s = header("cotrain sweep " + grid.name() + ": the tables and plots, after the array",
                "cotrain-" + grid.name() + "-collect");
        s.append("#SBATCH --output=").append(outDir.resolve(DIR).resolve("logs")).append("/collect_%j.out\n");
        s.append("#SBATCH --cpus-per-task=1\n");
        s.append("exec ").append(command()).append(" sweep ").append(quote(gridFile.toString())).append(" --out ")
                .append(quote(outDir.toString())).append(" --collect\n");
        return s.toString();
    }

    private StringBuilder header(String comment, String name) {
        StringBuilder s = new StringBuilder("#!/bin/bash\n# ").append(comment).append('\n');
        s.append("# written by cotrain sweep --launcher slurm; submitting again writes it again\n");
        s.append("#SBATCH --job-name=").append(name.replaceAll("[^A-Za-z0-9._-]", "_")).append('\n');
        if (options.partition() != null) s.append("#SBATCH --partition=").append(options.partition()).append('\n');
        return s;
    }

    private String command() {
        return options.command().stream().map(SlurmLauncher::quote).collect(Collectors.joining(" "));
    }

    /** Submits a script; returns its job id (sbatch --parsable prints "ID" or "ID;CLUSTER"). */
    private String sbatch(List<String> args, Path script) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("sbatch", "--parsable"));
        cmd.addAll(args);
        cmd.addAll(options.sbatchArgs());
        cmd.add(script.toString());
        Result r = run(cmd, 60);
        if (r.exit != 0) {
            throw new IOException("sbatch refused " + script + " (exit " + r.exit + "): " + r.output.strip());
        }
        String id = r.output.strip().split(";")[0].strip();
        if (!id.matches("\\d+")) {
            throw new IOException("sbatch printed no job id for " + script + ": " + r.output.strip());
        }
        return id;
    }

    /**
     * The queue's answer for a job id (JOBID or JOBID_TASK): its state (PENDING, RUNNING, ...) while it is queued,
     * null once it has left; or null for every id when squeue is not on this machine.
     */
    public static Function<String, String> queue() {
        if (!onPath("squeue")) {
            return null;
        }
        return id -> {
            try {
                Result r = run(List.of("squeue", "-h", "-j", id, "-o", "%T"), 30);
                String state = r.output.strip();
                return r.exit == 0 && !state.isEmpty() ? state.lines().findFirst().orElse(null) : null;
            } catch (IOException e) {
                return null;
            }
        };
    }

    private static void requireCommand(String name) {
        if (!onPath(name)) {
            throw new IllegalStateException("--launcher slurm needs Slurm's " + name + " on the PATH, and it is not"
                    + " there: run this on a login node of the cluster (or --launcher local)");
        }
    }

    static boolean onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) return false;
        for (String d : path.split(File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, name))) return true;
        }
        return false;
    }

    private record Result(int exit, String output) {}

    private static Result run(List<String> cmd, int timeoutSeconds) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            byte[] bytes = p.getInputStream().readAllBytes();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + " did not answer in " + timeoutSeconds + " s");
            }
            return new Result(p.exitValue(), new String(bytes, StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + " interrupted", e);
        }
    }

    /** A word for bash: single-quoted unless it is plainly safe. */
    static String quote(String s) {
        if (s.matches("[A-Za-z0-9_./:=@%+-]+")) return s;
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
