package org.cotrain.cotrain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/** Small comparison plots (XChart, headless PNG). */
public final class ResultPlots {

    private ResultPlots() {}

    /** Success rate per policy as bars with Wilson 95% error bars, and the mean max coverage beside them. */
    public static void comparison(Path png, String title, List<CotrainDemo.Outcome> outcomes) {
        System.setProperty("java.awt.headless", "true");
        CategoryChart chart = new CategoryChartBuilder().width(800).height(500).title(title).yAxisTitle("rate").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(1.0);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        List<String> names = outcomes.stream().map(CotrainDemo.Outcome::name).toList();
        List<Double> success = outcomes.stream().map(o -> o.result().successRate()).toList();
        // XChart draws symmetric error bars: the larger side of the Wilson interval keeps the whole interval visible.
        List<Double> error = outcomes.stream().map(o -> {
            double[] w = o.result().wilson95();
            double p = o.result().successRate();
            return Math.max(p - w[0], w[1] - p);
        }).toList();
        List<Double> coverage = outcomes.stream().map(o -> o.result().meanMaxCoverage()).toList();
        chart.addSeries("success rate", names, success, error);
        chart.addSeries("mean max coverage", names, coverage);
        try {
            String p = png.toString();
            BitmapEncoder.saveBitmap(chart, p.endsWith(".png") ? p.substring(0, p.length() - 4) : p,
                    BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + png + ": " + e.getMessage(), e);
        }
    }
}
