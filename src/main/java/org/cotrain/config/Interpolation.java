package org.cotrain.config;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Resolves the OmegaConf interpolations of Diffusion Policy configs, in the subset DP's files use:
 * <ul>
 *   <li>{@code ${a.b}}: the value of the key a.b (absolute path). A value that is exactly one interpolation takes
 *       the referenced value with its type ({@code horizon: ${n}} stays an integer); inside other text it is
 *       pasted as text ({@code "${name}_${task_name}"}).</li>
 *   <li>{@code ${eval:'expression'}}: DP's resolver for Python expressions; see {@link EvalExpression}.</li>
 *   <li>A backslash before "${" makes it literal text.</li>
 * </ul>
 * Relative paths ({@code ${.x}}) and other resolvers ({@code ${now:...}}, {@code ${oc.env:...}}) are errors.
 * Each key is resolved once (memoised); a cycle is an error that shows the chain.
 */
final class Interpolation {
    private static final Pattern KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*");
    private static final Pattern RESOLVER = Pattern.compile("([A-Za-z_][A-Za-z0-9_.]*):(.*)", Pattern.DOTALL);

    private final Map<String, Object> raw;            // dotted leaf key -> value as written
    private final Schema schema;
    private final Function<String, String> origin;    // dotted key -> where its value came from, for messages
    private final Map<String, Object> resolved = new HashMap<>();
    private final Deque<String> resolving = new ArrayDeque<>();

    Interpolation(Map<String, Object> raw, Schema schema, Function<String, String> origin) {
        this.raw = raw;
        this.schema = schema;
        this.origin = origin;
    }

    /** The resolved value of a leaf key. */
    Object resolve(String key) {
        if (resolved.containsKey(key)) {
            return resolved.get(key);
        }
        if (resolving.contains(key)) {
            List<String> chain = new ArrayList<>();
            resolving.descendingIterator().forEachRemaining(chain::add);
            chain = chain.subList(chain.indexOf(key), chain.size());
            throw new ConfigException("interpolation cycle: " + String.join(" -> ", chain) + " -> " + key);
        }
        resolving.push(key);
        try {
            Object value = resolveValue(key, raw.get(key));
            resolved.put(key, value);
            return value;
        } finally {
            resolving.pop();
        }
    }

    private Object resolveValue(String key, Object value) {
        if (value instanceof String s) {
            return resolveString(key, s);
        }
        if (value instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            for (Object element : list) {
                Object resolvedElement = element instanceof String s ? resolveString(key, s) : element;
                if (resolvedElement instanceof List) {
                    throw error(key, "an element of the list is itself a list (" + element + ")");
                }
                out.add(resolvedElement);
            }
            return out;
        }
        return value;
    }

    private Object resolveString(String key, String s) {
        if (!s.contains("${")) {
            return s;
        }
        if (s.startsWith("${") && matchingBrace(s, 0) == s.length() - 1) {
            return resolveInner(key, s.substring(2, s.length() - 1));    // one interpolation: keep the type
        }
        StringBuilder text = new StringBuilder();
        int i = 0;
        while (i < s.length()) {
            if (s.startsWith("\\${", i)) {
                text.append("${");
                i += 3;
            } else if (s.startsWith("${", i)) {
                int end = matchingBrace(s, i);
                if (end < 0) {
                    throw error(key, "'${' without its '}' in \"" + s + "\"");
                }
                Object value = resolveInner(key, s.substring(i + 2, end));
                if (value instanceof List) {
                    throw error(key, "\"" + s + "\" pastes a list into text");
                }
                text.append(asText(value));
                i = end + 1;
            } else {
                text.append(s.charAt(i));
                i++;
            }
        }
        return text.toString();
    }

    /** The value of the text inside one ${...}: a key or a resolver call. */
    private Object resolveInner(String key, String inner) {
        String trimmed = inner.trim();
        var call = RESOLVER.matcher(trimmed);
        if (call.matches()) {
            String resolver = call.group(1);
            if (!resolver.equals("eval")) {
                throw error(key, "${" + inner + "} uses the resolver '" + resolver + "'; only eval is supported");
            }
            String expression = call.group(2).trim();
            if (expression.length() >= 2 && (expression.charAt(0) == '\'' || expression.charAt(0) == '"')
                    && expression.charAt(expression.length() - 1) == expression.charAt(0)) {
                expression = expression.substring(1, expression.length() - 1);
            }
            try {
                return EvalExpression.evaluate(expression, ref -> resolveInner(key, ref));
            } catch (ArithmeticException e) {
                throw error(key, "eval '" + expression + "': " + e.getMessage());
            } catch (ConfigException e) {
                if (e.getMessage().startsWith("eval '")) { // from the expression itself, not from a ${key} in it
                    throw error(key, e.getMessage());
                }
                throw e;
            }
        }
        if (trimmed.startsWith(".")) {
            throw error(key, "${" + inner + "} is a relative interpolation; write the full key");
        }
        if (!KEY.matcher(trimmed).matches()) {
            throw error(key, "${" + inner + "} is not a key");
        }
        if (schema.isSection(trimmed)) {
            throw error(key, "${" + trimmed + "} refers to a section; interpolations take single values");
        }
        if (!raw.containsKey(trimmed)) {
            throw error(key, "${" + trimmed + "} refers to an unknown key; " + schema.suggestion(trimmed));
        }
        return resolve(trimmed);
    }

    private ConfigException error(String key, String what) {
        return new ConfigException(key + ": " + what + " (" + origin.apply(key) + ")");
    }

    /** The index of the '}' closing the "${" at start, counting nested "${"; -1 if there is none. */
    static int matchingBrace(String s, int start) {
        int depth = 0;
        for (int i = start; i < s.length(); i++) {
            if (s.startsWith("${", i)) {
                depth++;
                i++;
            } else if (s.charAt(i) == '}') {
                depth--;
                if (depth == 0) {
                    return i;
                }
            }
        }
        return -1;
    }

    /** How a value reads when pasted into text, as OmegaConf writes it (Python's str). */
    private static String asText(Object value) {
        if (value == null) {
            return "None";
        }
        if (value instanceof Boolean b) {
            return b ? "True" : "False";
        }
        return value.toString();
    }
}
