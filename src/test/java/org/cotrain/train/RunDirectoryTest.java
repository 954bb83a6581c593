package org.cotrain.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.cotrain.backend.Backends;
import org.cotrain.config.Config;
import org.cotrain.io.Checkpoint;
import org.cotrain.io.DirectoryLock;
import org.cotrain.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rules of a run directory: one run at a time, resume only when asked and only the same run, clear errors. */
class RunDirectoryTest {
    private static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    private static Config run(Path data, String... more) {
        List<String> o = new java.util.ArrayList<>(List.of("training.num_epochs=3", "training.max_train_steps=4",
                "training.checkpoint_every=1", "dataloader.batch_size=8", "val_dataloader.batch_size=8",
                "training.max_val_steps=1", "policy.model.n_emb=32"));
        o.addAll(List.of(more));
        return BimodalTask.config(data, o.toArray(String[]::new));
    }

    private static Trainer trainer(Config c, Path dir, PrintStream log) {
        return new Trainer(c, dir, Backends.cpu(), log).showProgress(false);
    }

    @Test
    void aSecondRunInARunningRunsDirectoryIsRefused(@TempDir Path tmp) throws Exception {
        Path data = BimodalTask.write(tmp.resolve("bimodal.hdf5"), 12);
        Path dir = tmp.resolve("run");
        Config long_ = run(data, "training.num_epochs=100000", "training.checkpoint_every=100000");
        Trainer first = trainer(long_, dir, QUIET);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                first.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.start();
        try {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (!Files.exists(dir.resolve("metrics.jsonl")) && System.nanoTime() < deadline && t.isAlive()) {
                Thread.sleep(20);
            }
            assertTrue(Files.exists(dir.resolve("metrics.jsonl")), "the first run did not start: " + failure.get());
            var e = assertThrows(DirectoryLock.DirectoryInUseException.class,
                    () -> trainer(run(data, "training.resume=true"), dir, QUIET).run());
            assertTrue(e.getMessage().contains("is in use by pid " + ProcessHandle.current().pid()), e.getMessage());
        } finally {
            first.requestStop();
            t.join(120_000);
        }
        assertEquals(null, failure.get());
        // the first run's files are its own: its checkpoint is at the step its metrics end
        List<String> lines = Files.readAllLines(dir.resolve("metrics.jsonl"), StandardCharsets.UTF_8);
        assertEquals(Long.toString(lines.size()),
                Safetensors.read(Checkpoint.in(dir)).metadata().get(Checkpoint.STEP));
    }

    @Test
    void anExistingRunIsNotContinuedWithoutResume(@TempDir Path tmp) throws Exception {
        Path data = BimodalTask.write(tmp.resolve("bimodal.hdf5"), 12);
        Path dir = tmp.resolve("run");
        trainer(run(data, "training.resume=false"), dir, QUIET).stopAfter(5).run();
        var e = assertThrows(IllegalArgumentException.class,
                () -> trainer(run(data, "training.resume=false"), dir, QUIET).run());
        assertTrue(e.getMessage().contains("already holds a run (checkpoint at step 5)"), e.getMessage());
        assertTrue(e.getMessage().contains("--resume"), e.getMessage());
    }

    @Test
    void resumingWithAChangedKeyIsRefusedNamingItAndBothValues(@TempDir Path tmp) throws Exception {
        Path data = BimodalTask.write(tmp.resolve("bimodal.hdf5"), 12);
        Path dir = tmp.resolve("run");
        trainer(run(data), dir, QUIET).stopAfter(5).run();
        var e = assertThrows(IllegalArgumentException.class,
                () -> trainer(run(data, "optimizer.learning_rate=0.0042", "training.seed=7"), dir, QUIET).run());
        assertTrue(e.getMessage().matches("(?s).*optimizer\\.learning_rate: the run has [0-9.eE-]+, now 0\\.0042.*"),
                e.getMessage());
        assertTrue(e.getMessage().contains("training.seed: the run has 42, now 7"), e.getMessage());
        // the allowed ones: more steps, another checkpoint interval and thread count
        Trainer.Result r = trainer(run(data, "training.num_epochs=4", "training.checkpoint_every=2",
                "cotrain.threads=1"), dir, QUIET).run();
        assertEquals(16, r.steps());
    }

