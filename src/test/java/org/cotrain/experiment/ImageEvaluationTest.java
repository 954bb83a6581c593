package org.cotrain.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import org.cotrain.backend.Backends;
import org.cotrain.config.Config;
import org.cotrain.io.Checkpoint;
import org.cotrain.policy.ImageTask;
import org.cotrain.sim.EnvConfig;
import org.cotrain.sim.EnvPresets;
import org.cotrain.sim.Evaluator;
import org.cotrain.sim.Rollouts;
import org.cotrain.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An image checkpoint evaluated in the sandbox: the config in its metadata makes it an image policy, fed the rendered
 * 96x96 frames ("image") and agent_pos, for two short episodes from matched initial conditions.
 */
class ImageEvaluationTest {
    private static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    private static Path train(Path tmp, String... overrides) throws Exception {
        Path data = ImageTask.write(tmp.resolve("images.hdf5"), 4, 96);
        List<String> o = new java.util.ArrayList<>(List.of("training.num_epochs=1", "training.max_train_steps=1",
                "task.dataset.val_ratio=0.0"));
        o.addAll(List.of(overrides));
        Config c = ImageTask.config(data, 96, o.toArray(new String[0]));
        Path dir = tmp.resolve("run");
        new Trainer(c, dir, Backends.cpu(), QUIET).showProgress(false).run();
        return Checkpoint.in(dir);
    }

    @Test
    void imageCheckpointRunsSandboxEpisodes(@TempDir Path tmp) throws Exception {
        Path checkpoint = train(tmp);
        EnvConfig env = EnvPresets.get("target").withOverrides(List.of("max_steps=12"));
        ForkJoinPool pool = new ForkJoinPool(2);
        try {
            Evaluator.Result a = PolicyEvaluation.evaluate(checkpoint, Backends.cpu(), env, 2, 100_000, 2, 2, 0, null,
                    pool, null);
            assertEquals(2, a.trials());
            for (Rollouts.Episode e : a.episodes()) {
                assertEquals(12, e.steps(), "an untrained policy does not finish the task early");
            }
            // the same seed: the same episodes
            Evaluator.Result b = PolicyEvaluation.evaluate(checkpoint, Backends.cpu(), env, 2, 100_000, 2, 2, 0, null,
                    pool, null);
            for (int i = 0; i < 2; i++) {
                assertEquals(a.episodes().get(i).maxCoverage(), b.episodes().get(i).maxCoverage(), 0.0);
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void frameSizeOtherThanTheSandboxsIsAnError(@TempDir Path tmp) throws Exception {
        Path data = ImageTask.write(tmp.resolve("small.hdf5"), 4, 48);
        Config c = ImageTask.config(data, 48, "training.num_epochs=1", "training.max_train_steps=1",
                "task.dataset.val_ratio=0.0");
        Path dir = tmp.resolve("run");
        new Trainer(c, dir, Backends.cpu(), QUIET).showProgress(false).run();
        EnvConfig env = EnvPresets.get("target").withOverrides(List.of("max_steps=4"));
        ForkJoinPool pool = new ForkJoinPool(1);
        try {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PolicyEvaluation.evaluate(
                    Checkpoint.in(dir), Backends.cpu(), env, 1, 0, 2, 1, 0, null, pool, null));
            assertTrue(e.getMessage().contains("the environment renders 27648 bytes per frame, the policy's camera"
                    + " 'image' wants 48x48x3 = 6912"), e.getMessage());
        } finally {
            pool.shutdown();
        }
    }
}
