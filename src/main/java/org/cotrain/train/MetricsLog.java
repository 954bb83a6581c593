package org.cotrain.train;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import org.cotrain.io.Json;
import java.util.Map;

/**
 * Training metrics as JSON lines ({@code metrics.jsonl} in the run directory), one object per logged step, e.g.
 * {@code {"step": 100, "epoch": 0, "train_loss": 0.0412, "lr": 9.8e-05}} — the format Diffusion Policy's
 * JsonLogger writes, readable by pandas.read_json(lines=True). Appends, so a resumed run continues the file; each
 * line is flushed as written so that a crash loses nothing already logged.
 */
public final class MetricsLog implements AutoCloseable {
    private final Path path;
    private final BufferedWriter out;
    private final List<double[]> lossCurve = new ArrayList<>(); // (step, train_loss) for the plot

    public MetricsLog(Path path) {
        this.path = path;
        try {
            Files.createDirectories(path.toAbsolutePath().getParent());
            this.out = Files.newBufferedWriter(path, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the metrics log " + path + ": " + e.getMessage(), e);
        }
    }

    public Path path() {
        return path;
    }

    /** Writes one line. Values: numbers, strings, booleans. Keys keep their insertion order. */
    public void log(Map<String, ?> values) {
        StringBuilder line = new StringBuilder("{");
        boolean first = true;
        for (Map.Entry<String, ?> e : values.entrySet()) {
            line.append(first ? "" : ", ").append(Json.quote(e.getKey())).append(": ").append(jsonValue(e.getValue()));
            first = false;
        }
        line.append('}');
        try {
            out.write(line.toString());
            out.newLine();
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the metrics log " + path + ": " + e.getMessage(), e);
        }
        Object step = values.get("step");
        Object loss = values.get("train_loss");
        if (step instanceof Number s && loss instanceof Number l) {
            lossCurve.add(new double[] {s.doubleValue(), l.doubleValue()});
        }
    }

    /** Convenience: an ordered map from alternating keys and values. */
    public static Map<String, Object> entries(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i + 1 < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    /** The (step, train_loss) pairs logged by this process, for the loss plot. */
    public List<double[]> lossCurve() {
        return List.copyOf(lossCurve);
    }

    private static String jsonValue(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof Boolean) {
            return v.toString();
        }
        if (v instanceof Integer || v instanceof Long) {
            return v.toString();
        }
        if (v instanceof Number n) {
            double d = n.doubleValue();
            // JSON has no NaN or Infinity; a non-finite loss is logged as a string so the line stays valid.
            return Double.isFinite(d) ? String.format(Locale.ROOT, "%.9g", d) : Json.quote(Double.toString(d));
        }
        return Json.quote(v.toString());
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close the metrics log " + path, e);
        }
    }
}
