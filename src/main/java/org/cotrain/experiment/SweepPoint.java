package org.cotrain.experiment;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.cotrain.config.Config;
import org.cotrain.io.Json;

/**
 * One policy of a sweep: |D_R| target demos, |D_S| source demos of one shift mixed with ratio alpha by one method,
 * trained with one seed. The {@code real_only} baseline has no source data ({@code simDemos} 0, no alpha, no shift).
 *
 * @param realDemos |D_R|: the first n training demos of the target file
 * @param simDemos  |D_S|: the first n training demos of the shift's source file (0 for real_only)
 * @param alpha     the grid's alpha (null for real_only)
 * @param method    a method of the grid, or {@link SweepGrid#REAL_ONLY}
 * @param shift     the source dataset's name (null for real_only)
 * @param seed      training.seed
 */
public record SweepPoint(int realDemos, int simDemos, SweepGrid.Alpha alpha, String method, String shift,
                         long seed) {

    public static SweepPoint realOnly(int realDemos, long seed) {
        return new SweepPoint(realDemos, 0, null, SweepGrid.REAL_ONLY, null, seed);
    }

    /**
     * Every point of a grid, seeds outermost (a partial sweep has whole seeds), then |D_R| (its real_only baseline
     * first), |D_S|, shift, method, alpha.
     */
    public static List<SweepPoint> enumerate(SweepGrid grid) {
        List<SweepPoint> points = new ArrayList<>();
        for (long seed : grid.seeds()) {
            for (int r : grid.realDemos()) {
                points.add(realOnly(r, seed));
                for (int s : grid.simDemos()) {
                    for (String shift : grid.shifts()) {
                        for (String method : grid.methods().keySet()) {
                            for (SweepGrid.Alpha a : grid.alphas()) {
                                points.add(new SweepPoint(r, s, a, method, shift, seed));
                            }
                        }
                    }
                }
            }
        }
        return points;
    }

    public boolean isRealOnly() {
        return method.equals(SweepGrid.REAL_ONLY);
    }

    /** The share of target samples: alpha, the natural ratio's value, or 1 for real_only. */
    public double alphaValue() {
        return isRealOnly() ? 1.0 : alpha.at(realDemos, simDemos);
    }

    /** "natural", the number ("0.25"), or "1" for real_only. */
    public String alphaLabel() {
        return isRealOnly() ? "1" : alpha.label();
    }

    /** The run directory name, e.g. {@code r10_s500_a0.25_vanilla_source_seed0} or {@code r10_real_only_seed0}. */
    public String id() {
        if (isRealOnly()) return "r" + realDemos + "_" + SweepGrid.REAL_ONLY + "_seed" + seed;
        return "r" + realDemos + "_s" + simDemos + "_a" + alpha.label() + "_" + method + "_" + shift + "_seed" + seed;
    }

    /**
     * The config of this point: the grid's base config, the sweep's default {@code task.dataset.val_ratio=0.0}
     * (generated files have no validation mask, and |D_R| counts training demos) unless the grid sets it, the grid's
     * overrides, the method's overrides, then the point's own keys ({@link SweepGrid#MANAGED_KEYS}, and
     * {@code training.resume=true} so an interrupted point continues from its checkpoint).
     */
    public Config config(SweepGrid grid, Path real, Path sim, int threads) {
        List<String> o = new ArrayList<>();
        o.add("task.dataset.val_ratio=0.0");
        o.addAll(grid.overrides());
        if (!isRealOnly()) o.addAll(grid.methods().get(method));
        o.addAll(pointOverrides(real, sim, threads));
        return Config.load(grid.configSource(), o);
    }

    /** The keys the sweep sets for this point. */
    public List<String> pointOverrides(Path real, Path sim, int threads) {
        List<String> o = new ArrayList<>();
        if (isRealOnly()) {
            o.add("task.dataset.path=[" + Json.quote(real.toString()) + "]");
            o.add("task.dataset.weights=null");
            o.add("cotrain.dataset_max_train_episodes=[" + realDemos + "]");
        } else {
            o.add("task.dataset.path=[" + Json.quote(real.toString()) + "," + Json.quote(sim.toString()) + "]");
            // Natural: weights proportional to the demo counts, which normalise to exactly |D_R| / (|D_R| + |D_S|).
            o.add(alpha.natural() ? "task.dataset.weights=[" + realDemos + "," + simDemos + "]"
                    : "task.dataset.weights=[" + num(alpha.value()) + "," + num(1 - alpha.value()) + "]");
            o.add("cotrain.dataset_max_train_episodes=[" + realDemos + "," + simDemos + "]");
        }
        o.add("training.seed=" + seed);
        o.add("training.resume=true");
        o.add("cotrain.threads=" + threads);
        return o;
    }

    /** The point's parameters as a JSON object (one line). */
    public String toJson() {
        return String.format(Locale.ROOT, "{\"id\": %s, \"real_demos\": %d, \"sim_demos\": %d, \"alpha\": %s,"
                        + " \"alpha_label\": %s, \"method\": %s, \"shift\": %s, \"seed\": %d}", Json.quote(id()),
                realDemos, simDemos, num(alphaValue()), Json.quote(alphaLabel()), Json.quote(method),
                shift == null ? "null" : Json.quote(shift), seed);
    }

    private static String num(double v) {
        return Double.toString(v);
    }
}
