package org.cotrain.sim;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.cotrain.config.KeySuggestion;
import org.cotrain.io.Json;

/**
 * The configuration of one pushing environment: a flat, ordered map of dotted keys (shape, goal.*, physics.*,
 * reset.*, success.*, render.*, expert) with typed values, made by {@link EnvPresets} and changed by
 * {@code key=value} overrides. Immutable. It is written as JSON into every generated dataset and evaluation result,
 * so a file says exactly which environment produced it.
 *
 * <p>Values are numbers ({@link Double}), strings, or RGB colours ({@code int[3]}); an override must name a known key
 * and give a value of that key's type, else the error names the key (with the closest known one) or the value.
 */
public final class EnvConfig {

    private final String name;
    private final Map<String, Object> values;

    EnvConfig(String name, Map<String, Object> values) {
        this.name = name;
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
        validate();
    }

    /** The preset (or file) this config came from, with overrides noted. */
    public String name() {
        return name;
    }

    public Map<String, Object> values() {
        return values;
    }

    // ---- typed views ------------------------------------------------------------------------------------------------

    public BlockShape shape() {
        return BlockShape.named(string("shape"));
    }

    public Pose goal() {
        return new Pose(number("goal.x"), number("goal.y"), Math.toRadians(number("goal.theta_deg")));
    }

    public PhysicsParams physics() {
        return new PhysicsParams(string("physics.model"), number("physics.pusher_radius"), number("physics.block_mass"),
                number("physics.com_offset"), number("physics.pusher_friction"), number("physics.table_friction"),
                number("physics.gravity"), number("physics.kp"), number("physics.kv"), integer("physics.physics_hz"),
                integer("physics.control_hz"), integer("physics.solver_iterations"));
    }

    /** Episode length in commands. */
    public int maxSteps() {
        return integer("max_steps");
    }

    /** The scripted expert that demonstrates in this environment: target or source. */
    public String expert() {
        return string("expert");
    }

    public double number(String key) {
        return ((Number) get(key)).doubleValue();
    }

    public int integer(String key) {
        double v = number(key);
        if (v != Math.rint(v)) throw new IllegalArgumentException("env key " + key + " must be an integer, got " + v);
        return (int) v;
    }

    public String string(String key) {
        return (String) get(key);
    }

    public int[] color(String key) {
        return ((int[]) get(key)).clone();
    }

    private Object get(String key) {
        Object v = values.get(key);
        if (v == null) throw new IllegalArgumentException(unknownKey(key));
        return v;
    }

    // ---- overrides --------------------------------------------------------------------------------------------------

    /** This config with {@code key=value} overrides applied in order. */
    public EnvConfig withOverrides(List<String> overrides) {
        if (overrides.isEmpty()) return this;
        Map<String, Object> v = new LinkedHashMap<>(values);
        for (String override : overrides) {
            int eq = override.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("env override '" + override + "' is not key=value");
            String key = override.substring(0, eq).trim();
            String text = override.substring(eq + 1).trim();
            Object old = values.get(key);
            if (old == null) throw new IllegalArgumentException("env override '" + override + "': " + unknownKey(key));
            v.put(key, parseLike(old, text, "env override '" + override + "'"));
        }
        return new EnvConfig(name + " " + String.join(" ", overrides), v);
    }

    /** This config with one key set (keys must exist). */
    EnvConfig with(String key, Object value) {
        if (!values.containsKey(key)) throw new IllegalArgumentException(unknownKey(key));
        Map<String, Object> v = new LinkedHashMap<>(values);
        v.put(key, value instanceof Integer i ? Double.valueOf(i) : value);
        return new EnvConfig(name, v);
    }

    EnvConfig named(String newName) {
        return new EnvConfig(newName, values);
    }

    private String unknownKey(String key) {
        return "unknown env key " + key + "; did you mean " + KeySuggestion.closest(key, values.keySet()) + "?";
    }

    private static Object parseLike(Object old, String text, String where) {
        if (old instanceof Double) {
            try {
                double d = Double.parseDouble(text);
                if (!Double.isFinite(d)) throw new NumberFormatException();
                return d;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(where + ": expected a finite number, got '" + text + "'");
            }
        }
        if (old instanceof int[]) {
            String body = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
            String[] parts = body.split(",");
            if (parts.length != 3) throw new IllegalArgumentException(where + ": expected an RGB colour [r,g,b]");
            int[] rgb = new int[3];
            for (int i = 0; i < 3; i++) {
                try {
                    rgb[i] = Integer.parseInt(parts[i].trim());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(where + ": colour component '" + parts[i].trim()
                            + "' is not an integer");
                }
            }
            return rgb;
        }
        return text;
    }

