package org.cotrain.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.cotrain.config.AmbientConfig;
import org.cotrain.config.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ambient methods as sweep methods (config overrides): they parse, train, evaluate and appear in the tables. */
class AmbientSweepTest {

    @Test
    void theAmbientExampleParsesToAmbientPoints(@TempDir Path dir) throws Exception {
        String text;
        try (InputStream in = SweepGrid.class.getResourceAsStream("example_ambient_sweep.yaml")) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Path file = dir.resolve("example_ambient_sweep.yaml");
        Files.writeString(file, text);
        SweepGrid g = SweepGrid.load(file);
        assertEquals(List.of("vanilla", "ambient_classifier", "denoise_t30"), List.copyOf(g.methods().keySet()));
        List<SweepPoint> points = SweepPoint.enumerate(g);
        assertEquals(3 * (1 + 3 * 4), points.size());
        SweepPoint p = points.stream().filter(x -> x.method().equals("denoise_t30")).findFirst().orElseThrow();
        TrainConfig tc = p.config(g, Path.of("real.hdf5"), Path.of("sim.hdf5"), 2).toTrainConfig();
        AmbientConfig a = tc.cotrain().ambient();
        assertEquals("[null, 30]", a.datasets().toString());
        assertEquals(AmbientConfig.Loss.DENOISE, a.loss());
        assertEquals(AmbientConfig.AlphaSchedule.LINEAR, a.alphaSchedule());
        SweepPoint c = points.stream().filter(x -> x.method().equals("ambient_classifier")).findFirst().orElseThrow();
        assertTrue(c.config(g, Path.of("real.hdf5"), Path.of("sim.hdf5"), 2).toTrainConfig().cotrain().ambient()
                .usesClassifier());
    }

    @Test
    void ambientMethodsRunInASweep(@TempDir Path dir) throws Exception {
        SweepGrid grid = SweepRunnerTest.grid(dir, SweepRunnerTest.TINY + """
                data:
                  target: {env: target, demos: 3}
                  sources: {source: {env: source, demos: 3}}
                grid:
                  real_demos: [3]
                  sim_demos: [3]
                  alpha: [0.5]
                  seeds: [0]
                  methods:
                    vanilla: []
                    ambient:
                      - cotrain.ambient.t_n=[null,20]
                    ambient_classifier:
                      - cotrain.ambient.t_n=[null,classifier]
                      - cotrain.ambient.classifier.hidden=8
                      - cotrain.ambient.classifier.train_steps=10
                      - cotrain.ambient.classifier.batch_size=16
                      - cotrain.ambient.classifier.noise_draws=1
                """);
        Path out = dir.resolve("out");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        SweepRunner.Outcome outcome = SweepRunnerTest.runner(grid, out, 1, log).run();
        String text = log.toString(StandardCharsets.UTF_8);
        assertEquals(List.of(), outcome.failed(), text);
        assertEquals(4, outcome.ran());
        List<String> csv = Files.readAllLines(out.resolve("results.csv"));
        assertEquals(List.of("r3_real_only_seed0", "r3_s3_a0.5_vanilla_source_seed0", "r3_s3_a0.5_ambient_source_seed0",
                "r3_s3_a0.5_ambient_classifier_source_seed0"), csv.subList(1, csv.size()).stream()
                .map(l -> l.split(",")[0]).toList());
        String methods = Files.readString(out.resolve("methods.md"));
        assertTrue(methods.contains("| ambient | source |") && methods.contains("| ambient_classifier | source |"),
                methods);
        try (Stream<Path> files = Files.list(out.resolve("data"))) {
            assertEquals(1, files.filter(f -> f.getFileName().toString().contains(".noise_levels.")).count(),
                    "the classifier's levels are cached next to the source data");
        }
    }
}
