package org.cotrain.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsLogTest {

    @Test
    void writesJsonLinesAndAppendsOnReopen(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("run/metrics.jsonl");
        try (MetricsLog log = new MetricsLog(file)) {
            log.log(MetricsLog.entries("step", 1, "train_loss", 0.5, "lr", 1e-4, "note", "a \"quoted\" word"));
            log.log(MetricsLog.entries("step", 2, "train_loss", Double.NaN));
            assertEquals(2, log.lossCurve().size());
        }
        try (MetricsLog log = new MetricsLog(file)) {
            log.log(MetricsLog.entries("step", 3, "train_loss", 0.25));
        }
        List<String> lines = Files.readAllLines(file);
        assertEquals(3, lines.size());
        assertEquals("{\"step\": 1, \"train_loss\": 0.500000000, \"lr\": 0.000100000000, "
                + "\"note\": \"a \\\"quoted\\\" word\"}", lines.get(0));
        assertEquals("{\"step\": 2, \"train_loss\": \"NaN\"}", lines.get(1));
        assertTrue(lines.get(2).startsWith("{\"step\": 3,"));
    }

    @Test
    void lossPlotIsAPng(@TempDir Path dir) throws Exception {
        List<double[]> train = new ArrayList<>();
        List<double[]> val = new ArrayList<>();
        for (int s = 1; s <= 200; s++) {
            train.add(new double[] {s, 1.0 / s + 0.01});
            if (s % 50 == 0) {
                val.add(new double[] {s, 1.2 / s + 0.01});
            }
        }
        Path png = dir.resolve("loss.png");
        LossPlot.write(png, "test run", train, val);
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(900, image.getWidth());
        assertEquals(540, image.getHeight());
    }
}
