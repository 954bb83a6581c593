package org.cotrain.experiment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.cotrain.cli.Main;
import org.cotrain.io.Checkpoint;
import org.cotrain.io.Json;
import org.cotrain.io.Safetensors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sweep as a Slurm job array on a real Slurm: a single-node cluster on this machine (scripts/slurm-local.sh starts
 * one, installing Debian's slurm-wlm when it is missing; where it cannot, no root or no apt, the test skips and says
 * why). Four points at toy scale run as array tasks, one of them requeued mid-training as a preemption would (Slurm
 * sends it SIGTERM): it checkpoints and resumes when it runs again; the dependent collect job writes the tables; every
 * point ends bit for bit where the same grid run with the local launcher ends; a changed grid is refused, and a
 * second submission finds nothing to do.
 */
class SlurmSweepTest {
    // 4 points of 300 steps: long enough to requeue one mid-training, with a checkpoint every epoch of 20 steps
    static final String GRID = """
            config: small_cpu
            overrides: [cotrain.total_train_steps=300, training.max_train_steps=20, training.checkpoint_every=1,
                        policy.model.n_layer=1, dataloader.batch_size=16]
            eval: {trials: 4, ddim_steps: 2, batch: 4, overrides: [max_steps=16]}
            grid: {real_demos: [2], sim_demos: [3], alpha: [natural, 0.25, 0.75], seeds: [0]}
            """;

    @TempDir
    static Path shared;
    static Path real;
    static Path sim;

    @BeforeAll
    static void slurm() throws Exception {
        Path script = Path.of("scripts/slurm-local.sh").toAbsolutePath();
        if (!Files.isRegularFile(script)) script = Path.of("../scripts/slurm-local.sh").toAbsolutePath();
        Process p = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        boolean finished = p.waitFor(300, TimeUnit.SECONDS);
        if (!finished || p.exitValue() != 0) {
            String reason = "Slurm test skipped: no local Slurm could be started (" + script + ": "
                    + (finished ? "exit " + p.exitValue() : "no answer in 300 s") + "): " + output;
            System.out.println(reason);
            Assumptions.abort(reason);
        }
        real = SweepRunnerTest.generate("target", 4, shared.resolve("real.hdf5"));
        sim = SweepRunnerTest.generate("source", 3, shared.resolve("sim.hdf5"));
    }

