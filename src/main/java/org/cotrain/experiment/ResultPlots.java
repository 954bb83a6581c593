package org.cotrain.experiment;

import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** Small comparison plots (XChart, headless PNG). */
public final class ResultPlots {

    private static final Color SUCCESS = new Color(0x4E79A7), SCORE = new Color(0xF28E2B), COVERAGE = new Color(0x59A14F);

    private ResultPlots() {}

    /**
     * One column per policy: the success rate with its Wilson 95% interval drawn as it is (asymmetric, never below 0
     * or above 1; XChart's own error bars are symmetric about the value), DP's score and the mean max coverage beside
     * it.
     */
    public static void comparison(Path png, String title, List<CotrainDemo.Outcome> outcomes) {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(800).height(540).title(title).yAxisTitle("rate").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setXAxisMin(-0.5);
        chart.getStyler().setXAxisMax(outcomes.size() - 0.5);
        chart.getStyler().setXAxisTicksVisible(false);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(1.08); // room for the names above the 1.0 line
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setMarkerSize(10);
        int n = outcomes.size();
        double[] x = new double[n], success = new double[n], score = new double[n], coverage = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = i;
            success[i] = outcomes.get(i).result().successRate();
            score[i] = outcomes.get(i).result().dpScore();
            coverage[i] = outcomes.get(i).result().meanMaxCoverage();
        }
        points(chart, "success rate (Wilson 95%)", shift(x, -0.15), success, SUCCESS, SeriesMarkers.CIRCLE);
        for (int i = 0; i < n; i++) {
            double[] w = outcomes.get(i).result().wilson95();
            double a = i - 0.15, d = 0.04;
            XYSeries bar = chart.addSeries("_wilson" + i, new double[] {a - d, a + d, a, a, a - d, a + d},
                    new double[] {w[0], w[0], w[0], w[1], w[1], w[1]});
            bar.setLineColor(SUCCESS);
            bar.setMarker(SeriesMarkers.NONE);
            bar.setLineStyle(SeriesLines.SOLID);
            bar.setShowInLegend(false);
        }
        points(chart, "DP score", x, score, SCORE, SeriesMarkers.DIAMOND);
        // XChart's custom tick labels on a numeric axis land only at its ends: name each column with a text above it.
        List<String> names = outcomes.stream().map(CotrainDemo.Outcome::name).toList();
        for (int i = 0; i < n; i++) chart.addAnnotation(new AnnotationText(names.get(i), i, 1.04, false));
        points(chart, "mean max coverage", shift(x, 0.15), coverage, COVERAGE, SeriesMarkers.SQUARE);
        try {
            String p = png.toString();
            BitmapEncoder.saveBitmap(chart, p.endsWith(".png") ? p.substring(0, p.length() - 4) : p,
                    BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + png + ": " + e.getMessage(), e);
        }
    }

    private static void points(XYChart chart, String name, double[] x, double[] y, Color color,
                               org.knowm.xchart.style.markers.Marker marker) {
        XYSeries s = chart.addSeries(name, x, y);
        s.setLineStyle(SeriesLines.NONE);
        s.setMarker(marker);
        s.setMarkerColor(color);
        s.setLineColor(color);
    }

    private static double[] shift(double[] x, double by) {
        double[] out = x.clone();
        for (int i = 0; i < out.length; i++) out[i] += by;
        return out;
    }
}
