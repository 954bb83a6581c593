package org.cotrain.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.cotrain.config.Config;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Grid files: the example parses to the documented sweep, every error names its key, and points get their keys. */
class SweepGridTest {

    static final String MINIMAL = """
            config: small_cpu
            grid:
              real_demos: [10, 50]
              sim_demos: [500]
            """;

    @Test
    void theExampleIsTheIssueSweep(@TempDir Path dir) throws Exception {
        String text;
        try (InputStream in = SweepGrid.class.getResourceAsStream("example_sweep.yaml")) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Path file = dir.resolve("example_sweep.yaml");
        Files.writeString(file, text);
        SweepGrid g = SweepGrid.load(file);
        assertEquals("example", g.name());
        assertEquals(List.of(10, 50), g.realDemos());
        assertEquals(List.of(500), g.simDemos());
        assertEquals(List.of("natural", "0.25", "0.5", "0.75"), g.alphas().stream().map(SweepGrid.Alpha::label)
                .toList());
        assertEquals(List.of("vanilla"), List.copyOf(g.methods().keySet()));
        assertEquals(List.of(0L, 1L, 2L), g.seeds());
        assertEquals(100, g.eval().trials());
        assertEquals(16, g.eval().ddimSteps());
        assertEquals(50, g.target().demos());
        assertEquals("source", g.source("source").env());
        // 3 seeds x 2 |D_R| x (real_only + 4 alphas)
        List<SweepPoint> points = SweepPoint.enumerate(g);
        assertEquals(30, points.size());
        assertEquals("r10_real_only_seed0", points.get(0).id());
        assertEquals("r10_s500_anatural_vanilla_source_seed0", points.get(1).id());
        assertEquals("r10_s500_a0.25_vanilla_source_seed0", points.get(2).id());
        assertEquals(points.size(), points.stream().map(SweepPoint::id).distinct().count());
    }

    @Test
    void defaultsFillTheRest(@TempDir Path dir) {
        SweepGrid g = parse(dir, MINIMAL);
        assertEquals(List.of("natural"), g.alphas().stream().map(SweepGrid.Alpha::label).toList());
        assertEquals(List.of("source"), g.shifts());
        assertEquals(List.of(0L), g.seeds());
        assertTrue(g.methods().containsKey("vanilla"));
        assertEquals(50, g.target().demos(), "target demos default to the largest |D_R|");
        assertEquals("target", g.target().env());
        assertEquals(500, g.source("source").demos(), "source demos default to the largest |D_S|");
        assertEquals("target", g.eval().env());
        assertEquals(100, g.eval().trials());
        assertEquals("ddpm", g.eval().sampling());
        assertEquals(50, g.reportRealDemos());
        assertEquals(500, g.reportSimDemos());
    }

    @Test
    void errorsNameTheKey(@TempDir Path dir) {
        assertError(dir, MINIMAL + "  alpha: [natural, 1.5]\n", "grid.alpha[1]", "1.5");
        assertError(dir, MINIMAL + "  alpha: [0.5, 0.5]\n", "grid.alpha[1]", "twice");
        assertError(dir, MINIMAL + "  methods: {real_only: []}\n", "grid.methods.real_only", "baseline");
        assertError(dir, MINIMAL + "  methods: {domain: [cotrain.domain_conditionning=true]}\n",
                "grid.methods.domain", "cotrain.domain_conditionning");
        assertError(dir, MINIMAL + "  methods: {bad: [training.seed=3]}\n", "grid.methods.bad[0]", "training.seed");
        assertError(dir, MINIMAL + "  methods: {\"a/b\": []}\n", "grid.methods.a/b", "letters");
        assertError(dir, MINIMAL + "  shifts: [mars]\n", "grid.shifts", "mars");
        assertError(dir, MINIMAL + "  seeds: [0, x]\n", "grid.seeds[1]", "whole number");
        assertError(dir, MINIMAL + "  sim_demos: [500]\n", "", "duplicate key sim_demos");
        assertError(dir, MINIMAL + "  real_demos2: [1]\n", "grid.real_demos2", "unknown key");
        assertError(dir, MINIMAL + "grd: {}\n", "grd", "unknown key");
        assertError(dir, "config: small_cpu\ngrid:\n  sim_demos: [500]\n", "grid.real_demos", "missing");
        assertError(dir, "config: small_cpu\ngrid:\n  real_demos: [0]\n  sim_demos: [5]\n", "grid.real_demos[0]",
                ">= 1");
        assertError(dir, "config: no_such_preset\ngrid:\n  real_demos: [1]\n  sim_demos: [5]\n", "config",
                "no_such_preset");
        assertError(dir, MINIMAL + "overrides:\n  - task.dataset.weights=[1,1]\n", "overrides[0]",
                "task.dataset.weights");
        assertError(dir, MINIMAL + "overrides: [policy.model.n_layerz=1]\n", "overrides", "n_layerz");
        assertError(dir, MINIMAL + "data:\n  target: {env: target, demos: 20}\n", "data.target.demos", "50");
        assertError(dir, MINIMAL + "data:\n  sources:\n    source: {env: nowhere}\n", "data.sources.source.env",
                "nowhere");
        assertError(dir, MINIMAL + "data:\n  target: {path: a.hdf5, demos: 3}\n", "data.target", "not both");
        assertError(dir, MINIMAL + "eval:\n  trials: 0\n", "eval.trials", ">= 1");
        assertError(dir, MINIMAL + "eval:\n  overrides: [max_stepz=3]\n", "eval.overrides", "max_stepz");
        assertError(dir, MINIMAL + "report: {real_demos: 20}\n", "report.real_demos", "20");
        assertError(dir, "config: small_cpu\ngrid: [1]\n", "grid", "mapping");
        assertError(dir, "config: [small_cpu\n", "", "not valid YAML");
    }

