package org.cotrain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.cotrain.backend.Backends;
import org.cotrain.data.DatasetException;
import org.cotrain.data.DemoDataset;
import org.cotrain.data.RobomimicReader;
import org.cotrain.io.Checkpoint;
import org.cotrain.policy.LowdimPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code generate --actions-only} writes demos without observations, and a policy trains on them (marked). */
class ActionsOnlyCommandTest {

    @Test
    void anActionsOnlyFileTrainsATinyPolicy(@TempDir Path tmp) throws Exception {
        Path real = tmp.resolve("real.hdf5");
        Path sim = tmp.resolve("sim_actions.hdf5");
        assertEquals(0, Main.run("generate", "--env", "target", "--demos", "3", "--seed", "1", "--no-images",
                "--out", real.toString()));
        assertEquals(0, Main.run("generate", "--env", "source", "--demos", "3", "--seed", "2", "--actions-only",
                "--out", sim.toString()));
        try (RobomimicReader r = RobomimicReader.open(sim)) {
            assertTrue(r.readDemo("demo_0", List.of()).actions().length() > 0);
        }
        List<String> keys = List.of("keypoints", "agent_pos");
        DatasetException unmarked = assertThrows(DatasetException.class,
                () -> DemoDataset.load(sim, keys, -1, -1));
        assertTrue(unmarked.getMessage().contains(sim.toString())
                && unmarked.getMessage().contains("has no obs key 'keypoints'")
                && unmarked.getMessage().contains("cotrain.guidance.action_only"), unmarked.getMessage());

        Path dir = tmp.resolve("run");
        assertEquals(0, Main.run("train", "--config", "small_cpu", "--run-dir", dir.toString(), "--no-progress",
                "task.dataset.path=[" + real + ", " + sim + "]", "cotrain.guidance.action_only=[false, true]",
                "cotrain.guidance.weight=3.0", "training.device=cpu", "dataloader.batch_size=8",
                "val_dataloader.batch_size=8", "training.max_val_steps=1", "training.max_train_steps=2",
                "training.num_epochs=1", "policy.model.n_emb=32", "task.dataset.max_train_episodes=null"));
        try (LowdimPolicy policy = LowdimPolicy.load(Checkpoint.in(dir), Backends.cpu())) {
            assertEquals(3f, policy.sampling().guidance());
            assertEquals(20 + 1, policy.config().conditionDim());
        }
        // the same file unmarked: training stops with the file and the key
        assertEquals(1, Main.run("train", "--config", "small_cpu", "--run-dir", tmp.resolve("bad").toString(),
                "--no-progress", "task.dataset.path=[" + real + ", " + sim + "]", "training.device=cpu"));
    }
}
