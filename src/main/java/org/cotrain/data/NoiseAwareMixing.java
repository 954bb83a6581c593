package org.cotrain.data;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.IntToDoubleFunction;

/**
 * How ambient diffusion draws a training sample: its diffusion step t first, then a dataset among those allowed at
 * t, then a window among that dataset's windows allowed at t (MISSION.md, "Ambient diffusion").
 *
 * <p>A clean dataset's windows are allowed at every t. A corrupt dataset gives each training window (in its
 * sampler's order) the smallest step at which it may be drawn, minStep (t_n + buffer; 0 for a window as good as
 * clean, t_n = 0; anything >= T for one never trusted): window w is allowed at t when minStep[w] == 0, or when
 * minStep[w] <= t and t <= tMax (tMax null: no upper bound).
 *
 * <p>Dataset j's weight at t is its base weight (or, with a clean-probability schedule alpha(t), alpha(t) shared
 * among the clean datasets and 1 - alpha(t) among the corrupt ones, each in proportion to its base weight) times
 * the fraction of its windows allowed at t, renormalised over the datasets. So a dataset whose t_n is one step
 * keeps its relative weight wherever it is allowed and none below, and with a t_n per window the corrupt dataset
 * counts only the windows it may use (as if disallowed draws were rejected and redrawn). A window is then uniform
 * among the allowed ones of its dataset.
 */
public final class NoiseAwareMixing {

    /**
     * The windows of one corrupt dataset, in its training sampler's order.
     *
     * @param minStep the smallest step each window may be drawn at (0: every step; >= T: never)
     * @param lossTn  the t_n each window gives the loss (ambient.h): >= 0 for the ambient loss, -1 for the ordinary
     */
    public record CorruptWindows(int[] minStep, int[] lossTn) {
        public CorruptWindows {
            if (minStep.length != lossTn.length) {
                throw new IllegalArgumentException(minStep.length + " minimum steps but " + lossTn.length + " t_n");
            }
        }

        /** Every window of a dataset of {@code windows} windows alike. */
        public static CorruptWindows uniform(int windows, int minStep, int lossTn) {
            int[] m = new int[windows];
            int[] l = new int[windows];
            Arrays.fill(m, minStep);
            Arrays.fill(l, lossTn);
            return new CorruptWindows(m, l);
        }
    }

    private final int numTimesteps;
    private final Integer tMax;
    private final CorruptWindows[] corrupt;   // null entries: clean datasets
    private final int[][] order;              // per dataset: windows sorted by minStep (allowed ones form a prefix)
    private final int[][] allowed;            // per dataset, per t: how many windows are allowed
    private final double[][] probability;     // per t, per dataset: P(dataset | t)
    private final double[][] cumulative;      // per t, per dataset

