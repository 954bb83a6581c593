package org.cotrain.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.cotrain.io.Checkpoint;
import org.cotrain.io.Json;
import org.cotrain.io.Safetensors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sweep's status read from its directory alone, a failing point's error.txt, and the Slurm scripts' contents
 * (SlurmSweepTest runs them on a real Slurm).
 */
class SweepStatusTest {
    @TempDir
    static Path shared;
    static Path real;
    static Path sim;

    @BeforeAll
    static void datasets() throws Exception {
        real = SweepRunnerTest.generate("target", 4, shared.resolve("real.hdf5"));
        sim = SweepRunnerTest.generate("source", 3, shared.resolve("sim.hdf5"));
    }

    SweepGrid grid(Path dir, String overrides) throws Exception {
        return SweepRunnerTest.grid(dir, SweepRunnerTest.TINY.replace("dataloader.batch_size=16]",
                "dataloader.batch_size=16" + overrides + "]") + String.format("""
                data: {target: %s, sources: {source: %s}}
                grid: {real_demos: [2, 3, 4], sim_demos: [3], alpha: [natural], seeds: [0]}
                """, Json.quote(real.toString()), Json.quote(sim.toString())));
    }

    @Test
    void eachPointsStateComesFromItsFiles(@TempDir Path dir) throws Exception {
        SweepGrid grid = grid(dir, "");
        Path out = dir.resolve("out");
        List<SweepPoint> points = SweepPoint.enumerate(grid);
        assertEquals(6, points.size());
        Path[] dirs = points.stream().map(p -> out.resolve(SweepRunner.POINTS).resolve(p.id())).toArray(Path[]::new);
        for (Path d : dirs) Files.createDirectories(d);
        Files.writeString(dirs[0].resolve(SweepRunner.RESULT), "{}");
        try (SweepTask task = SweepTask.claim(out, points.get(1))) { // this process: alive
            Process gone = new ProcessBuilder("true").start();
            gone.waitFor();
            Files.createDirectories(SweepTask.claimDir(out, points.get(2)));
            Files.writeString(SweepTask.claimDir(out, points.get(2)).resolve(SweepTask.TASK), String.format(
                    "{\"job\": null, \"host\": %s, \"pid\": %d, \"started\": \"then\"}", Json.quote(SweepTask.host()),
                    gone.pid())); // a task killed outright: its claim is stale
            Files.createDirectories(Checkpoint.in(dirs[2]).getParent());
            Safetensors.writer().metadata(Checkpoint.STEP, "40").add("x", new float[] {1}, 1)
                    .write(Checkpoint.in(dirs[2]));
            Files.writeString(dirs[3].resolve(SweepRunner.ERROR), "diverged: NaN in the loss at step 7\n\ntrace");

            List<SweepStatus.Point> status = SweepStatus.read(grid, out, null);
            assertEquals(List.of(SweepStatus.State.DONE, SweepStatus.State.RUNNING, SweepStatus.State.STOPPED,
                    SweepStatus.State.FAILED, SweepStatus.State.PENDING, SweepStatus.State.PENDING),
                    status.stream().map(SweepStatus.Point::state).toList());
            assertEquals(List.of(1, 2, 3, 4, 5, 6), status.stream().map(SweepStatus.Point::number).toList());
            assertEquals("checkpoint at step 40", status.get(2).detail());
            assertEquals("diverged: NaN in the loss at step 7", status.get(3).detail());
            // With a queue to ask, a claim stands for as long as its Slurm job is queued.
            Files.writeString(SweepTask.claimDir(out, points.get(2)).resolve(SweepTask.TASK),
                    "{\"job\": \"77_3\", \"host\": \"node9\", \"pid\": 1, \"started\": \"then\"}");
            assertEquals(SweepStatus.State.RUNNING, SweepStatus.read(grid, out, id -> id.equals("77_3") ? "RUNNING"
                    : null).get(2).state());
            assertEquals(SweepStatus.State.STOPPED, SweepStatus.read(grid, out, id -> null).get(2).state());

            ByteArrayOutputStream text = new ByteArrayOutputStream();
            SweepStatus.print(grid.name(), status, new PrintStream(text, true, StandardCharsets.UTF_8));
            assertTrue(text.toString(StandardCharsets.UTF_8).contains("1 done, 1 running, 1 failed, 1 stopped,"
                    + " 2 pending"), text.toString(StandardCharsets.UTF_8));
        }
        assertTrue(Files.notExists(SweepTask.claimDir(out, points.get(1)).resolve(SweepTask.TASK)),
                "a closed claim removes its task.json");
    }

    @Test
    void aFailingPointWritesItsErrorAndARunningOneCannotBeClaimedTwice(@TempDir Path dir) throws Exception {
        SweepGrid grid = grid(dir, ", policy.model.n_emb=3");
        Path out = dir.resolve("out");
        SweepRunner.Outcome o = new SweepRunner(grid, new SweepRunner.Options(out, 1, 1, false),
                new PrintStream(new ByteArrayOutputStream())).runPoint(1);
        assertEquals(1, o.failed().size(), o.toString());
        SweepPoint p = SweepPoint.enumerate(grid).get(0);
        String error = Files.readString(out.resolve(SweepRunner.POINTS).resolve(p.id()).resolve(SweepRunner.ERROR));
        assertTrue(error.contains("policy.model.n_emb"), error);
        assertEquals(SweepStatus.State.FAILED, SweepStatus.read(grid, out, null).get(0).state());

        try (SweepTask held = SweepTask.claim(out, p)) {
            IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> new SweepRunner(grid, new SweepRunner.Options(out, 1, 1, false),
                            new PrintStream(new ByteArrayOutputStream())).runPoint(1));
            assertTrue(e.getMessage().contains("cotrain sweep point " + p.id()), e.getMessage());
        }
        IllegalArgumentException bad = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new SweepRunner(grid, new SweepRunner.Options(out, 1, 1, false),
                        new PrintStream(new ByteArrayOutputStream())).runPoint(7));
        assertEquals("--point 7: the grid grid has points 1 to 6", bad.getMessage());
    }

    @Test
    void theArrayScriptRunsOnePointPerTaskWithTheRequestedResources(@TempDir Path dir) throws Exception {
        SweepGrid grid = grid(dir, "");
        SlurmLauncher.Options o = new SlurmLauncher.Options("gpu", 1, "04:00:00", 8, 4, List.of("--account=lab"),
                List.of("/opt/java/bin/java", "-cp", "/a b/c.jar", "org.cotrain.cli.Main"));
        SlurmLauncher launcher = new SlurmLauncher(grid, dir.resolve("out"), o, System.out);
        String s = launcher.arrayScript(List.of(2, 5, 6));
        for (String line : List.of("#SBATCH --array=2,5,6%8", "#SBATCH --partition=gpu", "#SBATCH --time=04:00:00",
                "#SBATCH --gres=gpu:1", "#SBATCH --cpus-per-task=4", "#SBATCH --requeue",
                "#SBATCH --open-mode=append", "exec /opt/java/bin/java -cp '/a b/c.jar' org.cotrain.cli.Main sweep ")) {
            assertTrue(s.contains(line), line + " in\n" + s);
        }
        assertTrue(s.contains("--point \"$SLURM_ARRAY_TASK_ID\" --threads \"${SLURM_CPUS_PER_TASK:-4}\""), s);
        assertTrue(launcher.collectScript().contains(" --collect\n"), launcher.collectScript());
        assertEquals("'it'\\''s'", SlurmLauncher.quote("it's"));
    }
}
