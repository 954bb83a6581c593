package org.cotrain.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.GraphicsEnvironment;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.cotrain.io.Json;
import org.cotrain.sim.Wilson;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The results of a sweep from made-up rows (no training): the summary pools seeds, the CSV and JSON have one row per
 * point, methods.md compares the methods, and the plots are drawn headless.
 */
class SweepPlotsTest {

    static final String GRID = """
            name: made_up
            config: small_cpu
            grid:
              real_demos: [10, 50]
              sim_demos: [500, 2000]
              alpha: [natural, 0.25, 0.5, 0.75]
              methods: {vanilla: [], domain: [cotrain.domain_conditioning=true]}
              seeds: [0, 1, 2]
            eval: {trials: 100, ddim_steps: 16}
            report: {real_demos: 10, sim_demos: 500}
            """;

    /** Successes of a point: a smooth made-up function of its parameters. */
    static int successes(SweepPoint p) {
        double rate = p.isRealOnly() ? 0.1 + 0.004 * p.realDemos()
                : 0.2 + 0.1 * (p.simDemos() / 2000.0) + 0.3 * Math.sin(Math.PI * p.alphaValue())
                + (p.method().equals("domain") ? 0.1 : 0);
        return (int) Math.round(100 * Math.min(1, rate)) - (int) p.seed();
    }

    static SweepResults.Row row(SweepPoint p, int successes) {
        return new SweepResults.Row(p.id(), p.realDemos(), p.simDemos(), p.alphaValue(), p.alphaLabel(), p.method(),
                p.shift(), p.seed(), successes, 100, 0.5, 10, 2, "ddim16");
    }

    @Test
    void summaryPoolsSeedsAndFilesHaveOneRowPerPoint(@TempDir Path dir) throws Exception {
        SweepGrid grid = SweepGrid.parse(GRID, dir.resolve("grid.yaml"));
        List<SweepPoint> points = SweepPoint.enumerate(grid);
        assertEquals(3 * 2 * (1 + 2 * 2 * 4), points.size());
        List<SweepResults.Row> rows = new ArrayList<>();
        for (SweepPoint p : points) rows.add(row(p, successes(p)));
        SweepResults results = new SweepResults(rows);
        assertEquals(2 * (1 + 2 * 2 * 4), results.summary().size());

        SweepPoint p0 = new SweepPoint(10, 500, new SweepGrid.Alpha(0.25), "domain", "source", 0);
        SweepResults.Summary s = results.find(10, 500, "0.25", "domain", "source");
        int k = successes(p0);
        assertEquals(3, s.seeds());
        assertEquals(300, s.trials());
        assertEquals(3 * k - 3, s.successes());
        assertEquals((3 * k - 3) / 300.0, s.meanSuccessRate(), 1e-12);
        assertEquals(Wilson.interval95(3 * k - 3, 300)[0], s.wilson95()[0], 0);
        SweepResults.Summary natural = results.find(50, 2000, "natural", "vanilla", "source");
        assertEquals(50 / 2050.0, natural.alpha(), 1e-12);
        assertNull(results.find(10, 500, "0.3", "vanilla", "source"));

        results.write(dir, grid, points.size());
        List<String> csv = Files.readAllLines(dir.resolve("results.csv"));
        assertEquals(points.size() + 1, csv.size());
        assertEquals(SweepResults.CSV_HEADER, csv.get(0));
        for (int i = 0; i < points.size(); i++) {
            String[] f = csv.get(i + 1).split(",", -1);
            assertEquals(17, f.length, csv.get(i + 1));
            assertEquals(points.get(i).id(), f[0]);
            assertEquals(String.valueOf(points.get(i).seed()), f[7]);
            assertEquals("100", f[9]);
        }
        assertTrue(csv.contains("r10_s500_a0.25_domain_source_seed0,10,500,0.250000,0.25,domain,source,0," + k
                + ",100," + String.format(java.util.Locale.ROOT, "%.4f", k / 100.0) + "," + String.format(
                java.util.Locale.ROOT, "%.4f,%.4f", Wilson.interval95(k, 100)[0], Wilson.interval95(k, 100)[1])
                + ",0.5000,10.0,2.0,ddim16"), String.join("\n", csv));
        assertEquals(results.summary().size() + 1, Files.readAllLines(dir.resolve("summary.csv")).size());

        @SuppressWarnings("unchecked")
        Map<String, Object> json = (Map<String, Object>) Json.parse(Files.readString(dir.resolve("results.json")));
        assertEquals(points.size(), ((List<?>) json.get("points")).size());
        assertEquals(results.summary().size(), ((List<?>) json.get("summary")).size());
        assertEquals("ddim16", ((Map<?, ?>) json.get("eval")).get("sampling"));

        String md = Files.readString(dir.resolve("methods.md"));
        assertTrue(md.indexOf("## |D_R| = 10, |D_S| = 500") < md.indexOf("### |D_R| = 50, |D_S| = 2000"), md);
        assertTrue(md.contains("| domain | source | "), md);
        assertTrue(md.contains("alpha natural (0.020)"), md);
        assertTrue(md.contains(s.cell() + " (3)"), md);
        // A coverage table beside each success table: every test row has coverage 0.5, so each best gains 0.
        assertTrue(md.contains("| coverage: method | shift |"), md);
        assertTrue(md.contains("| 0.500 (3) | 0.500 at alpha natural | +0.000 |"), md);
        assertTrue(md.contains("DDIM 16 steps"), md);
    }

