package org.cotrain.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * The expressions inside Diffusion Policy's {@code ${eval:'...'}} interpolations, e.g.
 * {@code ${action_dim} if ${obs_as_cond} else ${obs_dim} + ${action_dim}} or {@code ${n_obs_steps}-1}. DP hands
 * them to Python's eval; this is the small Python subset its configs use, with Python's semantics:
 *
 * <pre>
 *   conditional := or ['if' or 'else' conditional]
 *   or          := and ('or' and)*              (returns an operand, as Python)
 *   and         := not ('and' not)*
 *   not         := 'not' not | comparison
 *   comparison  := sum [('==' | '!=' | '<' | '<=' | '>' | '>=') sum]
 *   sum         := product (('+' | '-') product)*
 *   product     := unary (('*' | '/' | '//' | '%') unary)*
 *   unary       := ('-' | '+') unary | atom
 *   atom        := integer | float | 'string' | "string" | True | False | None | ${key} | '(' conditional ')'
 * </pre>
 *
 * Values are Long, Double, Boolean, String or null. int op int stays an int except for '/', which gives a float;
 * '//' and '%' floor, as in Python. Anything else (calls, lists, attribute access) is an error naming the
 * expression.
 */
final class EvalExpression {
    private final String text;
    private final List<Token> tokens;
    private final Function<String, Object> lookup;
    private int pos;

    private enum Kind { NUMBER, STRING, NAME, REF, OP, END }

    private record Token(Kind kind, String text, int at) {}

    private EvalExpression(String text, Function<String, Object> lookup) {
        this.text = text;
        this.lookup = lookup;
        this.tokens = tokenize(text);
    }

    /**
     * Evaluates an expression.
     *
     * @param lookup resolves the text inside each {@code ${...}} of the expression to its value
     */
    static Object evaluate(String expression, Function<String, Object> lookup) {
        EvalExpression e = new EvalExpression(expression, lookup);
        Object value = e.conditional();
        if (e.peek().kind != Kind.END) {
            throw e.error("unexpected '" + e.peek().text + "'");
        }
        return value;
    }

    // ---- parser: one method per grammar rule ----

    private Object conditional() {
        Object value = or();
        if (acceptName("if")) {
            Object condition = or();
            if (!acceptName("else")) {
                throw error("'if' without 'else'");
            }
            Object otherwise = conditional();
            return truthy(condition) ? value : otherwise;
        }
        return value;
    }

    private Object or() {
        Object value = and();
        while (acceptName("or")) {
            Object right = and();
            value = truthy(value) ? value : right;
        }
        return value;
    }

    private Object and() {
        Object value = not();
        while (acceptName("and")) {
            Object right = not();
            value = truthy(value) ? right : value;
        }
        return value;
    }

    private Object not() {
        if (acceptName("not")) {
            return !truthy(not());
        }
        return comparison();
    }

    private Object comparison() {
        Object left = sum();
        Token t = peek();
        if (t.kind == Kind.OP && List.of("==", "!=", "<", "<=", ">", ">=").contains(t.text)) {
            pos++;
            Object right = sum();
            switch (t.text) {
                case "==":
                    return same(left, right);
                case "!=":
                    return !same(left, right);
                default:
                    int c = compare(left, right, t.text);
                    switch (t.text) {
                        case "<": return c < 0;
                        case "<=": return c <= 0;
                        case ">": return c > 0;
                        default: return c >= 0;
                    }
            }
        }
        return left;
    }

    private Object sum() {
        Object value = product();
        while (peek().kind == Kind.OP && (peek().text.equals("+") || peek().text.equals("-"))) {
            String op = tokens.get(pos++).text;
            value = arithmetic(op, value, product());
        }
        return value;
    }

    private Object product() {
        Object value = unary();
        while (peek().kind == Kind.OP && List.of("*", "/", "//", "%").contains(peek().text)) {
            String op = tokens.get(pos++).text;
            value = arithmetic(op, value, unary());
        }
        return value;
    }

    private Object unary() {
        Token t = peek();
        if (t.kind == Kind.OP && (t.text.equals("-") || t.text.equals("+"))) {
            pos++;
            Object value = unary();
            if (!isNumber(value)) {
                throw error("unary '" + t.text + "' needs a number, got " + describe(value));
            }
            if (t.text.equals("+")) {
                return value;
            }
            return value instanceof Long l ? (Object) (-l) : (Object) (-(Double) value);
        }
        return atom();
    }

    private Object atom() {
        Token t = tokens.get(pos++);
        switch (t.kind) {
            case NUMBER:
                return t.text.contains(".") || t.text.contains("e") || t.text.contains("E")
                        ? (Object) Double.parseDouble(t.text) : (Object) Long.parseLong(t.text);
            case STRING:
                return t.text;
            case REF:
                return lookup.apply(t.text);
            case NAME:
                switch (t.text) {
                    case "True": return Boolean.TRUE;
                    case "False": return Boolean.FALSE;
                    case "None": return null;
                    default: throw error("unknown name '" + t.text + "' (only True, False, None and ${key} are values)");
                }
            case OP:
                if (t.text.equals("(")) {
                    Object value = conditional();
                    Token close = tokens.get(pos++);
                    if (!close.text.equals(")")) {
                        throw error("missing ')'");
                    }
                    return value;
                }
                throw error("unexpected '" + t.text + "'");
            default:
                throw error("unexpected end");
        }
    }

    // ---- Python semantics ----

