package org.cotrain.config;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Typed reads of a Config's resolved values, for building TrainConfig. Every read checks the type and range and
 * fails with one message that names the key, what it must be, the value it got and where that came from:
 * {@code training.lr_warmup_steps must be an integer >= 0, got -5 (override training.lr_warmup_steps=-5)}.
 * It remembers which keys were read, so a test can check that TrainConfig reads every key of the schema.
 */
final class ConfigReader {
    private final Config config;
    private final Set<String> read = new LinkedHashSet<>();

    ConfigReader(Config config) {
        this.config = config;
    }

    /** The keys read so far. */
    Set<String> readKeys() {
        return read;
    }

    Object value(String key) {
        read.add(key);
        return config.get(key);
    }

    /** Low-dim or image (see {@link Config#kind()}). */
    PolicyKind kind() {
        return config.kind();
    }

    /** Whether the config has this key (the entries of task.shape_meta.obs are the config's own). */
    boolean has(String key) {
        return config.keys().contains(key);
    }

    /** The entry names under an open section (task.shape_meta.obs), in the config's order. */
    List<String> entries(String section) {
        List<String> out = new ArrayList<>();
        for (String key : config.keys()) {
            if (key.startsWith(section + ".")) {
                String name = key.substring(section.length() + 1).split("\\.", -1)[0];
                if (!out.contains(name)) {
                    out.add(name);
                }
            }
        }
        return out;
    }

    /** A list of {@code size} integers >= min (size < 0: any non-empty length). */
    List<Integer> integers(String key, int size, int min) {
        Object v = value(key);
        String expected = (size < 0 ? "a non-empty list of integers" : "a list of " + size + " integers") + " >= "
                + min;
        if (!(v instanceof List<?> list) || list.isEmpty() || (size >= 0 && list.size() != size)) {
            throw invalid(key, expected, v);
        }
        List<Integer> out = new ArrayList<>();
        for (Object element : list) {
            if (!(element instanceof Long l) || l < min || l > Integer.MAX_VALUE) {
                throw invalid(key, expected, v);
            }
            out.add((int) (long) l);
        }
        return List.copyOf(out);
    }

    /** Where a key's value came from (the file, preset or override). */
    String origin(String key) {
        return config.origin(key);
    }

    /** An error about a key's value: "key must be {expected}, got {value} (origin)". */
    ConfigException invalid(String key, String expected, Object got) {
        return new ConfigException(key + " must be " + expected + ", got " + show(got) + " (" + config.origin(key)
                + ")");
    }

    /** An integer >= min that fits an int. */
    int integer(String key, int min) {
        return integerIn(key, min, Integer.MAX_VALUE);
    }

    /** An integer in [min, max]. */
    int integerIn(String key, int min, int max) {
        Object v = value(key);
        String expected = max == Integer.MAX_VALUE ? "an integer >= " + min : "an integer in [" + min + ", " + max + "]";
        if (!(v instanceof Long l) || l < min || l > max) {
            throw invalid(key, expected, v);
        }
        return (int) (long) l;
    }

    /** null, or an integer >= min. */
    Integer optionalInteger(String key, int min) {
        Object v = value(key);
        if (v == null) {
            return null;
        }
        if (!(v instanceof Long l) || l < min || l > Integer.MAX_VALUE) {
            throw invalid(key, "null or an integer >= " + min, v);
        }
        return (int) (long) l;
    }

    /** Any 64-bit integer (seeds). */
    long anyInteger(String key) {
        Object v = value(key);
        if (!(v instanceof Long l)) {
            throw invalid(key, "an integer", v);
        }
        return l;
    }

    /** A finite number (an integer is taken as a number) in the interval lo..hi, each end open or closed. */
    double number(String key, double lo, boolean loClosed, double hi, boolean hiClosed) {
        Object v = value(key);
        double d = asNumber(v);
        boolean ok = !Double.isNaN(d) && (loClosed ? d >= lo : d > lo) && (hiClosed ? d <= hi : d < hi);
        if (!ok) {
            throw invalid(key, "a number " + interval(lo, loClosed, hi, hiClosed), v);
        }
        return d;
    }

    /** null, or a number > 0. */
    Double optionalPositive(String key) {
        Object v = value(key);
        if (v == null) {
            return null;
        }
        double d = asNumber(v);
        if (!(d > 0) || Double.isInfinite(d)) {
            throw invalid(key, "null or a number > 0", v);
        }
        return d;
    }