    @Test
    void plotsAreDrawnHeadlessOnePanelPerRealDemosAndAGrid(@TempDir Path dir) throws Exception {
        SweepGrid grid = SweepGrid.parse(GRID, dir.resolve("grid.yaml"));
        List<SweepResults.Row> rows = new ArrayList<>();
        for (SweepPoint p : SweepPoint.enumerate(grid)) rows.add(row(p, successes(p)));
        List<Path> files = SweepPlots.write(dir.resolve("plots"), grid, new SweepResults(rows));
        assertTrue(GraphicsEnvironment.isHeadless());
        assertEquals(List.of(dir.resolve("plots/success_vs_alpha_r10.png"), dir.resolve("plots/success_vs_alpha_r50.png"),
                dir.resolve("plots/success_vs_alpha.png"), dir.resolve("plots/coverage_vs_alpha_r10.png"),
                dir.resolve("plots/coverage_vs_alpha_r50.png"), dir.resolve("plots/coverage_vs_alpha.png")), files);
        BufferedImage panel = ImageIO.read(files.get(0).toFile());
        assertEquals(SweepPlots.WIDTH, panel.getWidth());
        assertEquals(SweepPlots.HEIGHT, panel.getHeight());
        BufferedImage all = ImageIO.read(files.get(2).toFile());
        assertEquals(2 * SweepPlots.WIDTH, all.getWidth());
        assertEquals(SweepPlots.HEIGHT, all.getHeight());
        assertTrue(colours(panel) > 5, "the panel has lines in several colours");
    }

    @Test
    void partialResultsPlotWhatIsThere(@TempDir Path dir) throws Exception {
        SweepGrid grid = SweepGrid.parse(GRID, dir.resolve("grid.yaml"));
        // Only two points of |D_R| = 50 have finished: one panel, "-" for the rest of the table.
        List<SweepResults.Row> rows = List.of(row(SweepPoint.realOnly(50, 0), 30),
                row(new SweepPoint(50, 500, new SweepGrid.Alpha(0.5), "vanilla", "source", 0), 40));
        SweepResults results = new SweepResults(rows);
        List<Path> files = SweepPlots.write(dir.resolve("plots"), grid, results);
        assertEquals(List.of(dir.resolve("plots/success_vs_alpha_r50.png"), dir.resolve("plots/success_vs_alpha.png"),
                dir.resolve("plots/coverage_vs_alpha_r50.png"), dir.resolve("plots/coverage_vs_alpha.png")), files);
        assertTrue(results.methodsMarkdown(grid).contains("not run yet"));
        assertEquals(List.of(), SweepPlots.write(dir.resolve("none"), grid, new SweepResults(List.of())));
    }

    private static int colours(BufferedImage image) {
        java.util.Set<Integer> c = new java.util.HashSet<>();
        for (int y = 0; y < image.getHeight(); y += 2) {
            for (int x = 0; x < image.getWidth(); x += 2) c.add(image.getRGB(x, y));
        }
        return c.size();
    }
}
