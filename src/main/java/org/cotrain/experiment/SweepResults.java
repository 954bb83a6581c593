package org.cotrain.experiment;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import org.cotrain.io.AtomicFiles;
import org.cotrain.io.Json;
import org.cotrain.sim.Wilson;

/**
 * The table of a sweep: one row per finished point (read back from each point's {@code result.json}), a summary over
 * seeds (pooled trials), and the files made from them: {@code results.csv}, {@code summary.csv},
 * {@code results.json} and {@code methods.md} (methods compared at one data size).
 */
public final class SweepResults {

    /** One finished point. {@code shift} is null and {@code simDemos} 0 for real_only. */
    public record Row(String id, int realDemos, int simDemos, double alpha, String alphaLabel, String method,
                      String shift, long seed, int successes, int trials, double meanMaxCoverage,
                      double trainSeconds, double evalSeconds, String sampling) {

        public double successRate() {
            return successes / (double) trials;
        }

        public double[] wilson95() {
            return Wilson.interval95(successes, trials);
        }

        public boolean isRealOnly() {
            return method.equals(SweepGrid.REAL_ONLY);
        }
    }

    /**
     * The rows of one (|D_R|, |D_S|, alpha, method, shift) over its seeds: the mean of the seeds' success rates and
     * the Wilson 95% interval of the pooled trials (all seeds' episodes together).
     */
    public record Summary(int realDemos, int simDemos, double alpha, String alphaLabel, String method, String shift,
                          int seeds, int successes, int trials, double meanSuccessRate, double meanMaxCoverage) {

        public double[] wilson95() {
            return Wilson.interval95(successes, trials);
        }

        public boolean isRealOnly() {
            return method.equals(SweepGrid.REAL_ONLY);
        }

        /** "0.420 [0.330, 0.515]" */
        public String cell() {
            double[] w = wilson95();
            return String.format(Locale.ROOT, "%.3f [%.3f, %.3f]", meanSuccessRate, w[0], w[1]);
        }
    }

    private final List<Row> rows;
    private final List<Summary> summary;

    public SweepResults(List<Row> rows) {
        this.rows = List.copyOf(rows);
        this.summary = summarise(this.rows);
    }

    public List<Row> rows() {
        return rows;
    }

    public List<Summary> summary() {
        return summary;
    }

    /** The rows of the grid's points that have a result.json under {@code pointsDir}, in the grid's order. */
    public static SweepResults read(Path pointsDir, List<SweepPoint> points) throws IOException {
        List<Row> rows = new ArrayList<>();
        for (SweepPoint p : points) {
            Path f = pointsDir.resolve(p.id()).resolve(SweepRunner.RESULT);
            if (Files.isRegularFile(f)) rows.add(readRow(f));
        }
        return new SweepResults(rows);
    }

    /** One point's row from its result.json. */
    @SuppressWarnings("unchecked")
    public static Row readRow(Path resultJson) throws IOException {
        Map<String, Object> top;
        try {
            top = (Map<String, Object>) Json.parse(Files.readString(resultJson, StandardCharsets.UTF_8));
            Map<String, Object> p = (Map<String, Object>) top.get("point");
            Map<String, Object> r = (Map<String, Object>) top.get("result");
            Map<String, Object> e = (Map<String, Object>) top.get("eval");
            return new Row((String) p.get("id"), intOf(p.get("real_demos")), intOf(p.get("sim_demos")),
                    num(p.get("alpha")), (String) p.get("alpha_label"), (String) p.get("method"),
                    (String) p.get("shift"), ((Number) p.get("seed")).longValue(), intOf(r.get("successes")),
                    intOf(r.get("trials")), num(r.get("mean_max_coverage")), num(top.get("train_seconds")),
                    num(top.get("eval_seconds")), (String) e.get("sampling"));
        } catch (RuntimeException bad) {
            throw new IOException(resultJson + " is not a sweep point result (" + bad.getMessage() + "); delete it to"
                    + " run the point again", bad);
        }
    }

    private static int intOf(Object o) {
        return ((Number) Objects.requireNonNull(o, "missing number")).intValue();
    }