    // ---- checks -----------------------------------------------------------------------------------------------------

    private void validate() {
        shape();
        physics();
        if (maxSteps() <= 0) throw new IllegalArgumentException("env key max_steps must be > 0");
        String criterion = string("success.criterion");
        if (!criterion.equals("coverage") && !criterion.equals("pose")) {
            throw new IllegalArgumentException("env key success.criterion '" + criterion + "': coverage or pose");
        }
        double threshold = number("success.coverage");
        if (!(threshold > 0 && threshold <= 1)) {
            throw new IllegalArgumentException("env key success.coverage must be in (0, 1], got " + threshold);
        }
        String expert = expert();
        if (!expert.equals("target") && !expert.equals("source")) {
            throw new IllegalArgumentException("env key expert '" + expert + "': target or source");
        }
        double lo = number("reset.block_min"), hi = number("reset.block_max");
        if (!(lo < hi) || lo < 0 || hi > 512) {
            throw new IllegalArgumentException("env keys reset.block_min/max must satisfy 0 <= min < max <= 512");
        }
        double angleRange = number("reset.angle_range_deg");
        if (!(angleRange > 0 && angleRange <= 180)) {
            throw new IllegalArgumentException("env key reset.angle_range_deg must be in (0, 180], got " + angleRange);
        }
        lo = number("reset.agent_min");
        hi = number("reset.agent_max");
        if (!(lo < hi) || lo < 0 || hi > 512) {
            throw new IllegalArgumentException("env keys reset.agent_min/max must satisfy 0 <= min < max <= 512");
        }
        for (Map.Entry<String, Object> e : values.entrySet()) {
            if (e.getValue() instanceof int[] rgb) {
                for (int c : rgb) {
                    if (c < 0 || c > 255) {
                        throw new IllegalArgumentException("env key " + e.getKey() + ": colour components are 0..255");
                    }
                }
            }
        }
    }

    // ---- JSON -------------------------------------------------------------------------------------------------------

    /**
     * Robomimic's env_args shape: {"env_name": name, "type": "cotrain_push", "env_kwargs": {key: value, ...}}, keys
     * in order.
     */
    public String toJson() {
        StringBuilder sb = new StringBuilder("{\"env_name\": ").append(Json.quote(name))
                .append(", \"type\": \"cotrain_push\", \"env_kwargs\": {");
        boolean first = true;
        for (Map.Entry<String, Object> e : values.entrySet()) {
            if (!first) sb.append(", ");
            first = false;
            sb.append(Json.quote(e.getKey())).append(": ");
            Object v = e.getValue();
            if (v instanceof Double d) {
                sb.append(d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString(d.longValue()) : Double.toString(d));
            } else if (v instanceof int[] rgb) {
                sb.append('[').append(rgb[0]).append(", ").append(rgb[1]).append(", ").append(rgb[2]).append(']');
            } else {
                sb.append(Json.quote((String) v));
            }
        }
        return sb.append("}}").toString();
    }

    /** The config written by {@link #toJson()}; keys unknown to this version are errors. */
    @SuppressWarnings("unchecked")
    public static EnvConfig fromJson(String json, String source) {
        Object parsed;
        try {
            parsed = Json.parse(json);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": environment config is not valid JSON: " + e.getMessage());
        }
        if (!(parsed instanceof Map<?, ?> root) || !(root.get("env_kwargs") instanceof Map<?, ?> config)) {
            throw new IllegalArgumentException(source + ": environment config JSON lacks an \"env_kwargs\" object");
        }
        EnvConfig base = EnvPresets.get("target");
        Map<String, Object> v = new LinkedHashMap<>(base.values);
        for (Map.Entry<String, Object> e : ((Map<String, Object>) config).entrySet()) {
            Object old = base.values.get(e.getKey());
            if (old == null) throw new IllegalArgumentException(source + ": " + base.unknownKey(e.getKey()));
            Object value = e.getValue();
            if (old instanceof int[] && value instanceof List<?> list) {
                List<String> parts = new ArrayList<>();
                for (Object o : list) parts.add(String.valueOf(o));
                v.put(e.getKey(), parseLike(old, String.join(",", parts), source + " key " + e.getKey()));
            } else {
                v.put(e.getKey(), parseLike(old, String.valueOf(value), source + " key " + e.getKey()));
            }
        }
        Object n = root.get("env_name");
        return new EnvConfig(n == null ? source : n.toString(), v);
    }

    @Override
    public String toString() {
        return toJson();
    }
}
