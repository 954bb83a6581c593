package org.cotrain.experiment;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The sweep's plots, as in the cotraining research (XChart, headless PNG): success rate against alpha, one panel per
 * |D_R|, one line per |D_S| (and per method and shift when the grid has several), each point the mean over seeds
 * with the Wilson 95% interval of the pooled trials as an error bar (drawn exactly, not symmetrised), the natural
 * ratio marked with a diamond, and the real-only baseline of that |D_R| as a dashed horizontal line. Each panel is
 * its own PNG ({@code success_vs_alpha_r<|D_R|>.png}) and all panels side by side make {@code success_vs_alpha.png}. Lines are
 * dodged sideways by a few thousandths of alpha so that their error bars stay apart.
 *
 * <p>The same panels for the mean of each episode's maximum coverage ({@code coverage_vs_alpha*.png}, no error bars):
 * where small policies rarely reach the success threshold, coverage still ranks the points.
 */
public final class SweepPlots {

    static final int WIDTH = 960;
    static final int HEIGHT = 540;
    static final int COLUMNS = 2;
    /** Sideways offset between neighbouring lines, in alpha units (the points' alpha is exact in the tables). */
    static final double DODGE = 0.006;
    /** Tableau 10: distinguishable lines, each with its error bars in the same colour. */
    private static final Color[] PALETTE = {new Color(31, 119, 180), new Color(255, 127, 14), new Color(44, 160, 44),
        new Color(214, 39, 40), new Color(148, 103, 189), new Color(140, 86, 75), new Color(227, 119, 194),
        new Color(127, 127, 127), new Color(188, 189, 34), new Color(23, 190, 207)};

    /** What a panel plots on its y axis. */
    enum Metric {
        SUCCESS("success_vs_alpha", "success rate (mean over seeds, Wilson 95%)"),
        COVERAGE("coverage_vs_alpha", "mean max coverage (mean over seeds and episodes)");

        final String file;
        final String axis;

        Metric(String file, String axis) {
            this.file = file;
            this.axis = axis;
        }

        double of(SweepResults.Summary s) {
            return this == SUCCESS ? s.meanSuccessRate() : s.meanMaxCoverage();
        }
    }

    private SweepPlots() {}

