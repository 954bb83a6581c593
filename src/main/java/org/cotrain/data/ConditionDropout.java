package org.cotrain.data;

import org.cotrain.random.Philox;
import org.cotrain.random.Streams;

/**
 * Condition dropout of classifier-free guidance (cotrain.guidance): training sample i of batch k gets the null
 * condition when it comes from an action-only dataset or when Philox.uniform(key(seed, {@link Streams#UNCOND}, k), i)
 * &lt; p_uncond, so batch k's mask is a pure function of (seed, k) and a resumed run drops what the uninterrupted run
 * dropped. The null condition zeroes the sample's normalised observation values; with the learned null condition
 * ({@code observedFlag}) one "has observation" column follows the Do observation columns of every step, 1 for an
 * observed sample and 0 for a null one. Domain labels, appended after it ({@link DomainLabels}), are not dropped.
 *
 * @param pUncond      the probability of the null condition per sample, in [0, 1)
 * @param observedFlag whether the condition has the "has observation" column
 */
public record ConditionDropout(double pUncond, boolean observedFlag) {

    public ConditionDropout {
        if (!(pUncond >= 0 && pUncond < 1)) {
            throw new IllegalArgumentException("p_uncond must be in [0, 1), got " + pUncond);
        }
    }

    /** The number of condition columns added per observation step: 1 with the "has observation" flag, else 0. */
    public int extraColumns() {
        return observedFlag ? 1 : 0;
    }

    /**
     * Which samples of training batch k drop their observations: sample i when {@code actionOnly[i]} (its dataset has
     * no observations) or when its uniform draw falls below p_uncond.
     */
    public boolean[] mask(long seed, long k, boolean[] actionOnly) {
        long key = Streams.key(seed, Streams.UNCOND, k);
        float p = (float) pUncond;
        boolean[] out = new boolean[actionOnly.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = actionOnly[i] || Philox.uniform(key, i) < p;
        }
        return out;
    }

    /**
     * (B, To, Do) normalised observations to the (B, To, Do + {@link #extraColumns}) condition: sample i's values
     * zeroed where {@code dropped[i]}, and its flag (1 observed, 0 null) appended with the learned null condition.
     */
    public float[] apply(float[] obs, int batch, int nObsSteps, int obsDim, boolean[] dropped) {
        if (obs.length != batch * nObsSteps * obsDim || dropped.length != batch) {
            throw new IllegalArgumentException("condition dropout: " + obs.length + " observation values and "
                    + dropped.length + " flags for (" + batch + ", " + nObsSteps + ", " + obsDim + ")");
        }
        int width = obsDim + extraColumns();
        float[] out = new float[batch * nObsSteps * width];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < nObsSteps; t++) {
                int row = b * nObsSteps + t;
                if (!dropped[b]) {
                    System.arraycopy(obs, row * obsDim, out, row * width, obsDim);
                    if (observedFlag) {
                        out[row * width + obsDim] = 1f;
                    }
                }
            }
        }
        return out;
    }
}
