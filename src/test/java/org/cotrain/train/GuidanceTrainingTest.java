package org.cotrain.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.cotrain.backend.Backends;
import org.cotrain.config.Config;
import org.cotrain.io.Checkpoint;
import org.cotrain.io.Safetensors;
import org.cotrain.policy.LowdimPolicy;
import org.cotrain.policy.Sampling;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training with condition dropout: a resumed run drops what the uninterrupted run dropped, bit for bit. */
class GuidanceTrainingTest {
    private static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    @Test
    void resumedRunWithConditionDropoutEqualsUninterruptedRun(@TempDir Path tmp) throws Exception {
        Path data = BimodalTask.write(tmp.resolve("bimodal.hdf5"), 12);
        Config c = BimodalTask.config(data, "training.num_epochs=2", "training.max_train_steps=3",
                "training.checkpoint_every=1", "training.lr_warmup_steps=1", "dataloader.batch_size=8",
                "val_dataloader.batch_size=8", "training.max_val_steps=1", "policy.model.n_emb=32",
                "cotrain.guidance.p_uncond=0.5", "cotrain.guidance.weight=2.0");
        Path straight = tmp.resolve("straight");
        new Trainer(c, straight, Backends.cpu(), QUIET).showProgress(false).run();
        Path split = tmp.resolve("split");
        new Trainer(c, split, Backends.cpu(), QUIET).showProgress(false).stopAfter(2).run();
        new Trainer(c, split, Backends.cpu(), QUIET).showProgress(false).run();
        List<String> a = Files.readAllLines(straight.resolve("metrics.jsonl"), StandardCharsets.UTF_8);
        assertEquals(6, a.size());
        assertEquals(a, Files.readAllLines(split.resolve("metrics.jsonl"), StandardCharsets.UTF_8));
        Safetensors x = Safetensors.read(Checkpoint.in(straight));
        Safetensors y = Safetensors.read(Checkpoint.in(split));
        for (String name : x.names()) {
            assertArrayEquals(x.floats(name), y.floats(name), 0f, name);
        }
        // the condition has the "has observation" column: obs 2 + 1
        assertEquals(3, x.shape("model.cond_obs_emb.weight")[1]);
        try (LowdimPolicy policy = LowdimPolicy.load(Checkpoint.in(straight), Backends.cpu())) {
            assertEquals(2f, policy.sampling().guidance()); // cotrain.guidance.weight from the checkpoint's config
            policy.setSampling(Sampling.ddim(4).guidance(2));
            policy.setSeed(1);
            float[][] actions = policy.predictAction(new float[][] {{0f, 0f}, {0f, 0f}});
            assertTrue(Float.isFinite(actions[0][0]) && Float.isFinite(actions[0][1]));
        }
    }
}