    private static double num(Object o) {
        return ((Number) Objects.requireNonNull(o, "missing number")).doubleValue();
    }

    private static List<Summary> summarise(List<Row> rows) {
        Map<String, List<Row>> groups = new LinkedHashMap<>();
        for (Row r : rows) {
            String key = r.realDemos() + "|" + r.simDemos() + "|" + r.alphaLabel() + "|" + r.method() + "|" + r.shift();
            groups.computeIfAbsent(key, k -> new ArrayList<>()).add(r);
        }
        List<Summary> out = new ArrayList<>();
        for (List<Row> g : groups.values()) {
            Row f = g.get(0);
            int successes = g.stream().mapToInt(Row::successes).sum();
            int trials = g.stream().mapToInt(Row::trials).sum();
            double mean = g.stream().mapToDouble(Row::successRate).average().orElse(Double.NaN);
            double coverage = g.stream().mapToDouble(Row::meanMaxCoverage).average().orElse(Double.NaN);
            out.add(new Summary(f.realDemos(), f.simDemos(), f.alpha(), f.alphaLabel(), f.method(), f.shift(),
                    g.size(), successes, trials, mean, coverage));
        }
        return List.copyOf(out);
    }

    // ---- files ----------------------------------------------------------------------------------------------------

    static final String CSV_HEADER = "id,real_demos,sim_demos,alpha,alpha_label,method,shift,seed,successes,trials,"
            + "success_rate,wilson_low,wilson_high,mean_max_coverage,train_seconds,eval_seconds,sampling";
    static final String SUMMARY_HEADER = "real_demos,sim_demos,alpha,alpha_label,method,shift,seeds,successes,"
            + "trials,mean_success_rate,wilson_low,wilson_high,mean_max_coverage";

    public String csv() {
        StringBuilder sb = new StringBuilder(CSV_HEADER).append('\n');
        for (Row r : rows) {
            double[] w = r.wilson95();
            sb.append(String.format(Locale.ROOT, "%s,%d,%d,%.6f,%s,%s,%s,%d,%d,%d,%.4f,%.4f,%.4f,%.4f,%.1f,%.1f,%s%n",
                    r.id(), r.realDemos(), r.simDemos(), r.alpha(), r.alphaLabel(), r.method(),
                    r.shift() == null ? "" : r.shift(), r.seed(), r.successes(), r.trials(), r.successRate(), w[0],
                    w[1], r.meanMaxCoverage(), r.trainSeconds(), r.evalSeconds(), r.sampling()));
        }
        return sb.toString();
    }

    public String summaryCsv() {
        StringBuilder sb = new StringBuilder(SUMMARY_HEADER).append('\n');
        for (Summary s : summary) {
            double[] w = s.wilson95();
            sb.append(String.format(Locale.ROOT, "%d,%d,%.6f,%s,%s,%s,%d,%d,%d,%.4f,%.4f,%.4f,%.4f%n", s.realDemos(),
                    s.simDemos(), s.alpha(), s.alphaLabel(), s.method(), s.shift() == null ? "" : s.shift(),
                    s.seeds(), s.successes(), s.trials(), s.meanSuccessRate(), w[0], w[1], s.meanMaxCoverage()));
        }
        return sb.toString();
    }

