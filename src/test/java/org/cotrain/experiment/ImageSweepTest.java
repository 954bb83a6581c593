package org.cotrain.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.cotrain.data.RobomimicReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sweep of image policies at toy scale: the base config is the small image preset, so the sweep generates its data
 * with the rendered frames (a visual-shift source among them), trains image policies (2 steps) and evaluates them on
 * rendered observations (2 episodes of 8 steps).
 */
class ImageSweepTest {

    @Test
    void theImageExampleIsTheVisualShiftSweep(@TempDir Path dir) throws Exception {
        String text;
        try (java.io.InputStream in = SweepGrid.class.getResourceAsStream("example_image_sweep.yaml")) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        SweepGrid g = SweepRunnerTest.grid(dir, text);
        assertEquals(org.cotrain.config.PolicyKind.IMAGE, g.baseConfig().kind());
        assertEquals(64, g.baseConfig().toTrainConfig().dataloader().batchSize());
        assertEquals(List.of("source-visual-0", "source-visual-1", "source-visual-2", "source-visual-3"), g.shifts());
        assertEquals(5, SweepPoint.enumerate(g).size()); // 4 shifts + the real-only baseline
        assertTrue(new SweepRunner(g, new SweepRunner.Options(dir.resolve("out"), 1, 2, true), null)
                .data().generatedFile(g.target()).toString().endsWith("target_50_seed0_img.hdf5"));
    }

    @Test
    void imageBaseConfigGeneratesFramesTrainsAndEvaluatesImagePolicies(@TempDir Path dir) throws Exception {
        SweepGrid grid = SweepRunnerTest.grid(dir, """
                config: small_cpu_image
                overrides: [cotrain.total_train_steps=2, training.max_train_steps=2, policy.n_layer=1,
                            policy.n_emb=16, dataloader.batch_size=2, val_dataloader.batch_size=2]
                eval: {trials: 2, ddim_steps: 2, batch: 2, overrides: [max_steps=8]}
                data:
                  target: {env: target, demos: 2}
                  sources: {source-visual-1: {env: source-visual-1, demos: 2}}
                grid: {real_demos: [2], sim_demos: [2], alpha: [0.5], shifts: [source-visual-1], seeds: [0]}
                """);
        Path out = dir.resolve("out");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        SweepRunner.Outcome outcome = SweepRunnerTest.runner(grid, out, 1, log).run();
        String text = log.toString(StandardCharsets.UTF_8);
        assertEquals(List.of(), outcome.failed(), text);
        assertEquals(2, outcome.ran(), text);
        Path target = out.resolve("data/target_2_seed0_img.hdf5");
        Path source = out.resolve("data/source-visual-1_2_seed0_img.hdf5");
        for (Path f : List.of(target, source)) {
            try (RobomimicReader r = RobomimicReader.open(f)) {
                assertEquals(List.of(r.numSamples("demo_0"), 96, 96, 3),
                        java.util.Arrays.stream(r.read("demo_0", "obs/image").shape()).boxed().toList(), f.toString());
            }
        }
        Map<String, Object> r = SweepRunnerTest.result(out, "r2_s2_a0.5_vanilla_source-visual-1_seed0");
        assertEquals(source.toString(), ((Map<?, ?>) r.get("data")).get("sim"));
        assertEquals(2, ((Number) ((Map<?, ?>) r.get("result")).get("trials")).intValue());
        assertTrue(Files.size(out.resolve("results.csv")) > 0);
    }
}
