package org.cotrain.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.cotrain.backend.Backends;
import org.cotrain.config.Config;
import org.cotrain.config.ConfigException;
import org.cotrain.config.PolicyKind;
import org.cotrain.config.Presets;
import org.cotrain.config.TrainConfig;
import org.cotrain.io.Checkpoint;
import org.cotrain.io.Safetensors;
import org.cotrain.policy.ConditionalUnet1D;
import org.cotrain.policy.LowdimPolicy;
import org.cotrain.policy.Sampling;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The low-dim policy with DP's U-Net denoiser (DP-C), chosen by the workspace name as in DP: the presets, the error for
 * a key of the transformer, and the trainer on the small CPU preset: a few steps, checkpoints, an exact resume, and
 * the checkpoint loaded back as a policy that acts.
 */
class UnetTrainerTest {
    private static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    /** small_cpu_unet on the bimodal task: 3 epochs of 4 steps, a checkpoint every epoch, a tiny U-Net. */
    private static Config shortRun(Path data) {
        List<String> all = new ArrayList<>(List.of("task.dataset.path=" + data, "task.obs_dim=2",
                "task.action_dim=2", "task.dataset.obs_keys=[agent_pos]", "task.dataset.max_train_episodes=null",
                "task.dataset.val_ratio=0.1", "training.device=cpu", "training.num_epochs=3",
                "training.max_train_steps=4", "training.checkpoint_every=1", "training.lr_warmup_steps=2",
                "dataloader.batch_size=8", "val_dataloader.batch_size=8", "training.max_val_steps=2",
                "policy.model.down_dims=[16,24]", "policy.model.diffusion_step_embed_dim=16",
                "cotrain.max_grad_norm=1.0"));
        return Config.fromPreset(Presets.SMALL_CPU_UNET).withOverrides(all);
    }

    private static Trainer trainer(Config c, Path dir) {
        return new Trainer(c, dir, Backends.cpu(), QUIET).showProgress(false);
    }

    @Test
    void presetsAreDpsUnetLowdimConfig() {
        TrainConfig t = Config.fromPreset(Presets.PUSHT_LOWDIM_UNET).toTrainConfig();
        assertEquals(PolicyKind.LOWDIM_UNET, t.kind());
        assertEquals(null, t.policy().model());
        assertEquals(List.of(256, 512, 1024), t.policy().unet().downDims());
        assertEquals(5, t.policy().unet().kernelSize());
        assertEquals(8, t.policy().unet().nGroups());
        assertTrue(t.policy().unet().condPredictScale());
        assertEquals(256, t.policy().unet().diffusionStepEmbedDim());
        assertEquals(20, t.policy().unet().condDim());
        assertEquals(40, t.policy().unet().globalCondDim());
        assertEquals(1e-4, t.optimizer().learningRate());
        assertEquals(1e-6, t.optimizer().weightDecay());
        assertEquals(0.95, t.optimizer().beta1());
        assertEquals(0.999, t.optimizer().beta2());
        assertEquals(PolicyKind.LOWDIM_UNET, Config.fromPreset(Presets.SMALL_CPU_UNET).kind());
    }

    @Test
    void aKeyOfTheOtherDenoiserIsAnErrorNamingIt() {
        Config unet = Config.fromPreset(Presets.SMALL_CPU_UNET);
        ConfigException e = assertThrows(ConfigException.class, () -> unet.withOverrides("policy.model.n_layer=2"));
        assertTrue(e.getMessage().contains("unknown key policy.model.n_layer; policy.model.n_layer is a key of low-dim"
                + " configs (preset pusht_lowdim_transformer, the transformer denoiser TransformerForDiffusion); this is"
                + " a low-dim config with the U-Net denoiser, ConditionalUnet1D (DP-C: name"
                + " train_diffusion_unet_lowdim)"), e.getMessage());
        Config transformer = Config.fromPreset(Presets.SMALL_CPU);
        e = assertThrows(ConfigException.class, () -> transformer.withOverrides("policy.model.down_dims=[8]"));
        assertTrue(e.getMessage().contains("policy.model.down_dims is a key of low-dim U-Net (DP-C) configs (preset"
                + " pusht_lowdim_unet, the U-Net denoiser ConditionalUnet1D); this is a low-dim config with the"
                + " transformer denoiser"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> unet.withOverrides("policy.model.down_dims=[8,12]")
                .toTrainConfig());
        assertTrue(e.getMessage().startsWith("policy.model.down_dims must be widths that are multiples of"
                + " policy.model.n_groups (8)"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> unet.withOverrides("obs_as_local_cond=True").toTrainConfig());
        assertTrue(e.getMessage().startsWith("obs_as_local_cond must be False"), e.getMessage());
    }

    @Test
    void trainsChecksPointsAndResumesExactly(@TempDir Path tmp) throws Exception {
        Path data = BimodalTask.write(tmp.resolve("bimodal.hdf5"), 12);
        Config c = shortRun(data);

        Path straight = tmp.resolve("straight");
        Trainer.Result full = trainer(c, straight).run();
        assertEquals(12, full.steps());
        assertFalse(full.stopped());

        Path split = tmp.resolve("split");
        Trainer.Result first = trainer(c, split).stopAfter(5).run();
        assertTrue(first.stopped());
        assertEquals(5, first.steps());
        Trainer.Result second = trainer(c, split).run();
        assertEquals(12, second.steps());

        List<String> a = Files.readAllLines(straight.resolve("metrics.jsonl"), StandardCharsets.UTF_8);
        List<String> b = Files.readAllLines(split.resolve("metrics.jsonl"), StandardCharsets.UTF_8);
        assertEquals(12, a.size());
        assertEquals(a, b, "the resumed run's metrics (losses, lr, grad norms, val losses) differ");

        Safetensors x = Safetensors.read(Checkpoint.in(straight));
        Safetensors y = Safetensors.read(Checkpoint.in(split));
        assertEquals(x.names(), y.names());
        for (String name : x.names()) {
            assertArrayEquals(x.floats(name), y.floats(name), 0f, name);
        }
        assertTrue(x.names().contains("model.down_modules.0.0.blocks.0.block.0.weight"));
        assertTrue(x.names().contains("model.up_modules.0.2.conv.weight"));
        assertTrue(x.names().contains("ema_model.model.final_conv.1.weight"));
        assertTrue(x.names().contains("optimizer.model.mid_modules.0.cond_encoder.1.weight.exp_avg_sq"));
        assertFalse(x.names().stream().anyMatch(n -> n.startsWith("model.decoder.")), "no transformer weights");
        assertEquals("12", x.metadata().get("optimizer.step"));
        // the loss moved from where it started
        assertFalse(a.get(0).equals(a.get(11)));

        try (LowdimPolicy policy = LowdimPolicy.load(Checkpoint.in(straight), Backends.cpu())) {
            assertInstanceOf(ConditionalUnet1D.class, policy.denoiser());
            assertThrows(IllegalStateException.class, policy::model, "a U-Net policy has no transformer");
            policy.setSampling(Sampling.ddim(4));
            policy.setSeed(0);
            float[][] actions = policy.predictAction(new float[][] {{0f, 0f}, {0.05f, 0.05f}});
            assertEquals(8, actions.length);
            for (float[] step : actions) {
                assertEquals(2, step.length);
                assertTrue(Float.isFinite(step[0]) && Float.isFinite(step[1]));
            }
        }
    }
}