    /** results.json: the grid's name and evaluation, every row, and the summary over seeds. */
    public String json(SweepGrid grid, int totalPoints) {
        StringBuilder sb = new StringBuilder("{\n");
        SweepGrid.Eval e = grid.eval();
        sb.append("  \"sweep\": ").append(Json.quote(grid.name())).append(",\n");
        sb.append(String.format(Locale.ROOT, "  \"points_finished\": %d,%n  \"points_total\": %d,%n", rows.size(),
                totalPoints));
        sb.append(String.format(Locale.ROOT, "  \"eval\": {\"env\": %s, \"trials\": %d, \"seed\": %d,"
                        + " \"sampling\": %s, \"env_overrides\": %s},%n", Json.quote(e.env()), e.trials(), e.seed(),
                Json.quote(e.sampling()), jsonList(e.envOverrides())));
        sb.append("  \"points\": [");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            double[] w = r.wilson95();
            sb.append(i == 0 ? "\n" : ",\n").append(String.format(Locale.ROOT, "    {\"id\": %s, \"real_demos\": %d,"
                            + " \"sim_demos\": %d, \"alpha\": %.6f, \"alpha_label\": %s, \"method\": %s,"
                            + " \"shift\": %s, \"seed\": %d, \"successes\": %d, \"trials\": %d,"
                            + " \"success_rate\": %.4f, \"wilson_low\": %.4f, \"wilson_high\": %.4f,"
                            + " \"mean_max_coverage\": %.4f, \"train_seconds\": %.1f, \"eval_seconds\": %.1f,"
                            + " \"sampling\": %s}", Json.quote(r.id()), r.realDemos(), r.simDemos(), r.alpha(),
                    Json.quote(r.alphaLabel()), Json.quote(r.method()), r.shift() == null ? "null"
                            : Json.quote(r.shift()), r.seed(), r.successes(), r.trials(), r.successRate(), w[0], w[1],
                    r.meanMaxCoverage(), r.trainSeconds(), r.evalSeconds(), Json.quote(r.sampling())));
        }
        sb.append(rows.isEmpty() ? "],\n" : "\n  ],\n").append("  \"summary\": [");
        for (int i = 0; i < summary.size(); i++) {
            Summary s = summary.get(i);
            double[] w = s.wilson95();
            sb.append(i == 0 ? "\n" : ",\n").append(String.format(Locale.ROOT, "    {\"real_demos\": %d,"
                            + " \"sim_demos\": %d, \"alpha\": %.6f, \"alpha_label\": %s, \"method\": %s,"
                            + " \"shift\": %s, \"seeds\": %d, \"successes\": %d, \"trials\": %d,"
                            + " \"mean_success_rate\": %.4f, \"wilson_low\": %.4f, \"wilson_high\": %.4f,"
                            + " \"mean_max_coverage\": %.4f}", s.realDemos(), s.simDemos(), s.alpha(),
                    Json.quote(s.alphaLabel()), Json.quote(s.method()), s.shift() == null ? "null"
                            : Json.quote(s.shift()), s.seeds(), s.successes(), s.trials(), s.meanSuccessRate(), w[0],
                    w[1], s.meanMaxCoverage()));
        }
        return sb.append(summary.isEmpty() ? "]\n}\n" : "\n  ]\n}\n").toString();
    }

    /**
     * methods.md: per data size (the grid's report size first), one row per method and shift plus the real_only
     * baseline, one column per alpha: a table of success (the mean over seeds with the Wilson 95% interval of the
     * pooled trials) and a table of mean max coverage, which still ranks policies that rarely reach the success
     * threshold; each with the best alpha of each row.
     */
    public String methodsMarkdown(SweepGrid grid) {
        StringBuilder sb = new StringBuilder();
        SweepGrid.Eval e = grid.eval();
        sb.append("# Sweep ").append(grid.name()).append(": methods compared\n\n");
        sb.append(String.format(Locale.ROOT, "On `%s`%s, %d matched trials per point (eval seed %d), sampling %s."
                        + " Success: mean over seeds [Wilson 95%% interval of the pooled trials] (seeds). Coverage:"
                        + " mean over episodes of the best coverage of the goal reached (seeds). `-`: not run yet.%n%n",
                e.env(), e.envOverrides().isEmpty() ? "" : " (" + String.join(" ", e.envOverrides()) + ")",
                e.trials(), e.seed(), e.ddimSteps() != null ? "DDIM " + e.ddimSteps() + " steps"
                        : "DDPM (the config's steps)"));
        List<int[]> sizes = new ArrayList<>();
        sizes.add(new int[] {grid.reportRealDemos(), grid.reportSimDemos()});
        for (int r : grid.realDemos()) {
            for (int s : grid.simDemos()) {
                if (r != grid.reportRealDemos() || s != grid.reportSimDemos()) sizes.add(new int[] {r, s});
            }
        }
        for (int k = 0; k < sizes.size(); k++) {
            int r = sizes.get(k)[0], s = sizes.get(k)[1];
            if (k == 1) sb.append("## Other data sizes\n\n");
            sb.append(k == 0 ? "## " : "### ").append(String.format(Locale.ROOT, "|D_R| = %d, |D_S| = %d%n%n", r, s));
            Summary real = find(r, 0, "1", SweepGrid.REAL_ONLY, null);
            sb.append("Baseline ").append(SweepGrid.REAL_ONLY).append(String.format(Locale.ROOT, " (the first %d"
                    + " target demos alone): %s%n%n", r, real == null ? "not run yet"
                    : real.cell() + String.format(Locale.ROOT, ", coverage %.3f (%d seeds)", real.meanMaxCoverage(),
                            real.seeds())));
            methodsTable(sb, grid, r, s, real, "success", Summary::meanSuccessRate, Summary::cell);
            methodsTable(sb, grid, r, s, real, "coverage", Summary::meanMaxCoverage,
                    c -> String.format(Locale.ROOT, "%.3f", c.meanMaxCoverage()));
        }
        return sb.toString();
    }

    /** One table of methodsMarkdown: a row per method and shift, a column per alpha, the best alpha and its gain. */
    private void methodsTable(StringBuilder sb, SweepGrid grid, int r, int s, Summary real, String metric,
                              ToDoubleFunction<Summary> value,
                              Function<Summary, String> cell) {
        sb.append("| ").append(metric).append(": method | shift |");
        for (SweepGrid.Alpha a : grid.alphas()) {
            sb.append(" alpha ").append(a.natural() ? String.format(Locale.ROOT, "natural (%.3f)", a.at(r, s))
                    : a.label()).append(" |");
        }
        sb.append(" best | best - real_only |\n|---|---|");
        sb.append("---|".repeat(grid.alphas().size())).append("---|---|\n");
        for (String method : grid.methods().keySet()) {
            for (String shift : grid.shifts()) {
                sb.append("| ").append(method).append(" | ").append(shift).append(" |");
                Summary best = null;
                for (SweepGrid.Alpha a : grid.alphas()) {
                    Summary c = find(r, s, a.label(), method, shift);
                    sb.append(' ').append(c == null ? "-" : cell.apply(c) + " (" + c.seeds() + ")").append(" |");
                    if (c != null && (best == null || value.applyAsDouble(c) > value.applyAsDouble(best))) best = c;
                }
                sb.append(' ').append(best == null ? "-" : String.format(Locale.ROOT, "%.3f at alpha %s",
                        value.applyAsDouble(best), best.alphaLabel())).append(" | ");
                sb.append(best == null || real == null ? "-" : String.format(Locale.ROOT, "%+.3f",
                        value.applyAsDouble(best) - value.applyAsDouble(real))).append(" |\n");
            }
        }
        sb.append('\n');
    }

    /** The summary row of this group, or null when none of its points has finished. */
    public Summary find(int realDemos, int simDemos, String alphaLabel, String method, String shift) {
        for (Summary s : summary) {
            if (s.realDemos() == realDemos && s.simDemos() == simDemos && s.alphaLabel().equals(alphaLabel)
                    && s.method().equals(method) && Objects.equals(s.shift(), shift)) {
                return s;
            }
        }
        return null;
    }

    /** Writes results.csv, summary.csv, results.json and methods.md into {@code dir}. */
    public void write(Path dir, SweepGrid grid, int totalPoints) throws IOException {
        AtomicFiles.writeString(dir.resolve("results.csv"), csv());
        AtomicFiles.writeString(dir.resolve("summary.csv"), summaryCsv());
        AtomicFiles.writeString(dir.resolve("results.json"), json(grid, totalPoints));
        AtomicFiles.writeString(dir.resolve("methods.md"), methodsMarkdown(grid));
    }

    private static String jsonList(List<String> items) {
        return "[" + String.join(", ", items.stream().map(Json::quote).toList()) + "]";
    }
}
