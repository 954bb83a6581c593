package org.cotrain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.cotrain.io.Checkpoint;
import org.cotrain.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's train and resume commands, as a user types them. */
class TrainCommandTest {

    private static long step(Path dir) throws Exception {
        return Long.parseLong(Safetensors.read(Checkpoint.in(dir)).metadata()
                .get(Checkpoint.STEP));
    }

    @Test
    void theReadmesResumeCommandNeedsOnlyTheRunDirectory(@TempDir Path tmp) throws Exception {
        Path demos = tmp.resolve("demos.hdf5");
        assertEquals(0, Main.run("generate", "--env", "target", "--demos", "3", "--seed", "1", "--no-images", "--out",
                demos.toString()));
        Path dir = tmp.resolve("runs/small");
        List<String> small = List.of("task.dataset.path=" + demos, "training.device=cpu", "dataloader.batch_size=8",
                "val_dataloader.batch_size=8", "training.max_val_steps=1", "training.max_train_steps=2",
                "training.checkpoint_every=1", "training.num_epochs=2", "policy.model.n_emb=32",
                "task.dataset.max_train_episodes=null");
        String[] first = concat(List.of("train", "--config", "small_cpu", "--run-dir", dir.toString(),
                "--no-progress"), small);
        assertEquals(0, Main.run(first));
        assertEquals(4, step(dir)); // 2 epochs of 2 steps
        // the same command again: the directory holds a run, and without --resume that is an error
        assertEquals(1, Main.run(first));
        // the README's resume: the run's own config (its dataset path included), two more epochs
        assertEquals(0, Main.run("train", "--run-dir", dir.toString(), "--resume", "--no-progress",
                "training.num_epochs=4"));
        assertEquals(8, step(dir));
        // a changed key other than the allowed ones is refused, and nothing is touched
        byte[] before = Files.readAllBytes(Checkpoint.in(dir));
        assertEquals(1, Main.run("train", "--run-dir", dir.toString(), "--resume", "--no-progress",
                "training.num_epochs=6", "optimizer.learning_rate=0.5"));
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(Checkpoint.in(dir))));
        // --resume where there is no run
        assertEquals(1, Main.run("train", "--run-dir", tmp.resolve("nothing").toString(), "--resume"));
        assertTrue(!Files.exists(tmp.resolve("nothing")));
    }

    private static String[] concat(List<String> a, List<String> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toArray(String[]::new);
    }
}
