package org.cotrain.analysis;

import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.cotrain.io.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The t-SNE maps of the analysis as PNGs (XChart, headless, as the experiment plots), real and sim coloured, and
 * their coordinates as CSV: {@code <stem>_tsne_observation_embeddings.png}, {@code <stem>_tsne_final_activations.png}
 * and {@code <stem>_tsne.csv} in one folder.
 */
public final class TsnePlots {

    private static final Color REAL = new Color(0x4E79A7), SIM = new Color(0xF28E2B);

    private TsnePlots() {}

    /** Writes the two maps and the CSV; returns the files written. */
    public static List<Path> write(Path dir, String stem, PolicyAnalysis.TsneMaps maps) {
        List<Path> files = new ArrayList<>();
        files.add(plot(dir.resolve(stem + "_tsne_observation_embeddings.png"), "observation embeddings",
                maps.observation(), maps));
        files.add(plot(dir.resolve(stem + "_tsne_final_activations.png"), "final activations",
                maps.finalActivations(), maps));
        StringBuilder csv = new StringBuilder("window,dataset,domain,observation_x,observation_y,final_x,final_y\n");
        for (int i = 0; i < maps.dataset().length; i++) {
            double[] o = maps.observation().embedding()[i];
            double[] f = maps.finalActivations().embedding()[i];
            csv.append(String.format(Locale.ROOT, "%d,%d,%s,%.9g,%.9g,%.9g,%.9g%n", maps.window()[i],
                    maps.dataset()[i], maps.dataset()[i] == 0 ? "real" : "sim", o[0], o[1], f[0], f[1]));
        }
        Path csvFile = dir.resolve(stem + "_tsne.csv");
        try {
            AtomicFiles.writeString(csvFile, csv.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + csvFile + ": " + e.getMessage(), e);
        }
        files.add(csvFile);
        return files;
    }

    private static Path plot(Path png, String what, Tsne.Result map, PolicyAnalysis.TsneMaps maps) {
        System.setProperty("java.awt.headless", "true");
        String title = String.format(Locale.ROOT, "t-SNE of the %s (%d windows, perplexity %.3g, KL %.3f)", what,
                maps.dataset().length, map.perplexity(), map.kl());
        XYChart chart = new XYChartBuilder().width(800).height(760).title(title).build();
        chart.getStyler().setDefaultSeriesRenderStyle(org.knowm.xchart.XYSeries.XYSeriesRenderStyle.Scatter);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setAxisTicksVisible(false);   // t-SNE coordinates mean nothing by themselves
        chart.getStyler().setMarkerSize(5);
        for (int domain = 0; domain < 2; domain++) {
            int count = 0;
            for (int d : maps.dataset()) {
                count += (d == 0) == (domain == 0) ? 1 : 0;
            }
            if (count == 0) {
                continue;
            }
            double[] x = new double[count], y = new double[count];
            int at = 0;
            for (int i = 0; i < maps.dataset().length; i++) {
                if ((maps.dataset()[i] == 0) == (domain == 0)) {
                    x[at] = map.embedding()[i][0];
                    y[at++] = map.embedding()[i][1];
                }
            }
            XYSeries s = chart.addSeries(String.format(Locale.ROOT, "%s (%d)", domain == 0 ? "real" : "sim", count),
                    x, y);
            Color c = domain == 0 ? REAL : SIM;
            s.setMarker(SeriesMarkers.CIRCLE);
            s.setMarkerColor(new Color(c.getRed(), c.getGreen(), c.getBlue(), 160));
        }
        try {
            String p = png.toString();
            BitmapEncoder.saveBitmap(chart, p.substring(0, p.length() - 4), BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + png + ": " + e.getMessage(), e);
        }
        return png;
    }
}
