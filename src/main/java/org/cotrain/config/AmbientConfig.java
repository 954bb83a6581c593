package org.cotrain.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * cotrain.ambient: ambient diffusion (MISSION.md, "Ambient diffusion"), the source ("sim") data as corrupt data that
 * is trusted only at high noise. Training draws each sample's diffusion step t first, then its dataset among those
 * allowed at t: a clean dataset at every t, a corrupt sample only where t >= t_n + buffer (and t <= t_max).
 *
 * @param datasets      one per file of task.dataset.path; null when ambient diffusion is off (cotrain.ambient.t_n
 *                      null): vanilla cotraining
 * @param buffer        corrupt samples train at t >= t_n + buffer (the ambient loss needs buffer >= 1)
 * @param tMax          corrupt samples (t_n >= 1) train only at t <= tMax; null = no upper bound
 * @param loss          the loss of corrupt samples
 * @param lossWeighting ambient loss: weight each corrupt sample by (s_t^2 - s_tn^2) / s_t^2 (ambient.h)
 * @param alphaSchedule how P(clean) depends on t
 * @param alphaLowNoise  P(clean) at t = 0 (linear) or below alphaStepT (step)
 * @param alphaHighNoise P(clean) at t = T - 1 (linear) or from alphaStepT on (step)
 * @param alphaStepT    the step where the step schedule switches
 * @param classifier    the noise-level classifier behind t_n = classifier
 */
