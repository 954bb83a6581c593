package org.cotrain.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The loss curves of a run as a PNG (XChart, headless): training loss, and validation loss when there is one. */
public final class LossPlot {
    private LossPlot() {}

    /**
     * Writes {@code path} (a .png). train and val are (step, loss) pairs; val may be empty. The y axis is
     * logarithmic: diffusion losses fall over orders of magnitude.
     */
    public static void write(Path path, String title, List<double[]> train, List<double[]> val) {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(900).height(540).title(title).xAxisTitle("step")
                .yAxisTitle("loss (log scale)").build();
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        addSeries(chart, "train", train, false);
        addSeries(chart, "validation", val, true);
        try {
            BitmapEncoder.saveBitmap(chart, stripPng(path.toString()), BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the loss plot " + path + ": " + e.getMessage(), e);
        }
    }

    private static void addSeries(XYChart chart, String name, List<double[]> points, boolean markers) {
        double[] x = points.stream().filter(p -> p[1] > 0 && Double.isFinite(p[1])).mapToDouble(p -> p[0]).toArray();
        double[] y = points.stream().filter(p -> p[1] > 0 && Double.isFinite(p[1])).mapToDouble(p -> p[1]).toArray();
        if (x.length == 0) {
            return;
        }
        XYSeries s = chart.addSeries(name, x, y);
        s.setMarker(markers ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
    }

    /** XChart appends the extension itself. */
    private static String stripPng(String p) {
        return p.endsWith(".png") ? p.substring(0, p.length() - 4) : p;
    }
}
