package org.cotrain.experiment;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.cotrain.io.Checkpoint;

/**
 * Where each point of a sweep stands, read from the sweep directory alone (so any machine that sees DIR can tell):
 * <pre>
 *   done      points/&lt;id&gt;/result.json exists
 *   running   a task's claim (claims/&lt;id&gt;/task.json) whose Slurm job is still queued (or, outside Slurm, whose
 *             process lives on this host; on another host without squeue: taken at its word)
 *   failed    points/&lt;id&gt;/error.txt, written by the task that failed (its first line is shown)
 *   stopped   a checkpoint and no live task: stopped (SIGTERM, time limit, preemption) or killed; resumes from it
 *   pending   nothing yet
 * </pre>
 */
public final class SweepStatus {
    public enum State { DONE, RUNNING, FAILED, STOPPED, PENDING }

    /** number: the point's 1-based position in SweepPoint.enumerate (its array task id); detail: for people. */
    public record Point(int number, SweepPoint point, State state, String detail) {}

    private SweepStatus() {}

    /**
     * @param queue a Slurm job's state (for JOBID_TASK) while it is queued, else null; null when there is no queue
     *              to ask (no squeue here): see {@link SlurmLauncher#queue}
     */
    public static List<Point> read(SweepGrid grid, Path outDir, Function<String, String> queue) {
        List<SweepPoint> points = SweepPoint.enumerate(grid);
        List<Point> out = new ArrayList<>();
        for (int i = 0; i < points.size(); i++) {
            out.add(of(i + 1, points.get(i), outDir, queue));
        }
        return out;
    }

    private static Point of(int number, SweepPoint p, Path outDir, Function<String, String> queue) {
        Path dir = outDir.resolve(SweepRunner.POINTS).resolve(p.id());
        if (Files.isRegularFile(dir.resolve(SweepRunner.RESULT))) {
            return new Point(number, p, State.DONE, "");
        }
        SweepTask.Info task = SweepTask.read(outDir, p);
        String queued = task != null && task.job() != null && queue != null ? queue.apply(task.job()) : null;
        if (task != null && alive(task, queue, queued)) {
            String where = (task.job() != null ? "job " + task.job() + (queued != null ? " " + queued : "") + ", "
                    : "") + "on " + task.host() + " since " + task.started();
            long step = SweepRunner.lastStep(dir.resolve("metrics.jsonl"));
            return new Point(number, p, State.RUNNING, where + (step > 0 ? ", step " + step : ""));
        }
        Path error = dir.resolve(SweepRunner.ERROR);
        if (Files.isRegularFile(error)) {
            return new Point(number, p, State.FAILED, firstLine(error));
        }
        Path checkpoint = Checkpoint.in(dir);
        if (Files.isRegularFile(checkpoint)) {
            return new Point(number, p, State.STOPPED, "checkpoint at step " + Checkpoint.step(checkpoint));
        }
        return new Point(number, p, State.PENDING, "");
    }

    private static boolean alive(SweepTask.Info task, Function<String, String> queue, String queued) {
        if (task.job() != null && queue != null) {
            return queued != null;
        }
        if (task.host().equals(SweepTask.host())) {
            return ProcessHandle.of(task.pid()).map(ProcessHandle::isAlive).orElse(false);
        }
        return true; // another host and no queue to ask: its claim is all we know
    }

    private static String firstLine(Path file) {
        try {
            return Files.readAllLines(file).stream().findFirst().orElse("");
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    /** Counts per state, in State order. */
    public static Map<State, Integer> counts(List<Point> points) {
        Map<State, Integer> n = new EnumMap<>(State.class);
        for (State s : State.values()) {
            n.put(s, 0);
        }
        for (Point p : points) {
            n.merge(p.state(), 1, Integer::sum);
        }
        return n;
    }

    /** One line per point, then the counts. */
    public static void print(String sweep, List<Point> points, PrintStream out) {
        out.printf(Locale.ROOT, "cotrain sweep %s: %d points%n", sweep, points.size());
        for (Point p : points) {
            out.printf(Locale.ROOT, "  %4d  %-48s %-8s %s%n", p.number(), p.point().id(),
                    p.state().name().toLowerCase(Locale.ROOT), p.detail());
        }
        StringBuilder sb = new StringBuilder("  ");
        counts(points).forEach((s, n) -> sb.append(n).append(' ').append(s.name().toLowerCase(Locale.ROOT))
                .append(", "));
        out.println(sb.substring(0, sb.length() - 2));
    }
}