    @Test
    void pointsGetTheirDataWeightsAndSeeds(@TempDir Path dir) {
        SweepGrid g = parse(dir, MINIMAL + "  alpha: [natural, 0.25]\n  methods: {vanilla: [], domain:"
                + " [cotrain.domain_conditioning=true]}\n  seeds: [7]\n");
        Path real = dir.resolve("real.hdf5"), sim = dir.resolve("sim dir/sim.hdf5");
        SweepPoint natural = new SweepPoint(10, 500, SweepGrid.Alpha.NATURAL, "domain", "source", 7);
        assertEquals(10 / 510.0, natural.alphaValue(), 1e-15);
        Config c = natural.config(g, real, sim, 3);
        assertEquals(List.of(real.toString(), sim.toString()), c.get("task.dataset.path"));
        assertEquals(List.of(10L, 500L), c.get("task.dataset.weights"));
        assertEquals(List.of(10L, 500L), c.get("cotrain.dataset_max_train_episodes"));
        assertEquals(7L, c.get("training.seed"));
        assertEquals(3L, c.get("cotrain.threads"));
        assertEquals(true, c.get("cotrain.domain_conditioning"));
        assertEquals(true, c.get("training.resume"));
        assertEquals(0.0, c.get("task.dataset.val_ratio"));
        List<Double> w = c.toTrainConfig().task().dataset().weights();
        assertEquals(10 / 510.0, w.get(0), 1e-15);

        SweepPoint quarter = new SweepPoint(10, 500, new SweepGrid.Alpha(0.25), "vanilla", "source", 7);
        Config q = quarter.config(g, real, sim, 1);
        assertEquals(List.of(0.25, 0.75), q.get("task.dataset.weights"));
        assertEquals(false, q.get("cotrain.domain_conditioning"));
        assertEquals("r10_s500_a0.25_vanilla_source_seed7", quarter.id());

        SweepPoint base = SweepPoint.realOnly(10, 7);
        Config b = base.config(g, real, null, 1);
        assertEquals(List.of(real.toString()), b.get("task.dataset.path"));
        assertEquals(List.of(10L), b.get("cotrain.dataset_max_train_episodes"));
        assertEquals(1.0, base.alphaValue());
        assertEquals("r10_real_only_seed7", base.id());
        assertFalse(b.overrides().stream().anyMatch(o -> o.contains("domain_conditioning")),
                "the baseline gets no method's overrides");
    }

    private static SweepGrid parse(Path dir, String text) {
        return SweepGrid.parse(text, dir.resolve("grid.yaml"));
    }

    private static void assertError(Path dir, String text, String key, String detail) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(dir, text), text);
        String m = e.getMessage();
        assertTrue(m.contains("grid.yaml: " + key), "'" + m + "' should name " + key);
        assertTrue(m.contains(detail), "'" + m + "' should say " + detail);
    }
}
