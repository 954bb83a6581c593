package org.cotrain.experiment;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.cotrain.config.Config;
import org.cotrain.sim.EnvConfig;
import org.cotrain.sim.EnvPresets;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * A cotraining sweep, as read from a grid file ({@code ./cotrain sweep grid.yaml}): the base training config, the
 * datasets, the grid of points, how each policy is evaluated and which data size the methods table compares.
 *
 * <pre>{@code
 * name: sandbox_vanilla            # optional; a label in the results and plots (default: the file name)
 * config: small_cpu                # a config preset, or a YAML config file (relative to this file)
 * overrides:                       # config key=value overrides for every point, e.g. equal compute per point
 *   - cotrain.total_train_steps=6000
 * data:
 *   target: {env: target, demos: 50, seed: 0}          # the "real" data: generated (with frames if config is an
 *                                                      # image config) ...
 *   sources:                                           # the "sim" data, one entry per shift of grid.shifts
 *     source: {env: source, demos: 500, seed: 0}
 *     source-physics-2: data/physics2.hdf5             # ... or an existing robomimic HDF5 file
 * grid:
 *   real_demos: [10, 50]           # |D_R|: the first n training demos of the target file
 *   sim_demos: [500]               # |D_S|: the first n training demos of the source file
 *   alpha: [natural, 0.25, 0.5, 0.75]   # P(sample from D_R); natural = |D_R| / (|D_R| + |D_S|)
 *   methods:                       # name -> config overrides for that method
 *     vanilla: []
 *     domain: [cotrain.domain_conditioning=true]
 *   shifts: [source, source-physics-2]  # which source dataset (keys of data.sources)
 *   seeds: [0, 1, 2]               # training.seed of each point
 * eval:
 *   env: target                    # environment preset the policies are judged in
 *   trials: 100                    # episodes per point, matched initial conditions (the same for every point)
 *   seed: 100000                   # seed of those initial conditions
 *   ddim_steps: 16                 # optional: sample with DDIM in this many steps (default: the config's DDPM)
 *   batch: 50                      # optional: episodes stepped together (one denoising batch)
 *   overrides: []                  # optional: environment key=value overrides (e.g. max_steps=200)
 * report:                          # optional: the data size of methods.md (default: the largest of each)
 *   real_demos: 50
 *   sim_demos: 500
 * }</pre>
 *
 * A dataset is a path (a string, or {@code {path: f.hdf5}}) or a generation spec {@code {env, demos, seed,
 * overrides}}: {@code env} an environment preset (default: {@code target} for the target data, the shift's own name for
 * a source), {@code demos} default the largest |D_R| (target) or |D_S| (sources), {@code seed} default 0,
 * {@code overrides} environment key=value overrides. A shift of {@code grid.shifts} without an entry in
 * {@code data.sources} is generated from the environment preset of that name. Defaults of the grid: methods
 * {@code {vanilla: []}}, shifts {@code [source]}, seeds {@code [0]}, alpha {@code [natural]}. Every point also gets a
 * {@code real_only} baseline per |D_R| and seed, trained on the target data alone with the base config.
 *
 * <p>Overrides are {@code key=value} strings as on the command line; one whose value is a list must be written in
 * a block list ({@code - optimizer.betas=[0.9,0.99]}) or quoted inside a flow list, since YAML reads the brackets
 * of {@code [a=[1,2]]} as nesting. The sweep sets {@link #MANAGED_KEYS} itself for each point (the data files,
 * weights, subset sizes, seed and threads), and {@code task.dataset.val_ratio=0.0} unless the grid's overrides set
 * it; give the points equal compute with {@code cotrain.total_train_steps} (else a point's step count follows its
 * data size).
 *
 * <p>Errors name the file and the key ({@code grid.alpha[2]}, {@code data.sources.source.demos}).
 */