    /**
     * @param weights          the mixture's normalised base weights, one per dataset
     * @param windows          each dataset's number of training windows
     * @param corrupt          one per dataset: null for a clean dataset
     * @param tMax             corrupt windows (minStep >= 1) are allowed only at t <= tMax; null = no bound
     * @param cleanProbability alpha(t), P(clean) at step t; null: the base weights at every t
     */
    public NoiseAwareMixing(int numTimesteps, double[] weights, int[] windows, List<CorruptWindows> corrupt,
                            Integer tMax, IntToDoubleFunction cleanProbability) {
        int n = weights.length;
        if (numTimesteps < 1 || windows.length != n || corrupt.size() != n) {
            throw new IllegalArgumentException("noise-aware mixing: " + n + " weights, " + windows.length
                    + " window counts, " + corrupt.size() + " dataset kinds, " + numTimesteps + " steps");
        }
        this.numTimesteps = numTimesteps;
        this.tMax = tMax;
        this.corrupt = corrupt.toArray(new CorruptWindows[0]);
        this.order = new int[n][];
        this.allowed = new int[n][numTimesteps];
        for (int j = 0; j < n; j++) {
            CorruptWindows c = this.corrupt[j];
            if (c == null) {
                order[j] = identity(windows[j]);
                Arrays.fill(allowed[j], windows[j]);
                continue;
            }
            if (c.minStep().length != windows[j]) {
                throw new IllegalArgumentException("dataset " + j + " has " + windows[j] + " training windows but "
                        + c.minStep().length + " noise levels");
            }
            order[j] = sortedByMinStep(c.minStep());
            for (int t = 0; t < numTimesteps; t++) {
                allowed[j][t] = countAllowedPrefix(c.minStep(), order[j], t, tMax);
            }
        }
        this.probability = new double[numTimesteps][];
        this.cumulative = new double[numTimesteps][];
        double cleanBase = 0;
        double corruptBase = 0;
        for (int j = 0; j < n; j++) {
            if (this.corrupt[j] == null) {
                cleanBase += weights[j];
            } else {
                corruptBase += weights[j];
            }
        }
        if (cleanProbability != null && (cleanBase <= 0 || corruptBase <= 0)) {
            throw new IllegalArgumentException("cotrain.ambient.alpha_schedule shares P(clean) among the clean"
                    + " datasets and 1 - P(clean) among the corrupt ones by task.dataset.weights, which give "
                    + (cleanBase <= 0 ? "the clean" : "the corrupt") + " datasets no weight: " + Arrays.toString(weights));
        }
        for (int t = 0; t < numTimesteps; t++) {
            double alpha = cleanProbability == null ? Double.NaN : cleanProbability.applyAsDouble(t);
            double[] p = new double[n];
            double sum = 0;
            for (int j = 0; j < n; j++) {
                double w = weights[j];
                if (cleanProbability != null) {
                    w = this.corrupt[j] == null ? alpha * w / cleanBase : (1 - alpha) * w / corruptBase;
                }
                p[j] = windows[j] == 0 ? 0 : w * allowed[j][t] / windows[j];
                sum += p[j];
            }
            if (!(sum > 0)) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "at diffusion step %d no dataset may be"
                        + " drawn (every weighted dataset is corrupt with t_n + buffer above it, or outside t_max, or"
                        + " has weight 0 there%s)", t, cleanProbability == null ? ""
                        : String.format(Locale.ROOT, "; P(clean) = %.3f", alpha)));
            }
            double[] cum = new double[n];
            double acc = 0;
            int last = 0;
            for (int j = 0; j < n; j++) {
                p[j] /= sum;
                acc += p[j];
                cum[j] = acc;
                if (p[j] > 0) {
                    last = j;
                }
            }
            for (int j = last; j < n; j++) {
                cum[j] = 1.0; // rounding must not leave u in [acc, 1) unassigned
            }
            probability[t] = p;
            cumulative[t] = cum;
        }
    }

    private static int[] identity(int n) {
        int[] o = new int[n];
        for (int i = 0; i < n; i++) {
            o[i] = i;
        }
        return o;
    }

    /** Window indices sorted by minStep, ties in window order (stable). */
    private static int[] sortedByMinStep(int[] minStep) {
        return java.util.stream.IntStream.range(0, minStep.length).boxed()
                .sorted((a, b) -> Integer.compare(minStep[a], minStep[b])).mapToInt(Integer::intValue).toArray();
    }

    private static boolean isAllowed(int minStep, int t, Integer tMax) {
        return minStep == 0 || (minStep <= t && (tMax == null || t <= tMax));
    }

    /**
     * The number of allowed windows at t, which are the first ones of {@code order}: below tMax those with
     * minStep <= t, above it those with minStep 0; both are prefixes of the order by minStep. Checked, since the
     * window draw relies on it.
     */
    private static int countAllowedPrefix(int[] minStep, int[] order, int t, Integer tMax) {
        int k = 0;
        while (k < order.length && isAllowed(minStep[order[k]], t, tMax)) {
            k++;
        }
        for (int i = k; i < order.length; i++) {
            if (isAllowed(minStep[order[i]], t, tMax)) {
                throw new IllegalStateException("allowed windows at step " + t + " are not a prefix of the order");
            }
        }
        return k;
    }

    public int numTimesteps() {
        return numTimesteps;
    }

    public int numDatasets() {
        return order.length;
    }

    /** The dataset of a sample at step t, from u uniform in [0, 1). */
    public int dataset(int t, double u) {
        double[] cum = cumulative[t];
        int j = 0;
        while (u >= cum[j]) {
            j++;
        }
        return j;
    }

    /** A window of dataset j allowed at t, uniform among them, from 64 random bits. */
    public int window(int j, int t, long bits) {
        int count = allowed[j][t];
        return order[j][(int) MixtureDataset.unsignedMultiplyHigh(bits, count)];
    }

    /** The t_n window w of dataset j gives the loss: -1 (ordinary loss) for clean data. */
    public int lossTn(int j, int window) {
        return corrupt[j] == null ? -1 : corrupt[j].lossTn()[window];
    }

    /** P(dataset j | step t). */
    public double probability(int t, int j) {
        return probability[t][j];
    }

    /** Dataset j's number of training windows. */
    public int windows(int j) {
        return order[j].length;
    }

    /** How many windows of dataset j may be drawn at t. */
    public int allowedWindows(int j, int t) {
        return allowed[j][t];
    }

    /** Whether window w of dataset j may be drawn at step t. */
    public boolean isAllowed(int j, int window, int t) {
        return corrupt[j] == null || isAllowed(corrupt[j].minStep()[window], t, tMax);
    }
}
