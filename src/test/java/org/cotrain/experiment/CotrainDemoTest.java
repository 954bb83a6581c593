package org.cotrain.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.cotrain.sim.Evaluator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The main job at toy scale: every stage runs, the outputs are there, and a rerun redoes nothing finished. */
class CotrainDemoTest {

    @Test
    void runsEndToEndAndContinuesWhereItStopped(@TempDir Path dir) throws Exception {
        CotrainDemo.Settings s = new CotrainDemo.Settings(dir, "small_cpu", 3, 4, "source", null, 12, 3, 2, 0, "cpu",
                2, CotrainDemo.Settings.EASIER_TASK);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        List<CotrainDemo.Outcome> first = new CotrainDemo(s, new PrintStream(log)).run();
        assertEquals(2, first.size());
        for (CotrainDemo.Outcome o : first) {
            Evaluator.Result r = o.result();
            assertEquals(3, r.trials());
            assertTrue(r.meanMaxCoverage() >= 0 && r.meanMaxCoverage() <= 1);
        }
        assertTrue(first.get(1).data().contains("alpha 0.429 (natural)"), first.get(1).data());
        // The easier task's settings reach the data and the evaluation.
        assertTrue(log.toString().contains("reset.angle_range_deg=30"), log.toString());
        String eval = Files.readString(dir.resolve("real_only/eval.json"));
        assertTrue(eval.replace(" ", "").contains("\"reset.angle_range_deg\":30,"), eval.substring(0, 400));
        for (String f : List.of("comparison.png", "results.json", "real_only/eval.json", "cotrained/eval.json",
                "real_only/checkpoints/latest.safetensors", "videos/cotrained/episode_0.mp4")) {
            assertTrue(Files.size(dir.resolve(f)) > 0, f);
        }
        // Exactly total_train_steps optimizer steps, whatever the data size.
        assertEquals(12, Files.readAllLines(dir.resolve("real_only/metrics.jsonl")).stream()
                .filter(l -> l.contains("train_loss")).count());

        ByteArrayOutputStream again = new ByteArrayOutputStream();
        List<CotrainDemo.Outcome> second = new CotrainDemo(s, new PrintStream(again)).run();
        String text = again.toString();
        assertTrue(text.contains("is already there"), text);
        assertEquals(first.get(0).result().successes(), second.get(0).result().successes());
        assertEquals(first.get(1).result().meanMaxCoverage(), second.get(1).result().meanMaxCoverage(), 0.0);
    }

    /** With an image config (the GPU demo's kind): the data gets the frames and the policies see them. */
    @Test
    void imageConfigTrainsAndEvaluatesImagePolicies(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("tiny_image.yaml");
        Files.writeString(config, org.cotrain.config.Config.load("small_cpu_image", List.of("policy.n_layer=1",
                "policy.n_emb=16", "dataloader.batch_size=2")).toYaml());
        CotrainDemo.Settings s = new CotrainDemo.Settings(dir, config.toString(), 2, 2, "source", null, 2, 1, 2, 0,
                "cpu", 2, List.of());
        assertTrue(s.images());
        List<CotrainDemo.Outcome> outcomes = new CotrainDemo(s, new PrintStream(new ByteArrayOutputStream())).run();
        assertEquals(2, outcomes.size());
        assertEquals(1, outcomes.get(1).result().trials());
        assertTrue(Files.exists(dir.resolve("data/target_2_seed0_img.hdf5")));
        assertTrue(Files.readString(dir.resolve("cotrained/config.yaml")).contains("shape_meta"));
    }
}
