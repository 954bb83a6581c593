package org.cotrain.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;
import org.cotrain.backend.Backends;
import org.cotrain.config.Config;
import org.cotrain.data.Demo;
import org.cotrain.data.FloatArray;
import org.cotrain.data.NdArray;
import org.cotrain.data.RobomimicWriter;
import org.cotrain.io.Checkpoint;
import org.cotrain.io.Json;
import org.cotrain.sim.EnvPresets;
import org.cotrain.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The analysis end to end on a tiny cotrained policy: real and sim demos that differ in their observations (sim's
 * agent_pos is offset), so the observation embeddings separate them, and rollouts in the sandbox for kNN.
 */
class PolicyAnalysisTest {
    private static final int LENGTH = 20;

    /** Demos moving diagonally from the origin; obs agent_pos = the previous action + offset. */
    static Path write(Path file, int demos, float offset) {
        try (RobomimicWriter w = RobomimicWriter.create(file)) {
            for (int d = 0; d < demos; d++) {
                float sign = d % 2 == 0 ? 1f : -1f;
                float[] actions = new float[LENGTH * 2];
                float[] pos = new float[LENGTH * 2];
                for (int t = 0; t < LENGTH; t++) {
                    actions[2 * t] = 250 + 5f * (t + 1);
                    actions[2 * t + 1] = 250 + sign * 5f * (t + 1);
                    pos[2 * t] = (t > 0 ? actions[2 * (t - 1)] : 250) + offset;
                    pos[2 * t + 1] = (t > 0 ? actions[2 * (t - 1) + 1] : 250) + offset;
                }
                Map<String, NdArray> obs = new LinkedHashMap<>();
                obs.put("agent_pos", new FloatArray(new int[] {LENGTH, 2}, pos));
                w.writeDemo("demo_" + d, Demo.of(new FloatArray(new int[] {LENGTH, 2}, actions), obs));
            }
        }
        return file;
    }

    @Test
    void probesSeparateShiftedObservationsAndRolloutsAreAttributed(@TempDir Path tmp) throws Exception {
        Path real = write(tmp.resolve("real.hdf5"), 10, 0);
        Path sim = write(tmp.resolve("sim.hdf5"), 20, 60);
        Config c = Config.fromPreset("small_cpu").withOverrides("task.dataset.path=[" + real + "," + sim + "]",
                "task.obs_dim=2", "task.action_dim=2", "task.dataset.obs_keys=[agent_pos]",
                "task.dataset.max_train_episodes=null", "task.dataset.val_ratio=0.0", "training.device=cpu",
                "training.num_epochs=1", "training.max_train_steps=30", "dataloader.batch_size=16",
                "policy.model.n_emb=32", "training.lr_warmup_steps=5");
        Path run = tmp.resolve("run");
        new Trainer(c, run, Backends.cpu(), new PrintStream(new ByteArrayOutputStream())).showProgress(false).run();

        PolicyAnalysis.Options o = new PolicyAnalysis.Options(60, 4, 0.3, 0.01, 2,
                EnvPresets.get("target").withOverrides(List.of("max_steps=24")), 5, 0, 2);
        ForkJoinPool pool = new ForkJoinPool(2);
        try {
            PolicyAnalysis.Report r = PolicyAnalysis.run(Checkpoint.in(run), null, o, Backends.cpu(),
                    pool, new PrintStream(new ByteArrayOutputStream()));
            assertEquals(List.of(real, sim), r.data());
            assertEquals(60, r.samplesPerDataset());
            assertEquals(2 * 32, r.observationProbe().dims(), "To = 2 observation tokens of width 32");
            assertEquals(16 * 32, r.finalActivationProbe().dims(), "H = 16 action tokens of width 32");
            assertEquals(36, r.observationProbe().testSize());
            // the observations differ by a large offset: the embeddings of the observations separate them
            assertTrue(r.observationProbe().testAccuracy() > 0.95, r.summary());
            PolicyAnalysis.Attribution a = r.attribution();
            assertEquals(2, a.episodes());
            assertEquals(2 * 3, a.queries(), "24 steps, 8 executed actions per chunk: 3 chunks per episode");
            assertEquals(1 / 3.0, a.poolRealShare(), 1e-12, "10 real and 20 sim demos of equal length");
            assertTrue(a.realFraction() >= 0 && a.realFraction() <= 1);
            Object json = Json.parse(r.toJson());
            assertTrue(json instanceof Map<?, ?> m && m.containsKey("probe") && m.containsKey("knn"), r.toJson());
        } finally {
            pool.shutdown();
        }
    }
}