public record AmbientConfig(List<DatasetNoise> datasets, int buffer, Integer tMax, Loss loss, boolean lossWeighting,
                            AlphaSchedule alphaSchedule, double alphaLowNoise, double alphaHighNoise, int alphaStepT,
                            NoiseClassifierConfig classifier) {

    /** The loss of corrupt samples. */
    public enum Loss {
        /** (a) the ordinary denoising loss on the corrupt x0, at t >= t_n only. */
        DENOISE,
        /** (b) the ambient loss: x_{t_n} is the observation, the targets of ambient.h. */
        AMBIENT
    }

    /** (d) the probability of drawing clean data as a function of the diffusion step. */
    public enum AlphaSchedule {
        /** task.dataset.weights at every t (renormalised among the datasets allowed at t). */
        CONSTANT,
        /** alpha_low_noise at t = 0 to alpha_high_noise at t = T - 1, linearly. */
        LINEAR,
        /** alpha_low_noise below alpha_step_t, alpha_high_noise from it on. */
        STEP
    }

    /** What one dataset is: clean, corrupt from one step t_n, or corrupt with a t_n per window from the classifier. */
    public record DatasetNoise(Kind kind, int tn) {
        public enum Kind { CLEAN, FIXED, CLASSIFIER }

        public static final DatasetNoise CLEAN = new DatasetNoise(Kind.CLEAN, -1);
        public static final DatasetNoise FROM_CLASSIFIER = new DatasetNoise(Kind.CLASSIFIER, -1);

        public static DatasetNoise fixed(int tn) {
            return new DatasetNoise(Kind.FIXED, tn);
        }

        public boolean clean() {
            return kind == Kind.CLEAN;
        }

        /** "null", the step, or "classifier": as written in the config. */
        @Override
        public String toString() {
            return kind == Kind.CLEAN ? "null" : kind == Kind.FIXED ? Integer.toString(tn) : "classifier";
        }
    }

    public boolean enabled() {
        return datasets != null;
    }

    /** Whether some dataset takes its t_n from the noise-level classifier. */
    public boolean usesClassifier() {
        return enabled() && datasets.stream().anyMatch(d -> d.kind() == DatasetNoise.Kind.CLASSIFIER);
    }

    /**
     * P(clean) at step t of T under the schedule; NaN for the constant schedule, where the dataset weights apply as
     * they are.
     */
    public double cleanProbability(int t, int numTimesteps) {
        return switch (alphaSchedule) {
            case CONSTANT -> Double.NaN;
            case LINEAR -> numTimesteps == 1 ? alphaLowNoise
                    : alphaLowNoise + (alphaHighNoise - alphaLowNoise) * t / (double) (numTimesteps - 1);
            case STEP -> t < alphaStepT ? alphaLowNoise : alphaHighNoise;
        };
    }

    static AmbientConfig read(ConfigReader r, int numDatasets, int numTimesteps) {
        String p = "cotrain.ambient.";
        List<DatasetNoise> datasets = readDatasets(r, p + "t_n", numDatasets, numTimesteps);
        int buffer = r.integerIn(p + "buffer", 0, numTimesteps - 1);
        Object tMaxValue = r.value(p + "t_max");
        Integer tMax = tMaxValue == null ? null : r.integerIn(p + "t_max", 0, numTimesteps - 1);
        Loss loss = r.choice(p + "loss", names(Loss.values()));
        if (loss == Loss.AMBIENT && buffer < 1) {
            throw r.invalid(p + "buffer", ">= 1 with cotrain.ambient.loss=ambient (the ambient loss divides by"
                    + " s_t^2 - s_tn^2, so a corrupt sample needs t > t_n)", (long) buffer);
        }
        boolean lossWeighting = r.bool(p + "loss_weighting");
        AlphaSchedule schedule = r.choice(p + "alpha_schedule", names(AlphaSchedule.values()));
        double low = r.number(p + "alpha_low_noise", 0, true, 1, true);
        double high = r.number(p + "alpha_high_noise", 0, true, 1, true);
        int stepT = r.integer(p + "alpha_step_t", 0);
        if (schedule == AlphaSchedule.STEP && (stepT < 1 || stepT > numTimesteps - 1)) {
            throw r.invalid(p + "alpha_step_t", "an integer in [1, " + (numTimesteps - 1) + "] (inside the "
                    + numTimesteps + " diffusion steps) with alpha_schedule=step", (long) stepT);
        }
        NoiseClassifierConfig classifier = NoiseClassifierConfig.read(r);
        if (datasets != null) {
            for (int j = 0; j < datasets.size(); j++) {
                DatasetNoise d = datasets.get(j);
                if (tMax != null && d.kind() == DatasetNoise.Kind.FIXED && d.tn() >= 1 && d.tn() + buffer > tMax) {
                    throw r.invalid(p + "t_max", ">= t_n + buffer = " + (d.tn() + buffer) + " of dataset " + j
                            + " (else its samples are never drawn), or null", (long) tMax);
                }
            }
        }
        return new AmbientConfig(datasets, buffer, tMax, loss, lossWeighting, schedule, low, high, stepT, classifier);
    }

    /** The config names of an enum's values (lower case), in declaration order. */
    private static <E extends Enum<E>> Map<String, E> names(E[] values) {
        Map<String, E> out = new LinkedHashMap<>();
        for (E e : values) {
            out.put(e.name().toLowerCase(Locale.ROOT), e);
        }
        return out;
    }

    private static List<DatasetNoise> readDatasets(ConfigReader r, String key, int numDatasets, int numTimesteps) {
        Object v = r.value(key);
        if (v == null) {
            return null;
        }
        String expected = "null or a list of one entry per file of task.dataset.path (" + numDatasets + "), each null"
                + " (clean), a diffusion step in [0, " + (numTimesteps - 1) + "] (corrupt below it) or 'classifier',"
                + " with at least one clean and one corrupt dataset";
        if (!(v instanceof List<?> list) || list.size() != numDatasets) {
            throw r.invalid(key, expected, v);
        }
        List<DatasetNoise> out = new ArrayList<>();
        for (Object e : list) {
            if (e == null) {
                out.add(DatasetNoise.CLEAN);
            } else if ("classifier".equals(e)) {
                out.add(DatasetNoise.FROM_CLASSIFIER);
            } else if (e instanceof Long l && l >= 0 && l < numTimesteps) {
                out.add(DatasetNoise.fixed((int) (long) l));
            } else {
                throw r.invalid(key, expected, v);
            }
        }
        long clean = out.stream().filter(DatasetNoise::clean).count();
        if (clean == 0 || clean == out.size()) {
            throw r.invalid(key, expected, v);
        }
        return List.copyOf(out);
    }
}