public record SweepGrid(Path file, String name, String config, List<String> overrides, DataSpec target,
                        Map<String, DataSpec> sources, List<Integer> realDemos, List<Integer> simDemos,
                        List<Alpha> alphas, Map<String, List<String>> methods, List<String> shifts, List<Long> seeds,
                        Eval eval, int reportRealDemos, int reportSimDemos) {

    /** The reserved method name of the target-only baseline. */
    public static final String REAL_ONLY = "real_only";

    /**
     * Config keys the sweep sets for each point; a method or the base overrides may not set them (they would be
     * overwritten or make points disagree with their labels).
     */
    public static final List<String> MANAGED_KEYS = List.of("task.dataset.path", "task.dataset.weights",
            "cotrain.dataset_max_train_episodes", "training.seed", "cotrain.threads");

    /** A mixing ratio of the grid: a number in [0, 1] or the natural ratio |D_R| / (|D_R| + |D_S|). */
    public record Alpha(Double value) {
        public static final Alpha NATURAL = new Alpha(null);

        public boolean natural() {
            return value == null;
        }

        /** The numeric alpha of a point with these data sizes. */
        public double at(int realDemos, int simDemos) {
            return natural() ? realDemos / (double) (realDemos + simDemos) : value;
        }

        /** "natural", or the number without trailing zeros ("0.25", "0.5", "1"). */
        public String label() {
            return natural() ? "natural" : format(value);
        }

        static String format(double v) {
            String s = String.format(Locale.ROOT, "%.6f", v).replaceAll("0+$", "");
            return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
        }
    }

    /**
     * Where a dataset comes from: an existing file ({@code path} set) or generated by an environment's expert
     * ({@code env}, {@code demos}, {@code seed}, {@code envOverrides}).
     */
    public record DataSpec(Path path, String env, int demos, long seed, List<String> envOverrides) {
        public boolean generated() {
            return path == null;
        }

        /** The environment of a generated dataset. */
        public EnvConfig envConfig() {
            return EnvPresets.get(env).withOverrides(envOverrides);
        }

        public String describe() {
            return generated() ? demos + " " + env + " demos (seed " + seed + (envOverrides.isEmpty() ? ""
                    : ", " + String.join(" ", envOverrides)) + ")" : path.toString();
        }
    }

    /** How each point is evaluated. */
    public record Eval(String env, int trials, long seed, Integer ddimSteps, int batch, List<String> envOverrides) {
        public EnvConfig envConfig() {
            return EnvPresets.get(env).withOverrides(envOverrides);
        }

        /** "ddim16", or "ddpm" (the checkpoint config's DDPM steps). */
        public String sampling() {
            return ddimSteps != null ? "ddim" + ddimSteps : "ddpm";
        }
    }

    // ---- reading --------------------------------------------------------------------------------------------------

    public static SweepGrid load(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the sweep grid " + file + ": " + e.getMessage(), e);
        }
        return parse(text, file);
    }

    /** Parses grid YAML; {@code file} names it in errors and is the base of relative paths. */
    public static SweepGrid parse(String text, Path file) {
        Object doc;
        try {
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false);
            doc = new Yaml(new SafeConstructor(options)).load(text);
        } catch (MarkedYAMLException e) {
            throw new IllegalArgumentException(file + ": not valid YAML: " + e.getProblem() + " at line "
                    + (e.getProblemMark() == null ? "?" : e.getProblemMark().getLine() + 1), e);
        } catch (YAMLException e) {
            throw new IllegalArgumentException(file + ": not valid YAML: " + e.getMessage(), e);
        }
        return new Reader(file).grid(doc);
    }

    /** The directory relative paths of this grid are resolved against. */
    public Path baseDir() {
        Path parent = file.toAbsolutePath().getParent();
        return parent != null ? parent : Path.of(".");
    }

    /** The base config of every point (preset or file), with the grid's overrides. */
    public Config baseConfig() {
        return Config.load(configSource(), overrides);
    }

    /** The config argument for {@link Config#load}: a file relative to the grid, else a preset name. */
    public String configSource() {
        Path p = baseDir().resolve(config);
        return Files.isRegularFile(p) ? p.toString() : config;
    }

    /** The source dataset of a shift. */
    public DataSpec source(String shift) {
        return sources.get(shift);
    }

    // ---- the parser -----------------------------------------------------------------------------------------------

    private static final class Reader {
        private final Path file;

        Reader(Path file) {
            this.file = file;
        }

        IllegalArgumentException error(String key, String message) {
            return new IllegalArgumentException(file + ": " + key + ": " + message);
        }

        SweepGrid grid(Object doc) {
            if (doc == null) throw new IllegalArgumentException(file + ": the grid file is empty");
            Map<String, Object> top = map(doc, "(top level)", Set.of("name", "config", "overrides", "data", "grid",
                    "eval", "report"));
            String name = top.containsKey("name") ? text(top.get("name"), "name")
                    : file.getFileName().toString().replaceFirst("\\.ya?ml$", "");
            if (!top.containsKey("config")) throw error("config", "missing: a config preset or file");
            String config = text(top.get("config"), "config");
            List<String> overrides = overrides(top.get("overrides"), "overrides", true);

            if (!top.containsKey("grid")) throw error("grid", "missing");
            Map<String, Object> g = map(top.get("grid"), "grid", Set.of("real_demos", "sim_demos", "alpha",
                    "methods", "shifts", "seeds"));
            List<Integer> real = counts(g.get("real_demos"), "grid.real_demos");
            List<Integer> sim = counts(g.get("sim_demos"), "grid.sim_demos");
            List<Alpha> alphas = alphas(g.get("alpha"));
            Map<String, List<String>> methods = methods(g.get("methods"));
            List<String> shifts = shifts(g.get("shifts"));
            List<Long> seeds = seeds(g.get("seeds"));

            int maxReal = real.stream().mapToInt(Integer::intValue).max().orElseThrow();
            int maxSim = sim.stream().mapToInt(Integer::intValue).max().orElseThrow();
            Map<String, Object> data = top.containsKey("data") ? map(top.get("data"), "data",
                    Set.of("target", "sources")) : Map.of();
            DataSpec target = data.containsKey("target") ? dataSpec(data.get("target"), "data.target", "target",
                    maxReal) : new DataSpec(null, "target", maxReal, 0, List.of());
            Map<String, DataSpec> sources = new LinkedHashMap<>();
            Map<String, Object> s = data.containsKey("sources") ? map(data.get("sources"), "data.sources", null)
                    : Map.of();
            for (Map.Entry<String, Object> e : s.entrySet()) {
                sources.put(e.getKey(), dataSpec(e.getValue(), "data.sources." + e.getKey(), e.getKey(), maxSim));
            }
            for (String shift : shifts) {
                if (!sources.containsKey(shift)) {
                    if (!EnvPresets.names().contains(shift)) {
                        throw error("grid.shifts", "'" + shift + "' has no entry in data.sources and is not an"
                                + " environment preset (" + String.join(", ", EnvPresets.names()) + ")");
                    }
                    sources.put(shift, new DataSpec(null, shift, maxSim, 0, List.of()));
                }
            }
            if (target.generated() && target.demos() < maxReal) {
                throw error("data.target.demos", target.demos() + " demos, but grid.real_demos asks for " + maxReal);
            }
            for (String shift : shifts) {
                DataSpec d = sources.get(shift);
                if (d.generated() && d.demos() < maxSim) {
                    throw error("data.sources." + shift + ".demos", d.demos() + " demos, but grid.sim_demos asks for "
                            + maxSim);
                }
            }

            Eval eval = eval(top.get("eval"));
            int reportReal = maxReal, reportSim = maxSim;
            if (top.containsKey("report")) {
                Map<String, Object> r = map(top.get("report"), "report", Set.of("real_demos", "sim_demos"));
                if (r.containsKey("real_demos")) {
                    reportReal = integer(r.get("real_demos"), "report.real_demos", 1);
                    if (!real.contains(reportReal)) {
                        throw error("report.real_demos", reportReal + " is not one of grid.real_demos " + real);
                    }
                }
                if (r.containsKey("sim_demos")) {
                    reportSim = integer(r.get("sim_demos"), "report.sim_demos", 1);
                    if (!sim.contains(reportSim)) {
                        throw error("report.sim_demos", reportSim + " is not one of grid.sim_demos " + sim);
                    }
                }
            }
            SweepGrid grid = new SweepGrid(file, name, config, overrides, target,
                    java.util.Collections.unmodifiableMap(sources), real, sim, alphas, methods, shifts, seeds, eval,
                    reportReal, reportSim);
            checkConfigs(grid);
            return grid;
        }

        /** Every method's config loads (unknown keys and bad values are reported with the method's name). */
        private void checkConfigs(SweepGrid grid) {
            try {
                Config.load(grid.configSource());
            } catch (IllegalArgumentException e) {
                throw error("config", e.getMessage());
            }
            try {
                grid.baseConfig();
            } catch (IllegalArgumentException e) {
                throw error("overrides", e.getMessage());
            }
            for (Map.Entry<String, List<String>> m : grid.methods().entrySet()) {
                try {
                    Config.load(grid.configSource(), grid.overrides()).withOverrides(m.getValue());
                } catch (IllegalArgumentException e) {
                    throw error("grid.methods." + m.getKey(), e.getMessage());
                }
            }
        }

        private Eval eval(Object node) {
            Map<String, Object> e = node == null ? Map.of() : map(node, "eval", Set.of("env", "trials", "seed",
                    "ddim_steps", "batch", "overrides"));
            String env = e.containsKey("env") ? text(e.get("env"), "eval.env") : "target";
            List<String> envOverrides = overrides(e.get("overrides"), "eval.overrides", false);
            try {
                EnvPresets.get(env).withOverrides(envOverrides);
            } catch (IllegalArgumentException ex) {
                throw error(e.containsKey("overrides") ? "eval.overrides" : "eval.env", ex.getMessage());
            }
            int trials = e.containsKey("trials") ? integer(e.get("trials"), "eval.trials", 1) : 100;
            long seed = e.containsKey("seed") ? longValue(e.get("seed"), "eval.seed") : 100_000L;
            Integer ddim = e.get("ddim_steps") == null ? null : integer(e.get("ddim_steps"), "eval.ddim_steps", 1);
            int batch = e.containsKey("batch") ? integer(e.get("batch"), "eval.batch", 1) : 50;
            return new Eval(env, trials, seed, ddim, batch, envOverrides);
        }

        private DataSpec dataSpec(Object node, String key, String defaultEnv, int defaultDemos) {
            if (node instanceof String path) {
                return new DataSpec(resolve(path), null, 0, 0, List.of());
            }
            Map<String, Object> m = map(node, key, Set.of("path", "env", "demos", "seed", "overrides"));
            if (m.containsKey("path")) {
                if (m.size() > 1) {
                    throw error(key, "either a path or {env, demos, seed, overrides} to generate it, not both");
                }
                return new DataSpec(resolve(text(m.get("path"), key + ".path")), null, 0, 0, List.of());
            }
            String env = m.containsKey("env") ? text(m.get("env"), key + ".env") : defaultEnv;
            List<String> envOverrides = overrides(m.get("overrides"), key + ".overrides", false);
            try {
                EnvPresets.get(env).withOverrides(envOverrides);
            } catch (IllegalArgumentException e) {
                throw error(m.containsKey("overrides") ? key + ".overrides" : key + ".env", e.getMessage());
            }
            int demos = m.containsKey("demos") ? integer(m.get("demos"), key + ".demos", 1) : defaultDemos;
            long seed = m.containsKey("seed") ? longValue(m.get("seed"), key + ".seed") : 0;
            return new DataSpec(null, env, demos, seed, envOverrides);
        }

        private Path resolve(String path) {
            Path p = Path.of(path);
            Path parent = file.toAbsolutePath().getParent();
            return p.isAbsolute() || parent == null ? p : parent.resolve(p).normalize();
        }

        private List<Integer> counts(Object node, String key) {
            if (node == null) throw error(key, "missing: a list of demo counts, e.g. [10, 50]");
            List<Object> list = list(node, key);
            if (list.isEmpty()) throw error(key, "empty; give at least one demo count");
            List<Integer> out = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                int n = integer(list.get(i), key + "[" + i + "]", 1);
                if (out.contains(n)) throw error(key + "[" + i + "]", n + " is listed twice");
                out.add(n);
            }
            return List.copyOf(out);
        }

        private List<Alpha> alphas(Object node) {
            if (node == null) return List.of(Alpha.NATURAL);
            List<Object> list = list(node, "grid.alpha");
            if (list.isEmpty()) throw error("grid.alpha", "empty; give numbers in [0, 1] and/or natural");
            List<Alpha> out = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                Object v = list.get(i);
                String key = "grid.alpha[" + i + "]";
                Alpha a;
                if ("natural".equals(v)) {
                    a = Alpha.NATURAL;
                } else if (v instanceof Number n && n.doubleValue() >= 0 && n.doubleValue() <= 1) {
                    a = new Alpha(n.doubleValue());
                } else {
                    throw error(key, "expected a number in [0, 1] or \"natural\", got " + describe(v));
                }
                if (out.contains(a)) throw error(key, a.label() + " is listed twice");
                out.add(a);
            }
            return List.copyOf(out);
        }

        private Map<String, List<String>> methods(Object node) {
            Map<String, List<String>> out = new LinkedHashMap<>();
            if (node == null) {
                out.put("vanilla", List.of());
                return out;
            }
            Map<String, Object> m = map(node, "grid.methods", null);
            if (m.isEmpty()) throw error("grid.methods", "empty; e.g. {vanilla: []}");
            for (Map.Entry<String, Object> e : m.entrySet()) {
                String key = "grid.methods." + e.getKey();
                checkName(e.getKey(), key);
                if (e.getKey().equals(REAL_ONLY)) {
                    throw error(key, REAL_ONLY + " is the baseline every grid gets; name the method otherwise");
                }
                List<String> o = overrides(e.getValue(), key, true);
                out.put(e.getKey(), o);
            }
            return java.util.Collections.unmodifiableMap(out);
        }

        private List<String> shifts(Object node) {
            if (node == null) return List.of("source");
            List<Object> list = list(node, "grid.shifts");
            if (list.isEmpty()) throw error("grid.shifts", "empty; e.g. [source]");
            Set<String> out = new LinkedHashSet<>();
            for (int i = 0; i < list.size(); i++) {
                String s = text(list.get(i), "grid.shifts[" + i + "]");
                checkName(s, "grid.shifts[" + i + "]");
                if (!out.add(s)) throw error("grid.shifts[" + i + "]", s + " is listed twice");
            }
            return List.copyOf(out);
        }

        private List<Long> seeds(Object node) {
            if (node == null) return List.of(0L);
            List<Object> list = list(node, "grid.seeds");
            if (list.isEmpty()) throw error("grid.seeds", "empty; e.g. [0, 1, 2]");
            List<Long> out = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                long s = longValue(list.get(i), "grid.seeds[" + i + "]");
                if (out.contains(s)) throw error("grid.seeds[" + i + "]", s + " is listed twice");
                out.add(s);
            }
            return List.copyOf(out);
        }

        /** A list of key=value strings (null: empty). Config overrides may not set the sweep's own keys. */
        private List<String> overrides(Object node, String key, boolean configKeys) {
            if (node == null) return List.of();
            List<Object> list = list(node, key);
            List<String> out = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                String o = text(list.get(i), key + "[" + i + "]");
                int eq = o.indexOf('=');
                if (eq <= 0) throw error(key + "[" + i + "]", "'" + o + "' is not key=value");
                String k = o.substring(0, eq).trim();
                if (configKeys && MANAGED_KEYS.contains(k)) {
                    throw error(key + "[" + i + "]", k + " is set by the sweep for each point (from data and"
                            + " grid); the sweep's own keys are " + String.join(", ", MANAGED_KEYS));
                }
                out.add(o);
            }
            return List.copyOf(out);
        }

        private void checkName(String s, String key) {
            if (!s.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
                throw error(key, "'" + s + "' must be letters, digits, '_', '.' or '-' (it names run directories)");
            }
        }

        @SuppressWarnings("unchecked")
        private Map<String, Object> map(Object node, String key, Set<String> known) {
            if (!(node instanceof Map<?, ?> m)) {
                throw error(key, "expected a mapping, got " + describe(node));
            }
            Map<String, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getKey() instanceof String k)) {
                    throw error(key, "key " + e.getKey() + " is not text; quote it");
                }
                if (known != null && !known.contains(k)) {
                    String where = key.equals("(top level)") ? k : key + "." + k;
                    throw error(where, "unknown key; known keys here: " + String.join(", ", known.stream().sorted()
                            .toList()));
                }
                out.put(k, e.getValue());
            }
            return out;
        }

        @SuppressWarnings("unchecked")
        private List<Object> list(Object node, String key) {
            if (!(node instanceof List<?> l)) {
                throw error(key, "expected a list, got " + describe(node));
            }
            return (List<Object>) l;
        }

        private String text(Object v, String key) {
            if (v instanceof String s && !s.isBlank()) return s;
            throw error(key, "expected text, got " + describe(v));
        }

        private int integer(Object v, String key, int min) {
            long n = longValue(v, key);
            if (n < min || n > Integer.MAX_VALUE) throw error(key, "expected a whole number >= " + min + ", got " + v);
            return (int) n;
        }

        private long longValue(Object v, String key) {
            if (v instanceof Integer || v instanceof Long) return ((Number) v).longValue();
            if (v instanceof java.math.BigInteger b && b.bitLength() < 64) return b.longValue();
            throw error(key, "expected a whole number, got " + describe(v));
        }

        private static String describe(Object v) {
            if (v == null) return "nothing (null)";
            if (v instanceof String s) return "\"" + s + "\"";
            if (v instanceof Map) return "a mapping";
            if (v instanceof List) return "a list";
            return v.toString();
        }
    }
}