    @Test
    void fewerStepsThanDoneIsAnErrorAndACompleteRunDoesNothing(@TempDir Path tmp) throws Exception {
        Path data = BimodalTask.write(tmp.resolve("bimodal.hdf5"), 12);
        Path dir = tmp.resolve("run");
        Trainer.Result done = trainer(run(data), dir, QUIET).run();
        assertEquals(12, done.steps());
        var e = assertThrows(IllegalArgumentException.class,
                () -> trainer(run(data, "training.num_epochs=2"), dir, QUIET).run());
        assertTrue(e.getMessage().contains("has trained 12 steps, and this config asks for 8 in all"
                + " (training.num_epochs=2 epochs of 4 steps): ask for at least 12"), e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class,
                () -> trainer(run(data, "cotrain.total_train_steps=3"), dir, QUIET).run());
        assertTrue(e2.getMessage().contains("(cotrain.total_train_steps=3)"), e2.getMessage());

        byte[] before = Files.readAllBytes(Checkpoint.in(dir));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Trainer.Result again = trainer(run(data), dir, new PrintStream(log, true, StandardCharsets.UTF_8)).run();
        String text = log.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("is complete (12 of 12 steps); nothing to do"), text);
        assertFalse(text.contains("NaN"), text);
        assertEquals(done.lastTrainLoss(), again.lastTrainLoss(), 1e-6, "the last loss of the metrics");
        assertEquals(done.trainSeconds(), again.trainSeconds(), 1e-3, "the stored training time");
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(Checkpoint.in(dir))));
    }

    @Test
    void aResumedRunCountsTheTrainingTimeOfEveryPart(@TempDir Path tmp) throws Exception {
        Path data = BimodalTask.write(tmp.resolve("bimodal.hdf5"), 12);
        Path dir = tmp.resolve("run");
        Trainer.Result first = trainer(run(data), dir, QUIET).stopAfter(5).run();
        Trainer.Result second = trainer(run(data), dir, QUIET).run();
        assertTrue(first.trainSeconds() > 0);
        assertTrue(second.trainSeconds() > first.trainSeconds(), first.trainSeconds() + " then "
                + second.trainSeconds());
    }

    @Test
    void aKilledCheckpointWritesTemporaryFileIsRemovedAtTheNextStart(@TempDir Path tmp) throws Exception {
        Path data = BimodalTask.write(tmp.resolve("bimodal.hdf5"), 12);
        Path dir = tmp.resolve("run");
        trainer(run(data), dir, QUIET).stopAfter(5).run();
        // what kill -9 in the middle of AtomicFiles.write leaves (the naming of this and of earlier versions)
        Path left = dir.resolve("checkpoints/.latest.safetensors.00112233aabbccdd.tmp");
        Path older = dir.resolve("checkpoints/.latest.safetensors8112233445566.tmp");
        Files.write(left, new byte[1000]);
        Files.write(older, new byte[1000]);
        trainer(run(data), dir, QUIET).run();
        assertFalse(Files.exists(left));
        assertFalse(Files.exists(older));
    }

    @Test
    void aRunDirectoryThatIsAFileIsNamedAndAFailedRunLeavesNoDirectory(@TempDir Path tmp) throws Exception {
        Path data = BimodalTask.write(tmp.resolve("bimodal.hdf5"), 12);
        Path file = tmp.resolve("afile");
        Files.writeString(file, "x");
        var e = assertThrows(IllegalArgumentException.class, () -> trainer(run(data), file, QUIET).run());
        assertTrue(e.getMessage().equals(file + " is a file, not a directory: a run directory must be a new path or a"
                + " run's directory"), e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class,
                () -> trainer(run(data), file.resolve("sub"), QUIET).run());
        assertTrue(e2.getMessage().contains(file + " is a file, not a directory"), e2.getMessage());

        Path dir = tmp.resolve("new/run");
        assertThrows(RuntimeException.class,
                () -> trainer(run(tmp.resolve("missing.hdf5")), dir, QUIET).run());
        assertFalse(Files.exists(dir), "a failed run left its empty run directory");
    }
}
