package org.cotrain.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import org.cotrain.backend.Backends;
import org.cotrain.config.Config;
import org.cotrain.io.Checkpoint;
import org.cotrain.io.Safetensors;
import org.cotrain.policy.LowdimPolicy;
import org.cotrain.policy.Sampling;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {
    private static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    /** 3 epochs of 4 steps, validation every epoch, a checkpoint every epoch; dropout on to exercise its seeds. */
    private static Config shortRun(Path data) {
        return BimodalTask.config(data, "training.num_epochs=3", "training.max_train_steps=4",
                "training.checkpoint_every=1", "training.lr_warmup_steps=2", "dataloader.batch_size=8",
                "val_dataloader.batch_size=8", "training.max_val_steps=2", "policy.model.n_emb=32",
                "policy.model.p_drop_attn=0.1", "policy.model.p_drop_emb=0.1", "cotrain.max_grad_norm=1.0");
    }

    private static Trainer trainer(Config c, Path dir) {
        return new Trainer(c, dir, Backends.cpu(), QUIET).showProgress(false);
    }

    @Test
    void resumedRunEqualsUninterruptedRun(@TempDir Path tmp) throws Exception {
        Path data = BimodalTask.write(tmp.resolve("bimodal.hdf5"), 12);
        Config c = shortRun(data);

        Path straight = tmp.resolve("straight");
        Trainer.Result full = trainer(c, straight).run();
        assertEquals(12, full.steps());
        assertFalse(full.stopped());

        Path split = tmp.resolve("split");
        Trainer.Result first = trainer(c, split).stopAfter(5).run(); // mid-epoch: the checkpoint is at step 5
        assertTrue(first.stopped());
        assertEquals(5, first.steps());
        Trainer.Result second = trainer(c, split).run();               // training.resume is true in the preset
        assertEquals(12, second.steps());

        List<String> a = Files.readAllLines(straight.resolve("metrics.jsonl"), StandardCharsets.UTF_8);
        List<String> b = Files.readAllLines(split.resolve("metrics.jsonl"), StandardCharsets.UTF_8);
        assertEquals(12, a.size());
        assertEquals(a, b, "the resumed run's metrics (losses, lr, grad norms, val losses) differ");
        assertTrue(a.get(3).contains("val_loss"), a.get(3));

        Safetensors x = Safetensors.read(Checkpoint.in(straight));
        Safetensors y = Safetensors.read(Checkpoint.in(split));
        assertEquals(x.names(), y.names());
        for (String name : x.names()) {
            assertArrayEquals(x.floats(name), y.floats(name), 0f, name);
        }
        assertTrue(x.names().contains("model.decoder.layers.0.self_attn.in_proj_weight"));
        assertTrue(x.names().contains("ema_model.model.ln_f.weight"));
        assertTrue(x.names().contains("optimizer.model.head.weight.exp_avg_sq"));
        assertTrue(x.names().contains("normalizer.params_dict.obs.scale"));
        assertTrue(Files.exists(straight.resolve("loss.png")));
        // the state moved: weights differ from their EMA, and the optimizer counted every step
        assertEquals("12", x.metadata().get("optimizer.step"));
    }

    @Test
    void nonFiniteLossStopsAndKeepsTheLastCheckpoint(@TempDir Path tmp) throws Exception {
        Path data = BimodalTask.write(tmp.resolve("bimodal.hdf5"), 12);
        // lr 1e30: the first step moves every weight by ~1e30, and the next forward pass overflows
        Config c = BimodalTask.config(data, "training.num_epochs=3", "training.max_train_steps=1",
                "training.checkpoint_every=1", "training.lr_warmup_steps=0", "training.lr_scheduler=constant",
                "optimizer.learning_rate=1e30", "dataloader.batch_size=8", "policy.model.n_emb=32");
        Path dir = tmp.resolve("run");
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> trainer(c, dir).run());
        assertEquals(1, e.step(), e.getMessage());
        assertTrue(e.getMessage().startsWith("step 1: the loss is "), e.getMessage());
        assertTrue(e.getMessage().contains("the denoiser's prediction (8, 16, 2) is not"), e.getMessage());
        assertTrue(e.getMessage().contains(Checkpoint.in(dir).toString()), e.getMessage());
        // the checkpoint written after step 0 is intact, and no later state replaced it
        Safetensors kept = Safetensors.read(Checkpoint.in(dir));
        assertEquals("1", kept.metadata().get(Checkpoint.STEP));
        assertEquals(1, Files.readAllLines(dir.resolve("metrics.jsonl")).size());
    }

    @Test
    void nonFiniteWeightIsNamed(@TempDir Path tmp) throws Exception {
        Path data = BimodalTask.write(tmp.resolve("bimodal.hdf5"), 12);
        Path dir = tmp.resolve("run");
        trainer(BimodalTask.config(data, "training.num_epochs=1", "training.max_train_steps=1",
                "dataloader.batch_size=8", "policy.model.n_emb=32"), dir).run();
        // corrupt one weight of the checkpoint, then resume for one more epoch
        Safetensors ck = Safetensors.read(Checkpoint.in(dir));
        Safetensors.Writer w = Safetensors.writer();
        ck.metadata().forEach(w::metadata);
        for (String name : ck.names()) {
            if (ck.dtype(name).equals("I32")) {
                w.add(name, ck.ints(name), ck.shape(name));
            } else {
                float[] v = ck.floats(name);
                if (name.equals("model.decoder.layers.1.linear2.weight")) {
                    v[3] = Float.NaN;
                }
                w.add(name, v, ck.shape(name));
            }
        }
        w.write(Checkpoint.in(dir));
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> trainer(
                BimodalTask.config(data, "training.num_epochs=2", "training.max_train_steps=1",
                        "dataloader.batch_size=8", "policy.model.n_emb=32"), dir).run());
        assertTrue(e.getMessage().contains("first non-finite weight: model.decoder.layers.1.linear2.weight (32, 128),"
                + " element 3"), e.getMessage());
    }

    @Test
    void checkpointOpensAsAPolicy(@TempDir Path tmp) throws Exception {
        Path data = BimodalTask.write(tmp.resolve("bimodal.hdf5"), 12);
        Path dir = tmp.resolve("run");
        trainer(BimodalTask.config(data, "training.num_epochs=1", "training.max_train_steps=2",
                "dataloader.batch_size=8", "policy.model.n_emb=32"), dir).run();
        try (LowdimPolicy policy = LowdimPolicy.load(Checkpoint.in(dir), Backends.cpu())) {
            policy.setSampling(Sampling.ddim(4));
            policy.setSeed(1);
            float[][] actions = policy.predictAction(new float[][] {{0f, 0f}, {0f, 0f}});
            assertEquals(8, actions.length);
            assertEquals(2, actions[0].length);
            for (float[] a : actions) {
                assertTrue(Float.isFinite(a[0]) && Float.isFinite(a[1]));
            }
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                    () -> policy.predictAction(new float[][] {{0f, 0f}}));
            assertTrue(bad.getMessage().contains("n_obs_steps = 2"), bad.getMessage());
            // Executing fewer actions of a chunk (an evaluation setting): the first ones of the same chunk.
            policy.setSeed(1);
            policy.setActionSteps(3);
            float[][] three = policy.predictAction(new float[][] {{0f, 0f}, {0f, 0f}});
            assertEquals(3, three.length);
            for (int k = 0; k < 3; k++) assertArrayEquals(actions[k], three[k]);
            // horizon 16 from step n_obs_steps - 1 = 1: at most 15 actions
            IllegalArgumentException tooMany = assertThrows(IllegalArgumentException.class,
                    () -> policy.setActionSteps(16));
            assertTrue(tooMany.getMessage().contains("1..15"), tooMany.getMessage());
            assertThrows(IllegalArgumentException.class, () -> policy.setActionSteps(0));
        }
    }

    @Test
    void domainConditionedCotrainingOnNestedSubsetsTrainsAndConditionsOnTheTargetDomain(@TempDir Path tmp)
            throws Exception {
        Path real = BimodalTask.write(tmp.resolve("real.hdf5"), 12);
        Path sim = BimodalTask.write(tmp.resolve("sim.hdf5"), 16);
        Path dir = tmp.resolve("run");
        Config c = BimodalTask.config(real, "task.dataset.path=[" + real + "," + sim + "]",
                "task.dataset.weights=[0.25,0.75]", "cotrain.domain_conditioning=true",
                "cotrain.dataset_max_train_episodes=[4,10]", "training.num_epochs=1", "training.max_train_steps=3",
                "dataloader.batch_size=8", "policy.model.n_emb=32");
        trainer(c, dir).run();
        try (LowdimPolicy policy = LowdimPolicy.load(Checkpoint.in(dir), Backends.cpu())) {
            assertEquals(2, policy.config().numDomains());
            assertEquals(2 + 2, policy.model().config().condDim());
            policy.setSampling(Sampling.ddim(2));
            policy.setSeed(0);
            float[][] target = policy.predictAction(new float[][] {{0f, 0f}, {0f, 0f}});
            policy.setSeed(0);
            policy.setDomain(1);
            float[][] source = policy.predictAction(new float[][] {{0f, 0f}, {0f, 0f}});
            assertEquals(8, target.length);
            assertTrue(target[0][0] != source[0][0] || target[0][1] != source[0][1], "the label changes the actions");
        }
        Config tooMany = BimodalTask.config(real, "task.dataset.path=[" + real + "," + sim + "]",
                "cotrain.dataset_max_train_episodes=[40,10]");
        Exception e = assertThrows(IllegalArgumentException.class, () -> trainer(tooMany, tmp.resolve("r2")).run());
        assertTrue(e.getMessage().contains("dataset_max_train_episodes") && e.getMessage().contains("real.hdf5"),
                e.getMessage());
    }

    @Test
    void wrongObsKeyNamesFileAndKey(@TempDir Path tmp) {
        Path data = BimodalTask.write(tmp.resolve("bimodal.hdf5"), 4);
        Config c = BimodalTask.config(data, "task.dataset.obs_keys=[keypoints]");
        Exception e = assertThrows(RuntimeException.class, () -> trainer(c, tmp.resolve("run")).run());
        assertTrue(e.getMessage().contains("bimodal.hdf5") && e.getMessage().contains("keypoints"), e.getMessage());
    }
}
