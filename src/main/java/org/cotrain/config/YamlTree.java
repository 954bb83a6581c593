package org.cotrain.config;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.representer.Representer;

/**
 * YAML in and out, and the shape configs have in memory: nested {@code LinkedHashMap<String, Object>} sections
 * (file order kept) whose leaves are Long, Double, Boolean, String, null, or lists of those. Numbers are normalised
 * (every integer a Long, every float a Double) so that a value compares equal however it was written.
 */
final class YamlTree {
    private YamlTree() {}

    /** Parses a config document; {@code source} names it in errors ("file x.yaml", "preset small_cpu"). */
    static Map<String, Object> parse(String text, String source) {
        Object document;
        try {
            document = yaml().load(text);
        } catch (MarkedYAMLException e) {
            throw new ConfigException(source + ": not valid YAML: " + e.getProblem() + " at line "
                    + (e.getProblemMark() == null ? "?" : e.getProblemMark().getLine() + 1), e);
        } catch (YAMLException e) {
            throw new ConfigException(source + ": not valid YAML: " + e.getMessage(), e);
        }
        if (document == null) {
            throw new ConfigException(source + ": the config is empty");
        }
        if (!(document instanceof Map<?, ?> map)) {
            throw new ConfigException(source + ": a config is a mapping of keys to values, got "
                    + describeType(document));
        }
        return section(map, "", source);
    }

    /** Parses the value of a key=value override as a YAML scalar or flow list ("1e-4", "[0.9, 0.99]", "null"). */
    static Object parseValue(String text, String what) {
        if (text.isBlank()) {
            return "";   // "key=" sets the empty string, as in Hydra
        }
        Object value;
        try {
            value = yaml().load(text);
        } catch (YAMLException e) {
            throw new ConfigException(what + ": the value is not a YAML scalar or list: " + firstLine(e.getMessage()), e);
        }
        if (value instanceof Map) {
            throw new ConfigException(what + ": the value is a mapping; set the keys one by one (a.b=1 a.c=2)"
                    + " or quote it if it is text");
        }
        return normalise(value, what);
    }

    private static Map<String, Object> section(Map<?, ?> map, String prefix, String source) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String key)) {
                // YAML 1.1 reads unquoted yes/no/on/off/true and numbers as non-strings.
                throw new ConfigException(source + ": key " + prefix + e.getKey() + " is not text (a "
                        + describeType(e.getKey()) + "); quote it");
            }
            if (key.isEmpty() || key.contains(".")) {
                throw new ConfigException(source + ": key '" + prefix + key + "' is empty or contains a dot; nest"
                        + " sections instead");
            }
            String path = prefix + key;
            Object value = e.getValue();
            out.put(key, value instanceof Map<?, ?> child ? section(child, path + ".", source)
                    : normalise(value, source + ": " + path));
        }
        return out;
    }

    private static Object normalise(Object value, String what) {
        if (value == null || value instanceof String || value instanceof Boolean || value instanceof Long
                || value instanceof Double) {
            return value;
        }
        if (value instanceof Integer i) {
            return i.longValue();
        }
        if (value instanceof BigInteger b) {
            if (b.bitLength() >= 64) {
                throw new ConfigException(what + ": the integer " + b + " is too large");
            }
            return b.longValue();
        }
        if (value instanceof Float f) {
            return f.doubleValue();
        }
        if (value instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            for (Object element : list) {
                if (element instanceof Map || element instanceof List) {
                    throw new ConfigException(what + ": lists may hold only single values (numbers, text, booleans)");
                }
                out.add(normalise(element, what));
            }
            return out;
        }
        throw new ConfigException(what + ": unsupported value (a " + describeType(value) + "); quote it if it is text");
    }

    /** Dotted leaf key -> value, in file order ("policy.model.n_layer" -> 8). */
    static Map<String, Object> flatten(Map<String, Object> tree) {
        Map<String, Object> out = new LinkedHashMap<>();
        flatten(tree, "", out, null);
        return out;
    }

    /** Every dotted section key ("policy", "policy.model", ...). */
    static Set<String> sections(Map<String, Object> tree) {
        Set<String> out = new LinkedHashSet<>();
        flatten(tree, "", new LinkedHashMap<>(), out);
        return out;
    }

    @SuppressWarnings("unchecked")
    private static void flatten(Map<String, Object> tree, String prefix, Map<String, Object> leaves,
                                Set<String> sections) {
        for (Map.Entry<String, Object> e : tree.entrySet()) {
            String path = prefix + e.getKey();
            if (e.getValue() instanceof Map) {
                if (sections != null) {
                    sections.add(path);
                }
                flatten((Map<String, Object>) e.getValue(), path + ".", leaves, sections);
            } else {
                leaves.put(path, e.getValue());
            }
        }
    }

    /** The nested tree of dotted leaf keys -> values (the inverse of flatten). */
    @SuppressWarnings("unchecked")
    static Map<String, Object> unflatten(Map<String, Object> leaves) {
        Map<String, Object> root = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : leaves.entrySet()) {
            String[] parts = e.getKey().split("\\.");
            Map<String, Object> node = root;
            for (int i = 0; i < parts.length - 1; i++) {
                node = (Map<String, Object>) node.computeIfAbsent(parts[i], k -> new LinkedHashMap<String, Object>());
            }
            Object value = e.getValue();
            node.put(parts[parts.length - 1], value instanceof List<?> l ? new ArrayList<>(l) : value);
        }
        return root;
    }

    /** Block-style YAML of a tree; lists of values in flow style ([0.9, 0.95]) as DP writes them. */
    static String dump(Map<String, Object> tree) {
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setIndent(2);
        options.setWidth(120);
        Representer representer = new Representer(options) {
            {
                // Lists are flow style, maps block style.
                this.multiRepresenters.put(List.class, data -> representSequence(Tag.SEQ, (List<?>) data,
                        DumperOptions.FlowStyle.FLOW));
            }
        };
        return new Yaml(representer, options).dump(tree);
    }

    private static Yaml yaml() {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        return new Yaml(new SafeConstructor(options));
    }

    private static String describeType(Object value) {
        if (value instanceof List) {
            return "list";
        }
        if (value instanceof String) {
            return "text";
        }
        if (value instanceof Boolean) {
            return "boolean";
        }
        if (value instanceof Number) {
            return "number";
        }
        return value.getClass().getSimpleName();
    }

    private static String firstLine(String s) {
        int nl = s == null ? -1 : s.indexOf('\n');
        return nl < 0 ? String.valueOf(s) : s.substring(0, nl);
    }
}