    private Object arithmetic(String op, Object a, Object b) {
        if (op.equals("+") && a instanceof String sa && b instanceof String sb) {
            return sa + sb;
        }
        if (!isNumber(a) || !isNumber(b)) {
            throw error("'" + op + "' needs two numbers, got " + describe(a) + " and " + describe(b));
        }
        if (a instanceof Long x && b instanceof Long y && !op.equals("/")) {
            switch (op) {
                case "+": return Math.addExact(x, y);
                case "-": return Math.subtractExact(x, y);
                case "*": return Math.multiplyExact(x, y);
                case "//": return Math.floorDiv(x, nonZero(y));
                default: return Math.floorMod(x, nonZero(y));
            }
        }
        double x = ((Number) a).doubleValue();
        double y = ((Number) b).doubleValue();
        switch (op) {
            case "+": return x + y;
            case "-": return x - y;
            case "*": return x * y;
            case "/": return x / nonZero(y);
            case "//": return Math.floor(x / nonZero(y));
            default: return x - nonZero(y) * Math.floor(x / y);
        }
    }

    private long nonZero(long v) {
        if (v == 0) {
            throw error("division by zero");
        }
        return v;
    }

    private double nonZero(double v) {
        if (v == 0) {
            throw error("division by zero");
        }
        return v;
    }

    private static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof Double;
    }

    private static boolean truthy(Object v) {
        if (v == null) {
            return false;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof Long l) {
            return l != 0;
        }
        if (v instanceof Double d) {
            return d != 0;
        }
        return !v.toString().isEmpty();
    }

    private static boolean same(Object a, Object b) {
        if (isNumber(a) && isNumber(b)) {
            return ((Number) a).doubleValue() == ((Number) b).doubleValue();
        }
        return Objects.equals(a, b);
    }

    private int compare(Object a, Object b, String op) {
        if (isNumber(a) && isNumber(b)) {
            return Double.compare(((Number) a).doubleValue(), ((Number) b).doubleValue());
        }
        if (a instanceof String sa && b instanceof String sb) {
            return sa.compareTo(sb);
        }
        throw error("'" + op + "' cannot compare " + describe(a) + " and " + describe(b));
    }

    private static String describe(Object v) {
        if (v == null) {
            return "None";
        }
        if (v instanceof String) {
            return "'" + v + "'";
        }
        if (v instanceof Boolean b) {
            return b ? "True" : "False";
        }
        return v.toString();
    }

    // ---- tokens ----

    private Token peek() {
        return tokens.get(pos);
    }

    private boolean acceptName(String name) {
        if (peek().kind == Kind.NAME && peek().text.equals(name)) {
            pos++;
            return true;
        }
        return false;
    }

    private ConfigException error(String what) {
        int at = pos < tokens.size() ? tokens.get(Math.min(pos, tokens.size() - 1)).at : text.length();
        return new ConfigException("eval '" + text + "': " + what + " (at character " + at + ")");
    }

    private List<Token> tokenize(String s) {
        List<Token> out = new ArrayList<>();
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (s.startsWith("${", i)) {
                int end = Interpolation.matchingBrace(s, i);
                if (end < 0) {
                    throw new ConfigException("eval '" + s + "': '${' without its '}' (at character " + i + ")");
                }
                out.add(new Token(Kind.REF, s.substring(i + 2, end), i));
                i = end + 1;
            } else if (Character.isDigit(c) || (c == '.' && i + 1 < s.length() && Character.isDigit(s.charAt(i + 1)))) {
                int j = i;
                while (j < s.length() && (Character.isDigit(s.charAt(j)) || s.charAt(j) == '.')) {
                    j++;
                }
                if (j < s.length() && (s.charAt(j) == 'e' || s.charAt(j) == 'E')) {
                    j++;
                    if (j < s.length() && (s.charAt(j) == '+' || s.charAt(j) == '-')) {
                        j++;
                    }
                    while (j < s.length() && Character.isDigit(s.charAt(j))) {
                        j++;
                    }
                }
                String number = s.substring(i, j);
                try {
                    Double.parseDouble(number);
                } catch (NumberFormatException e) {
                    throw new ConfigException("eval '" + s + "': bad number '" + number + "' (at character " + i + ")");
                }
                out.add(new Token(Kind.NUMBER, number, i));
                i = j;
            } else if (c == '\'' || c == '"') {
                int end = s.indexOf(c, i + 1);
                if (end < 0) {
                    throw new ConfigException("eval '" + s + "': unterminated string (at character " + i + ")");
                }
                out.add(new Token(Kind.STRING, s.substring(i + 1, end), i));
                i = end + 1;
            } else if (Character.isLetter(c) || c == '_') {
                int j = i;
                while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) {
                    j++;
                }
                out.add(new Token(Kind.NAME, s.substring(i, j), i));
                i = j;
            } else {
                String two = i + 1 < s.length() ? s.substring(i, i + 2) : "";
                if (List.of("//", "==", "!=", "<=", ">=").contains(two)) {
                    out.add(new Token(Kind.OP, two, i));
                    i += 2;
                } else if ("+-*/%()<>".indexOf(c) >= 0) {
                    out.add(new Token(Kind.OP, String.valueOf(c), i));
                    i++;
                } else {
                    throw new ConfigException("eval '" + s + "': unsupported character '" + c + "' (at character "
                            + i + ")");
                }
            }
        }
        out.add(new Token(Kind.END, "", s.length()));
        return out;
    }
}
