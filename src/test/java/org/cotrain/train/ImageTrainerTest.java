package org.cotrain.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import org.cotrain.data.DatasetException;
import org.cotrain.io.Checkpoint;
import org.cotrain.io.Safetensors;
import org.cotrain.policy.ImagePolicy;
import org.cotrain.policy.ImageTask;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one training loop on an image config: exact resume, DP's checkpoint names, image data errors. */
class ImageTrainerTest {
    private static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());
    private static final int SIZE = 48;

    /** 2 epochs of 3 steps at batch 2, validation and a checkpoint every epoch; dropout and random crops on. */
    private static Config shortRun(Path data, String... more) {
        List<String> o = new java.util.ArrayList<>(List.of("training.num_epochs=2", "training.max_train_steps=3",
                "training.checkpoint_every=1", "training.lr_warmup_steps=1", "training.max_val_steps=1",
                "cotrain.max_grad_norm=1.0"));
        o.addAll(List.of(more));
        return ImageTask.config(data, SIZE, o.toArray(new String[0]));
    }

    private static Trainer trainer(Config c, Path dir) {
        return new Trainer(c, dir, Backends.cpu(), QUIET).showProgress(false);
    }

    @Test
    void resumedImageRunEqualsUninterruptedRun(@TempDir Path tmp) throws Exception {
        Path data = ImageTask.write(tmp.resolve("images.hdf5"), 8, SIZE);
        Config c = shortRun(data);

        Path straight = tmp.resolve("straight");
        Trainer.Result full = trainer(c, straight).run();
        assertEquals(6, full.steps());

        Path split = tmp.resolve("split");
        assertEquals(4, trainer(c, split).stopAfter(4).run().steps()); // mid-epoch
        assertEquals(6, trainer(c, split).run().steps());

        List<String> a = Files.readAllLines(straight.resolve("metrics.jsonl"), StandardCharsets.UTF_8);
        List<String> b = Files.readAllLines(split.resolve("metrics.jsonl"), StandardCharsets.UTF_8);
        assertEquals(6, a.size());
        assertEquals(a, b, "the resumed run's metrics (losses, lr, grad norms, val losses) differ");
        assertTrue(a.get(2).contains("val_loss"), a.get(2));

        Safetensors x = Safetensors.read(Checkpoint.in(straight));
        Safetensors y = Safetensors.read(Checkpoint.in(split));
        assertEquals(x.names(), y.names());
        for (String name : x.names()) {
            assertArrayEquals(x.floats(name), y.floats(name), 0f, name);
        }
        for (String name : List.of("obs_encoder.obs_nets.image.nets.0.nets.0.weight",
                "obs_encoder.obs_nets.image.nets.1.pos_y", "model.decoder.layers.0.multihead_attn.out_proj.bias",
                "ema_model.obs_encoder.obs_nets.image.nets.3.weight", "ema_model.model.ln_f.weight",
                "optimizer.obs_encoder.obs_nets.image.nets.0.nets.1.weight.exp_avg_sq",
                "normalizer.params_dict.image.scale", "normalizer.params_dict.agent_pos.offset",
                "normalizer.params_dict.action.scale")) {
            assertTrue(x.names().contains(name), name);
        }
        assertEquals("6", x.metadata().get("optimizer.step"));
        // the checkpoint opens as a policy, with the EMA weights
        try (ImagePolicy p = ImagePolicy.load(Checkpoint.in(straight), Backends.cpu())) {
            assertArrayEquals(x.floats("ema_model.obs_encoder.obs_nets.image.nets.3.weight"),
                    p.encoders().get(0).parameters().get(p.encoders().get(0).parameters().size() - 2).value()
                            .toFloatArray(), 0f);
        }
    }

    @Test
    void domainConditionedImageCotrainingWidensTheCondition(@TempDir Path tmp) throws Exception {
        Path real = ImageTask.write(tmp.resolve("real.hdf5"), 4, SIZE);
        Path sim = ImageTask.write(tmp.resolve("sim.hdf5"), 6, SIZE);
        Path dir = tmp.resolve("run");
        Config c = ImageTask.config(real, SIZE, "task.dataset.path=[" + real + "," + sim + "]",
                "task.dataset.weights=[0.5,0.5]", "cotrain.domain_conditioning=true", "training.num_epochs=1",
                "training.max_train_steps=2", "task.dataset.val_ratio=0.0", "cotrain.ambient.t_n=[null,40]",
                "cotrain.ambient.loss=denoise");
        trainer(c, dir).run();
        try (ImagePolicy p = ImagePolicy.load(Checkpoint.in(dir), Backends.cpu())) {
            assertEquals(64 + 2 + 2, p.model().config().condDim());
            assertEquals(2, p.config().numDomains());
        }
    }

    /** A policy of the camera alone (no low-dim keys): the condition is the 64 features per step. */
    @Test
    void cameraOnlyPolicyTrainsAndActs(@TempDir Path tmp) throws Exception {
        Path data = ImageTask.write(tmp.resolve("images.hdf5"), 4, SIZE);
        String yaml = org.cotrain.config.Presets.text("small_cpu_image").replace(
                "      agent_pos:\n        shape: [2]\n        type: low_dim\n", "");
        Path file = tmp.resolve("camera_only.yaml");
        Files.writeString(file, yaml);
        Config c = Config.load(file.toString()).withOverrides(ImageTask.config(data, SIZE).overrides())
                .withOverrides("training.num_epochs=1", "training.max_train_steps=2");
        Path dir = tmp.resolve("run");
        trainer(c, dir).run();
        try (ImagePolicy p = ImagePolicy.load(Checkpoint.in(dir), Backends.cpu())) {
            assertEquals(64, p.model().config().condDim());
            p.setSampling(org.cotrain.policy.Sampling.ddim(2));
            float[] chunk = p.predictActionChunk(List.of(new byte[2 * SIZE * SIZE * 3]), new float[0], 1);
            assertEquals(10 * 2, chunk.length);
            for (float v : chunk) {
                assertTrue(Float.isFinite(v));
            }
        }
    }

    @Test
    void imageDataErrorsNameTheFileThePathAndTheShape(@TempDir Path tmp) {
        Path small = ImageTask.write(tmp.resolve("small.hdf5"), 4, 32);
        // the config wants 48x48 frames
        DatasetException e = assertThrows(DatasetException.class,
                () -> trainer(shortRun(small), tmp.resolve("a")).run());
        assertTrue(e.getMessage().contains("small.hdf5") && e.getMessage().contains("/data/demo_0/obs/image")
                && e.getMessage().contains("wrong image shape for the config: is uint8 (12, 32, 32, 3),"
                + " task.shape_meta.obs.image.shape [3, 48, 48] wants (N, 48, 48, 3)"), e.getMessage());

        Path lowdim = BimodalTask.write(tmp.resolve("lowdim.hdf5"), 4);
        e = assertThrows(DatasetException.class, () -> trainer(shortRun(lowdim), tmp.resolve("b")).run());
        assertTrue(e.getMessage().contains("lowdim.hdf5") && e.getMessage().contains("no obs key 'image'"),
                e.getMessage());

        // agent_pos declared as a camera: float data where frames are expected
        Path data = ImageTask.write(tmp.resolve("images.hdf5"), 4, SIZE);
        Config asCamera = shortRun(data, "task.shape_meta.obs.agent_pos.type=rgb",
                "task.shape_meta.obs.agent_pos.shape=[3," + SIZE + "," + SIZE + "]");
        e = assertThrows(DatasetException.class, () -> trainer(asCamera, tmp.resolve("c")).run());
        assertTrue(e.getMessage().contains("/data/demo_0/obs/agent_pos") && e.getMessage().contains("camera key"
                + " 'agent_pos' needs uint8 frames (N, 48, 48, 3)"), e.getMessage());
    }
}
