package org.cotrain.experiment;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import org.cotrain.io.AtomicFiles;
import org.cotrain.io.DirectoryLock;
import org.cotrain.io.Json;

/**
 * A cluster task's claim on one sweep point: DIR/claims/&lt;point id&gt;/ locked ({@link DirectoryLock}, so two tasks
 * never run one point, also across nodes on a shared filesystem with file locks) and its task.json naming the task
 * (Slurm job and array task, host, pid, start) for {@link SweepStatus}. Closing releases the claim and removes
 * task.json; a task killed outright leaves task.json behind, and the status tells such a stale one by its job (no
 * longer in the queue) or its pid (gone, on this host).
 */
final class SweepTask implements AutoCloseable {
    static final String CLAIMS = "claims";
    static final String TASK = "task.json";

    /** What task.json says: the Slurm job id ("123_4", or null outside Slurm), host, pid, start. */
    record Info(String job, String host, long pid, String started) {}

    private final Path file;
    private final DirectoryLock lock;

    private SweepTask(Path file, DirectoryLock lock) {
        this.file = file;
        this.lock = lock;
    }

    static Path claimDir(Path outDir, SweepPoint p) {
        return outDir.resolve(CLAIMS).resolve(p.id());
    }

    /** Claims point p of the sweep in outDir; throws DirectoryInUseException (naming the owner) when a task has it. */
    static SweepTask claim(Path outDir, SweepPoint p) throws IOException {
        Path dir = claimDir(outDir, p);
        Files.createDirectories(dir);
        String job = slurmJob();
        DirectoryLock lock = DirectoryLock.claim(dir, "cotrain sweep point " + p.id()
                + (job != null ? ", Slurm job " + job : ""));
        try {
            Path file = dir.resolve(TASK);
            AtomicFiles.writeString(file, String.format(Locale.ROOT,
                    "{\"job\": %s, \"host\": %s, \"pid\": %d, \"started\": %s}%n",
                    job == null ? "null" : Json.quote(job), Json.quote(host()), ProcessHandle.current().pid(),
                    Json.quote(Instant.now().toString())));
            return new SweepTask(file, lock);
        } catch (IOException | RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    /** The task.json of point p, or null when no task has it (or the file is unreadable: a torn write is not one). */
    static Info read(Path outDir, SweepPoint p) {
        Path file = claimDir(outDir, p).resolve(TASK);
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) Json.parse(Files.readString(file));
            Object job = m.get("job");
            return new Info(job == null ? null : job.toString(), String.valueOf(m.get("host")),
                    ((Number) m.get("pid")).longValue(), String.valueOf(m.get("started")));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** This process's Slurm job as squeue names it: JOBID_TASK for an array task, JOBID otherwise; null outside. */
    static String slurmJob() {
        String array = System.getenv("SLURM_ARRAY_JOB_ID");
        String task = System.getenv("SLURM_ARRAY_TASK_ID");
        if (array != null && task != null) {
            return array + "_" + task;
        }
        return System.getenv("SLURM_JOB_ID");
    }

    static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown";
        }
    }

    @Override
    public void close() throws IOException {
        try {
            Files.deleteIfExists(file);
        } finally {
            lock.close();
        }
    }
}
