package org.cotrain.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * cotrain.guidance: classifier-free guidance (MISSION.md, "Classifier-free guidance"). Training drops a sample's
 * observation condition with probability pUncond (and always for the windows of an action-only dataset), so that the
 * denoiser also learns the action prior p(A); sampling combines the two predictions as
 * eps = eps_null + w (eps_cond - eps_null). Low-dim policies only for now.
 *
 * @param pUncond       probability that a training sample's observations are replaced by the null condition, in
 *                      [0, 1); 0 with no action-only dataset = no condition dropout (as Diffusion Policy)
 * @param nullCondition how a dropped observation looks to the denoiser
 * @param mode          what the guidance contrasts: the observation against the null condition, or the target
 *                      domain label against the source one (domain conditioning)
 * @param weight        w at sampling: 1 = the plain conditional sample, 0 = the prior (mode observation); >= 0
 * @param actionOnly    one flag per file of task.dataset.path: the file has actions and no observations, its windows
 *                      always train with the null condition; null = none
 */
public record GuidanceConfig(double pUncond, NullCondition nullCondition, Mode mode, double weight,
                             List<Boolean> actionOnly) {

    /** How a dropped observation looks to the denoiser. */
    public enum NullCondition {
        /** The normalised observation values set to 0 (the middle of the data's range). */
        ZEROS,
        /**
         * The observation values set to 0 and one "has observation" column appended to every observation step (1 =
         * observed, 0 = null): the first layer's weight column of that flag is a learned null embedding.
         */
        LEARNED
    }

    /** What the two predictions of a guided step condition on. */
    public enum Mode {
        /** The observation (cond) against the null condition; needs a trained null branch. */
        OBSERVATION,
        /** The target domain's one-hot label (cond) against the first source dataset's (domain 1). */
        DOMAIN
    }

    /** No guidance: Diffusion Policy's conditional training and sampling. */
    public static final GuidanceConfig OFF = new GuidanceConfig(0, NullCondition.LEARNED, Mode.OBSERVATION, 1, null);

    public GuidanceConfig {
        actionOnly = actionOnly == null ? null : List.copyOf(actionOnly);
    }

    /** Whether file j of task.dataset.path holds actions only. */
    public boolean actionOnly(int j) {
        return actionOnly != null && actionOnly.get(j);
    }

    /** Whether some file of task.dataset.path holds actions only. */
    public boolean anyActionOnly() {
        return actionOnly != null && actionOnly.contains(Boolean.TRUE);
    }

    /** Whether training replaces some observations by the null condition (condition dropout or action-only data). */
    public boolean trainsNullCondition() {
        return mode == Mode.OBSERVATION && (pUncond > 0 || anyActionOnly());
    }

    /** Whether the condition has the "has observation" column: a learned null condition that training uses. */
    public boolean observedFlag() {
        return trainsNullCondition() && nullCondition == NullCondition.LEARNED;
    }

    static GuidanceConfig read(ConfigReader r, int numDatasets, boolean domainConditioning) {
        String p = "cotrain.guidance.";
        double pUncond = r.number(p + "p_uncond", 0, true, 1, false);
        Map<String, NullCondition> nulls = new LinkedHashMap<>();
        nulls.put("learned", NullCondition.LEARNED);
        nulls.put("zeros", NullCondition.ZEROS);
        NullCondition nullCondition = r.choice(p + "null_condition", nulls);
        Map<String, Mode> modes = new LinkedHashMap<>();
        modes.put("observation", Mode.OBSERVATION);
        modes.put("domain", Mode.DOMAIN);
        Mode mode = r.choice(p + "mode", modes);
        double weight = r.number(p + "weight", 0, true, Double.POSITIVE_INFINITY, false);
        List<Boolean> actionOnly = readActionOnly(r, p + "action_only", numDatasets);
        GuidanceConfig g = new GuidanceConfig(pUncond, nullCondition, mode, weight, actionOnly);
        boolean used = pUncond > 0 || g.anyActionOnly() || weight != 1 || mode != Mode.OBSERVATION;
        if (used && r.kind() == PolicyKind.IMAGE) {
            String key = pUncond > 0 ? "p_uncond" : g.anyActionOnly() ? "action_only" : weight != 1 ? "weight" : "mode";
            throw new ConfigException(p + key + ": classifier-free guidance is for low-dim policies only for now (this"
                    + " is an image config, " + r.origin(p + key) + "); leave cotrain.guidance at p_uncond 0.0,"
                    + " action_only null, weight 1.0, mode observation");
        }
        if (mode == Mode.DOMAIN) {
            if (!domainConditioning || numDatasets < 2) {
                throw r.invalid(p + "mode", "observation unless cotrain.domain_conditioning is true with two or more"
                        + " datasets (mode domain contrasts the target's domain label with the source's)", "domain");
            }
            if (pUncond > 0 || g.anyActionOnly()) {
                throw r.invalid(p + (pUncond > 0 ? "p_uncond" : "action_only"), (pUncond > 0 ? "0.0" : "null")
                        + " with mode domain (its two conditions, the target and the source label, are both trained"
                        + " by domain conditioning; condition dropout is for mode observation)",
                        r.value(p + (pUncond > 0 ? "p_uncond" : "action_only")));
            }
        }
        if (weight != 1 && mode == Mode.OBSERVATION && !g.trainsNullCondition()) {
            throw r.invalid(p + "weight", "1.0 when nothing trains the null condition (set"
                    + " cotrain.guidance.p_uncond > 0 or mark an action-only dataset in cotrain.guidance.action_only)",
                    weight);
        }
        if (g.anyActionOnly() && g.actionOnly.stream().allMatch(Boolean::booleanValue)) {
            throw r.invalid(p + "action_only", "a list with at least one dataset with observations (false)",
                    r.value(p + "action_only"));
        }
        return g;
    }

    private static List<Boolean> readActionOnly(ConfigReader r, String key, int numDatasets) {
        Object v = r.value(key);
        if (v == null) {
            return null;
        }
        String expected = "null or a list of one true/false per file of task.dataset.path (" + numDatasets + ")";
        if (!(v instanceof List<?> list) || list.size() != numDatasets) {
            throw r.invalid(key, expected, v);
        }
        List<Boolean> out = new ArrayList<>();
        for (Object e : list) {
            if (!(e instanceof Boolean b)) {
                throw r.invalid(key, expected, v);
            }
            out.add(b);
        }
        return out;
    }
}