    /**
     * Writes one panel per |D_R| that has finished points, and the combined grid, into {@code dir}; returns the files
     * written (none when nothing has finished).
     */
    public static List<Path> write(Path dir, SweepGrid grid, SweepResults results) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        for (Metric metric : Metric.values()) {
            List<BufferedImage> panels = new ArrayList<>();
            for (int r : grid.realDemos()) {
                XYChart chart = panel(grid, results, r, metric);
                if (chart == null) continue;
                Path png = dir.resolve(metric.file + "_r" + r + ".png");
                BufferedImage image = BitmapEncoder.getBufferedImage(chart);
                writePng(image, png);
                written.add(png);
                panels.add(image);
            }
            if (!panels.isEmpty()) {
                Path png = dir.resolve(metric.file + ".png");
                writePng(grid(panels), png);
                written.add(png);
            }
        }
        return written;
    }

    /** The panel of one |D_R|, or null when none of its points has finished. */
    static XYChart panel(SweepGrid grid, SweepResults results, int realDemos, Metric metric) {
        SweepResults.Summary real = results.find(realDemos, 0, "1", SweepGrid.REAL_ONLY, null);
        Map<String, List<SweepResults.Summary>> lines = new LinkedHashMap<>();
        boolean manyMethods = grid.methods().size() > 1, manyShifts = grid.shifts().size() > 1;
        for (int s : grid.simDemos()) {
            for (String method : grid.methods().keySet()) {
                for (String shift : grid.shifts()) {
                    List<SweepResults.Summary> line = new ArrayList<>();
                    for (SweepGrid.Alpha a : grid.alphas()) {
                        SweepResults.Summary c = results.find(realDemos, s, a.label(), method, shift);
                        if (c != null) line.add(c);
                    }
                    if (line.isEmpty()) continue;
                    line.sort(Comparator.comparingDouble(SweepResults.Summary::alpha));
                    String name = "|D_S| = " + s + (manyMethods ? ", " + method : "") + (manyShifts ? ", " + shift
                            : "");
                    lines.put(name, line);
                }
            }
        }
        if (real == null && lines.isEmpty()) return null;

        SweepGrid.Eval e = grid.eval();
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
                .title(String.format(Locale.ROOT, "%s: |D_R| = %d (%s, %d trials per seed, %s)", grid.name(),
                        realDemos, e.env(), e.trials(), e.sampling()))
                .xAxisTitle("alpha = P(target sample)   (diamond: natural |D_R|/(|D_R|+|D_S|))")
                .yAxisTitle(metric.axis).build();
        XYStyler st = chart.getStyler();
        st.setChartBackgroundColor(Color.WHITE);
        st.setLegendPosition(Styler.LegendPosition.OutsideE);
        st.setLegendLayout(Styler.LegendLayout.Vertical);
        st.setXAxisMin(0.0);
        st.setXAxisMax(1.0);
        st.setYAxisMin(0.0);
        st.setYAxisMax(1.0);
        st.setXAxisDecimalPattern("0.00");
        st.setYAxisDecimalPattern("0.0");

        int hidden = 0;
        int k = 0;
        for (Map.Entry<String, List<SweepResults.Summary>> line : lines.entrySet()) {
            Color color = PALETTE[k % PALETTE.length];
            // Lines are dodged sideways a little so that error bars at the same alpha do not hide each other.
            double dodge = (k++ - (lines.size() - 1) / 2.0) * DODGE;
            List<SweepResults.Summary> pts = line.getValue();
            double[] x = pts.stream().mapToDouble(p -> p.alpha() + dodge).toArray();
            double[] y = pts.stream().mapToDouble(metric::of).toArray();
            XYSeries s = chart.addSeries(line.getKey(), x, y);
            s.setLineColor(color);
            s.setMarkerColor(color);
            s.setMarker(SeriesMarkers.CIRCLE);
            s.setLineStyle(SeriesLines.SOLID);
            for (SweepResults.Summary p : pts) {
                double a = p.alpha() + dodge, d = 0.008;
                if (metric == Metric.SUCCESS) {
                    double[] w = p.wilson95();
                    XYSeries bar = chart.addSeries("_bar" + hidden++, new double[] {a - d, a + d, a, a, a - d, a + d},
                            new double[] {w[0], w[0], w[0], w[1], w[1], w[1]});
                    bar.setLineColor(color);
                    bar.setMarker(SeriesMarkers.NONE);
                    bar.setLineStyle(SeriesLines.SOLID);
                    bar.setShowInLegend(false);
                }
                if (p.alphaLabel().equals("natural")) {
                    XYSeries nat = chart.addSeries("_natural" + hidden++, new double[] {a},
                            new double[] {metric.of(p)});
                    nat.setMarker(SeriesMarkers.DIAMOND);
                    nat.setMarkerColor(color.darker().darker());
                    nat.setLineStyle(SeriesLines.NONE);
                    nat.setShowInLegend(false);
                }
            }
        }
        if (real != null) {
            double[] w = real.wilson95();
            double y = metric.of(real);
            String label = metric == Metric.SUCCESS
                    ? String.format(Locale.ROOT, "real only %.2f [%.2f, %.2f]", y, w[0], w[1])
                    : String.format(Locale.ROOT, "real only %.3f", y);
            XYSeries s = chart.addSeries(label, new double[] {0, 1}, new double[] {y, y});
            s.setLineColor(Color.BLACK);
            s.setLineStyle(SeriesLines.DASH_DASH);
            s.setMarker(SeriesMarkers.NONE);
        }
        return chart;
    }

    /** Panels side by side, {@value #COLUMNS} per row, on white. */
    static BufferedImage grid(List<BufferedImage> panels) {
        int cols = Math.min(COLUMNS, panels.size());
        int rows = (panels.size() + cols - 1) / cols;
        int w = panels.stream().mapToInt(BufferedImage::getWidth).max().orElse(1);
        int h = panels.stream().mapToInt(BufferedImage::getHeight).max().orElse(1);
        BufferedImage out = new BufferedImage(cols * w, rows * h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, out.getWidth(), out.getHeight());
            for (int i = 0; i < panels.size(); i++) {
                g.drawImage(panels.get(i), (i % cols) * w, (i / cols) * h, null);
            }
        } finally {
            g.dispose();
        }
        return out;
    }

    private static void writePng(BufferedImage image, Path png) throws IOException {
        Path tmp = png.resolveSibling(png.getFileName() + ".tmp");
        if (!ImageIO.write(image, "png", tmp.toFile())) {
            throw new IOException("no PNG writer for " + png);
        }
        Files.move(tmp, png, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
