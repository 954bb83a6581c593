package org.cotrain.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;
import org.cotrain.backend.Backends;
import org.cotrain.config.Config;
import org.cotrain.config.PolicyKind;
import org.cotrain.config.Presets;
import org.cotrain.io.Checkpoint;
import org.cotrain.io.Json;
import org.cotrain.sim.EnvPresets;
import org.cotrain.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The analysis end to end on a tiny DP-C policy (low-dim, ConditionalUnet1D): the data of {@link PolicyAnalysisTest}
 * (sim's agent_pos offset), probes and t-SNE maps of the U-Net's two embeddings (the first down block's cond encoder
 * output, final_conv's Conv1dBlock output), rollouts for kNN, and the report written as the command writes it.
 */
class UnetPolicyAnalysisTest {
    @Test
    void analysisOfADpCPolicyProbesItsUnetEmbeddingsAndWritesTheReport(@TempDir Path tmp) throws Exception {
        Path real = PolicyAnalysisTest.write(tmp.resolve("real.hdf5"), 10, 0);
        Path sim = PolicyAnalysisTest.write(tmp.resolve("sim.hdf5"), 20, 60);
        Config c = Config.fromPreset(Presets.SMALL_CPU_UNET).withOverrides("task.dataset.path=[" + real + "," + sim
                + "]", "task.obs_dim=2", "task.action_dim=2", "task.dataset.obs_keys=[agent_pos]",
                "task.dataset.max_train_episodes=null", "task.dataset.val_ratio=0.0", "training.device=cpu",
                "training.num_epochs=1", "training.max_train_steps=20", "dataloader.batch_size=16",
                "policy.model.down_dims=[16,24]", "policy.model.diffusion_step_embed_dim=16",
                "training.lr_warmup_steps=5");
        assertEquals(PolicyKind.LOWDIM_UNET, c.kind());
        Path run = tmp.resolve("run");
        new Trainer(c, run, Backends.cpu(), new PrintStream(new ByteArrayOutputStream())).showProgress(false).run();

        PolicyAnalysis.Options o = new PolicyAnalysis.Options(40, 4, 0.3, 0.01, 2,
                EnvPresets.get("target").withOverrides(List.of("max_steps=24")), 5, 0, 2, 30, 5);
        ForkJoinPool pool = new ForkJoinPool(2);
        try {
            PolicyAnalysis.Report r = PolicyAnalysis.run(Checkpoint.in(run), null, o, Backends.cpu(), pool,
                    new PrintStream(new ByteArrayOutputStream()));
            System.out.print(r.summary());
            assertEquals(List.of(real, sim), r.data());
            assertEquals(40, r.samplesPerDataset());
            assertEquals(2 * 16, r.observationProbe().dims(),
                    "down_modules.0.0's cond encoder: FiLM scale and bias of down_dims[0] = 16 channels");
            assertEquals(16 * 16, r.finalActivationProbe().dims(), "final_conv.0: 16 channels x horizon 16");
            assertEquals(24, r.observationProbe().testSize());
            for (LogisticProbe.Result p : List.of(r.observationProbe(), r.finalActivationProbe())) {
                assertTrue(p.testAccuracy() >= 0 && p.testAccuracy() <= 1, r.summary());
            }
            PolicyAnalysis.Attribution a = r.attribution();
            assertEquals(2, a.episodes());
            assertEquals(2 * 3, a.queries(), "24 steps, 8 executed actions per chunk: 3 chunks per episode");
            assertEquals(30, r.tsne().dataset().length);

            // the report as `cotrain analyze --out report.json --tsne` writes it
            Path json = tmp.resolve("report.json");
            Files.writeString(json, r.toJson());
            List<Path> maps = r.writeTsne(tmp, "report");
            Object parsed = Json.parse(Files.readString(json));
            assertTrue(parsed instanceof Map<?, ?> m && m.containsKey("probe") && m.containsKey("knn")
                    && m.get("tsne") instanceof Map<?, ?>, r.toJson());
            assertEquals(3, maps.size());
            for (Path p : maps) {
                assertTrue(Files.size(p) > 0, p + " is empty");
            }
        } finally {
            pool.shutdown();
        }
    }
}