    boolean bool(String key) {
        Object v = value(key);
        if (!(v instanceof Boolean b)) {
            throw invalid(key, "true or false", v);
        }
        return b;
    }

    /** Non-empty text. */
    String text(String key) {
        Object v = value(key);
        if (!(v instanceof String s) || s.isEmpty()) {
            throw invalid(key, "non-empty text", v);
        }
        return s;
    }

    /** A label: any text, or a number or boolean taken as text (exp_name=2024, exp_name=yes). */
    String label(String key) {
        Object v = value(key);
        if (v == null || v instanceof List) {
            throw invalid(key, "text", v);
        }
        return String.valueOf(v);
    }

    /** One of the names of {@code choices} (DP's spelling), mapped to its value. */
    <E> E choice(String key, Map<String, E> choices) {
        Object v = value(key);
        E e = v instanceof String s ? choices.get(s) : null;
        if (e == null) {
            throw invalid(key, "one of " + String.join(", ", choices.keySet()), v);
        }
        return e;
    }

    /** A non-empty list of distinct non-empty texts; a single text counts as a list of one when {@code single}. */
    List<String> texts(String key, boolean single) {
        Object v = value(key);
        String expected = single ? "non-empty text or a non-empty list of distinct texts"
                : "a non-empty list of distinct non-empty texts";
        if (single && v instanceof String s && !s.isEmpty()) {
            return List.of(s);
        }
        if (!(v instanceof List<?> list) || list.isEmpty() || new LinkedHashSet<>(list).size() != list.size()) {
            throw invalid(key, expected, v);
        }
        List<String> out = new ArrayList<>();
        for (Object element : list) {
            if (!(element instanceof String s) || s.isEmpty()) {
                throw invalid(key, expected, v);
            }
            out.add(s);
        }
        return List.copyOf(out);
    }

    /** null, or a list of {@code size} numbers (size < 0: any non-empty length), each in lo..hi. */
    List<Double> numbers(String key, int size, boolean nullable, double lo, boolean loClosed, double hi,
                         boolean hiClosed) {
        Object v = value(key);
        if (v == null && nullable) {
            return null;
        }
        String expected = (nullable ? "null or " : "") + (size < 0 ? "a non-empty list of numbers" : "a list of "
                + size + " numbers") + " " + interval(lo, loClosed, hi, hiClosed);
        if (!(v instanceof List<?> list) || list.isEmpty() || (size >= 0 && list.size() != size)) {
            throw invalid(key, expected, v);
        }
        List<Double> out = new ArrayList<>();
        for (Object element : list) {
            double d = asNumber(element);
            if (Double.isNaN(d) || !(loClosed ? d >= lo : d > lo) || !(hiClosed ? d <= hi : d < hi)) {
                throw invalid(key, expected, v);
            }
            out.add(d);
        }
        return List.copyOf(out);
    }

    /**
     * Checks a key that must repeat another (DP's configs interpolate it, e.g. policy.horizon: ${horizon}).
     */
    void same(String key, Object value, String ofKey, Object expected) {
        if (!Objects.equals(value, expected)) {
            throw new ConfigException(key + " must equal " + ofKey + " (" + show(expected) + "), got " + show(value)
                    + " (" + config.origin(key) + "); the presets set it to ${" + ofKey + "}");
        }
    }

    private static double asNumber(Object v) {
        if (v instanceof Long l) {
            return l;
        }
        if (v instanceof Double d) {
            return d;
        }
        return Double.NaN;
    }

    private static String interval(double lo, boolean loClosed, double hi, boolean hiClosed) {
        if (hi == Double.POSITIVE_INFINITY) {
            return (loClosed ? ">= " : "> ") + bound(lo);
        }
        return "in " + (loClosed ? "[" : "(") + bound(lo) + ", " + bound(hi) + (hiClosed ? "]" : ")");
    }

    private static String bound(double b) {
        return b == Math.rint(b) && Math.abs(b) < 1e15 ? String.valueOf((long) b) : String.valueOf(b);
    }

    /** A value as it would be written in YAML. */
    static String show(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof String s) {
            return "'" + s + "'";
        }
        if (v instanceof Double d && d == Math.rint(d) && Math.abs(d) < 1e15) {
            return String.valueOf(d.longValue()) + ".0";
        }
        if (v instanceof List<?> list) {
            return list.stream().map(ConfigReader::show).collect(Collectors.joining(", ", "[", "]"));
        }
        return String.valueOf(v);
    }
}