    @Test
    void pointsRunAsAnArrayARequeuedPointResumesExactlyAndTheCollectJobWritesTheTables(@TempDir Path dir)
            throws Exception {
        SweepGrid grid = SweepRunnerTest.grid(dir, GRID + String.format("data: {target: %s, sources: {source: %s}}%n",
                Json.quote(real.toString()), Json.quote(sim.toString())));
        Path out = dir.resolve("out");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        SweepRunner runner = SweepRunnerTest.runner(grid, out, 1, log);
        SlurmLauncher launcher = new SlurmLauncher(grid, out, options(), new PrintStream(log, true,
                StandardCharsets.UTF_8));

        SlurmLauncher.Submission first = launcher.submit(runner);
        String text = log.toString(StandardCharsets.UTF_8);
        assertEquals(List.of(1, 2, 3, 4), first.points(), text);
        assertNotNull(first.arrayJob(), text);
        String script = Files.readString(out.resolve("slurm/sweep.sbatch"));
        assertTrue(script.contains("#SBATCH --array=1,2,3,4%2\n") && script.contains("#SBATCH --requeue\n")
                && script.contains("--point \"$SLURM_ARRAY_TASK_ID\""), script);

        // Requeue point 2 once it has a checkpoint and is training on: Slurm stops it with SIGTERM, as a preemption.
        SweepPoint p2 = SweepPoint.enumerate(grid).get(1);
        Path dir2 = runner.pointDir(p2);
        waitFor(() -> SweepRunner.lastStep(dir2.resolve("metrics.jsonl")) >= 40, 240, "point 2 to pass step 40",
                out);
        SweepTask.Info task = SweepTask.read(out, p2);
        assertNotNull(task, "point 2's claim");
        assertEquals(first.arrayJob() + "_2", task.job());
        Process requeue = new ProcessBuilder("scontrol", "requeue", task.job()).redirectErrorStream(true).start();
        String answer = new String(requeue.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, requeue.waitFor(), "scontrol requeue " + task.job() + ": " + answer);

        // The collect job runs after every task: then the tables are there.
        waitFor(() -> SlurmLauncher.queue().apply(first.collectJob()) == null, 420, "the collect job to finish", out);
        List<SweepStatus.Point> status = SweepStatus.read(grid, out, SlurmLauncher.queue());
        assertEquals(4, SweepStatus.counts(status).get(SweepStatus.State.DONE), status + "\n" + logs(out));
        List<String> csv = Files.readAllLines(out.resolve("results.csv"));
        assertEquals(5, csv.size(), String.join("\n", csv));
        Map<String, Object> resumed = SweepRunnerTest.result(out, p2.id());
        long from = ((Number) resumed.get("resumed_from_step")).longValue();
        assertTrue(from >= 20 && from < 300, "point 2 resumed from step " + from + "\n" + logs(out));
        assertEquals(300L, ((Number) resumed.get("train_steps")).longValue());
        assertTrue(logs(out).contains("stopped at step"), logs(out));

        // The same grid with the local launcher, here: every point's weights bit for bit, and its evaluation.
        Path local = dir.resolve("local");
        SweepRunner.Outcome o = new SweepRunner(grid, new SweepRunner.Options(local, 1, 2, false),
                new PrintStream(new ByteArrayOutputStream())).run();
        assertEquals(List.of(), o.failed());
        for (SweepPoint p : SweepPoint.enumerate(grid)) {
            Safetensors a = Safetensors.read(Checkpoint.in(runner.pointDir(p)));
            Safetensors b = Safetensors.read(Checkpoint.in(local.resolve(SweepRunner.POINTS).resolve(p.id())));
            assertEquals(b.names(), a.names(), p.id());
            for (String name : b.names()) {
                if (b.dtype(name).equals("F32")) {
                    assertArrayEquals(b.floats(name), a.floats(name), p.id() + " " + name);
                }
            }
            Map<?, ?> slurmResult = (Map<?, ?>) SweepRunnerTest.result(out, p.id()).get("result");
            Map<?, ?> localResult = (Map<?, ?>) SweepRunnerTest.result(local, p.id()).get("result");
            assertEquals(localResult.get("episodes"), slurmResult.get("episodes"), p.id());
        }

        // A grid edited since the first submission is refused, and nothing is touched.
        String gridText = Files.readString(grid.file());
        Files.writeString(grid.file(), gridText.replace("alpha: [natural, 0.25, 0.75]", "alpha: [natural, 0.5]"));
        IllegalArgumentException changed = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> launcher.submit(runner));
        assertTrue(changed.getMessage().contains("has changed since it was first submitted"), changed.getMessage());
        Files.writeString(grid.file(), gridText);

        // Everything is done: a second submission submits nothing.
        SlurmLauncher.Submission again = launcher.submit(runner);
        assertNull(again.arrayJob());
        assertEquals(List.of(), again.points());
    }

    static SlurmLauncher.Options options() {
        List<String> java = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-Xmx1g", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        return new SlurmLauncher.Options(null, null, "00:10:00", 2, 1, List.of(), java);
    }

    static void waitFor(BooleanSupplier condition, int seconds, String what, Path out) throws Exception {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("waited " + seconds + " s for " + what + "\n" + logs(out));
            }
            Thread.sleep(200);
        }
    }

    static String logs(Path out) {
        StringBuilder sb = new StringBuilder();
        try (var files = Files.list(out.resolve("slurm/logs"))) {
            for (Path f : files.sorted().toList()) {
                sb.append("== ").append(f.getFileName()).append('\n').append(Files.readString(f));
            }
        } catch (Exception e) {
            sb.append("(no logs: ").append(e).append(")");
        }
        return sb.toString();
    }
}
