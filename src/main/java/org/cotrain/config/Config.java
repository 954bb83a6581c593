package org.cotrain.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A training config: YAML with Diffusion Policy's key names, loaded from a file or a shipped preset, then changed by
 * {@code key=value} overrides, with its interpolations resolved. Immutable; overriding makes a new Config.
 *
 * <pre>{@code
 * Config config = Config.load("small_cpu", List.of("policy.model.n_layer=4", "optimizer.betas=[0.9,0.99]"));
 * TrainConfig train = config.toTrainConfig();   // typed and range-checked
 * Files.writeString(runDir.resolve("config.yaml"), config.toYaml());
 * }</pre>
 *
 * The known keys are those of the preset {@value Presets#PUSHT_LOWDIM_TRANSFORMER} for low-dim configs and of
 * {@value Presets#PUSHT_IMAGE_TRANSFORMER} for image configs (those with task.shape_meta; see {@link Schema}): a file
 * must have all of them and no others, and an override must name one of them. Errors name the key, suggest the closest
 * known one, and say which file or override the value came from.
 */
public final class Config {
    private final String source;                // "preset small_cpu", "file /x/y.yaml"
    private final Map<String, Object> raw;      // dotted leaf key -> value as written (interpolations kept)
    private final Map<String, String> overridden; // dotted leaf key -> the (last) override that set it
    private final List<String> overrides;       // every override applied, in order
    private final Map<String, Object> resolved; // dotted leaf key -> value with interpolations resolved
    private final Schema schema;                // the known keys of this kind of config

    private Config(Schema schema, String source, Map<String, Object> raw, Map<String, String> overridden,
                   List<String> overrides) {
        this.schema = schema;
        this.source = source;
        this.raw = Collections.unmodifiableMap(raw);
        this.overridden = Collections.unmodifiableMap(overridden);
        this.overrides = List.copyOf(overrides);
        Interpolation interpolation = new Interpolation(raw, schema, this::origin);
        Map<String, Object> values = new LinkedHashMap<>();
        for (String key : raw.keySet()) {
            values.put(key, interpolation.resolve(key));
        }
        this.resolved = Collections.unmodifiableMap(values);
    }

    // ---- loading ----

    /** A config file if {@code fileOrPreset} names an existing file, else the preset of that name. */
    public static Config load(String fileOrPreset) {
        Path path = Path.of(fileOrPreset);
        if (Files.isRegularFile(path)) {
            return fromFile(path);
        }
        if (Presets.exists(fileOrPreset)) {
            return fromPreset(fileOrPreset);
        }
        throw new ConfigException("no config file or preset named '" + fileOrPreset + "'"
                + (Files.exists(path) ? " (it exists but is not a regular file)" : "") + "; presets: "
                + String.join(", ", Presets.NAMES));
    }

    /** {@link #load(String)}, then the overrides in order. */
    public static Config load(String fileOrPreset, List<String> overrides) {
        return load(fileOrPreset).withOverrides(overrides);
    }

    public static Config fromFile(Path path) {
        String text;
        try {
            text = Files.readString(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + path + ": " + e, e);
        }
        return fromYaml(text, "file " + path);
    }

    public static Config fromPreset(String name) {
        return fromYaml(Presets.text(name), "preset " + name);
    }

    /** A config from YAML text; {@code source} says where it came from in error messages. */
    public static Config fromYaml(String yaml, String source) {
        Map<String, Object> parsed = YamlTree.parse(yaml, source);
        Schema schema = Schema.forTree(parsed);
        Map<String, Object> tree = schema.withCotrainDefaults(parsed);
        schema.check(tree, source);
        return new Config(schema, source, YamlTree.flatten(tree), Map.of(), List.of());
    }

    // ---- overrides ----

    /** This config with the overrides applied in order; each is {@code dotted.key=value}, the value in YAML. */
    public Config withOverrides(List<String> overrides) {
        Map<String, Object> values = new LinkedHashMap<>(raw);
        Map<String, String> from = new LinkedHashMap<>(overridden);
        List<String> applied = new ArrayList<>(this.overrides);
        for (String override : overrides) {
            int eq = override.indexOf('=');
            if (eq < 0) {
                throw new ConfigException("override '" + override + "' is not key=value");
            }
            String key = override.substring(0, eq).trim();
            if (key.startsWith("+") || key.startsWith("~")) {
                throw new ConfigException("override '" + override + "': Hydra's +key (add) and ~key (delete) are"
                        + " not supported; the keys of a config are fixed");
            }
            if (schema.isSection(key)) {
                throw new ConfigException("override '" + override + "': " + key + " is a section; set its keys one"
                        + " by one (" + key + ".<key>=value)");
            }
            if (!schema.isLeaf(key)) {
                throw new ConfigException("override '" + override + "': " + schema.unknownKey(key));
            }
            values.put(key, YamlTree.parseValue(override.substring(eq + 1).trim(), "override '" + override + "'"));
            from.put(key, "override " + override);
            applied.add(override);
        }
        return new Config(schema, source, values, from, applied);
    }

    /** {@link #withOverrides(List)} with varargs. */
    public Config withOverrides(String... overrides) {
        return withOverrides(List.of(overrides));
    }

    // ---- access ----

    /** The resolved value of a key: Long, Double, Boolean, String, null, or a list of those. */
    public Object get(String key) {
        if (!resolved.containsKey(key)) {
            throw new ConfigException(schema.isSection(key) ? key + " is a section, not a single value"
                    : schema.unknownKey(key));
        }
        return readOnly(resolved.get(key));
    }

    /**
     * Low-dim or image: an image config has task.shape_meta (DP's hybrid image policy configs), and the keys of the
     * preset {@value Presets#PUSHT_IMAGE_TRANSFORMER}; a low-dim config those of {@value Presets#PUSHT_LOWDIM_TRANSFORMER}.
     */
    public PolicyKind kind() {
        return schema.kind();
    }

    /** Every key, dotted, in the schema's order. */
    public Set<String> keys() {
        return resolved.keySet();
    }

    /** The value of a key as written, before interpolation ("${horizon}"). */
    public Object rawValue(String key) {
        get(key);
        return readOnly(raw.get(key));
    }

    private static Object readOnly(Object value) {
        return value instanceof List<?> l ? Collections.unmodifiableList(new ArrayList<>(l)) : value;
    }

    /** Where a key's value came from: the override that set it, or the file or preset. */
    public String origin(String key) {
        String override = overridden.get(key);
        return override != null ? override : source;
    }

    /** "preset small_cpu" or "file /path/x.yaml". */
    public String source() {
        return source;
    }

    /** The overrides applied, in order, as key=value. */
    public List<String> overrides() {
        return overrides;
    }

    /** The typed, validated view the trainer reads. */
    public TrainConfig toTrainConfig() {
        return TrainConfig.from(this);
    }

    /**
     * The resolved config as YAML, to save in a run directory: every key with its final value (interpolations
     * replaced), with a header comment saying where it came from. Loading it gives an equal Config.
     */
    public String toYaml() {
        StringBuilder header = new StringBuilder();
        header.append("# cotrain config, resolved from ").append(source).append('\n');
        for (String override : overrides()) {
            header.append("#   override ").append(override).append('\n');
        }
        Map<String, Object> values = new LinkedHashMap<>();
        resolved.forEach((key, value) -> values.put(key, escapeInterpolation(value)));
        return header + YamlTree.dump(YamlTree.unflatten(values));
    }

    // A resolved text that still holds "${" (written "\${" originally) must not be interpolated when reloaded.
    private static Object escapeInterpolation(Object value) {
        if (value instanceof String s) {
            return s.replace("${", "\\${");
        }
        if (value instanceof List<?> list) {
            return list.stream().map(Config::escapeInterpolation).toList();
        }
        return value;
    }

    /** Equal when every key has the same resolved value, wherever the values came from. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Config other && resolved.equals(other.resolved);
    }

    @Override
    public int hashCode() {
        return Objects.hash(resolved);
    }

    @Override
    public String toString() {
        return "Config(" + source + (overrides.isEmpty() ? "" : ", overrides " + overrides) + ")";
    }
}
