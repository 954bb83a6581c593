package org.cotrain.data;

/**
 * Domain conditioning: a one-hot domain label (which dataset a sample came from; 0 = the target data) appended to
 * every observation step, so the policy can tell the domains apart in training and is told "target" at evaluation.
 * The label is appended after normalisation and is not itself normalised (0 or 1).
 */
public final class DomainLabels {

    private DomainLabels() {}

    /** The domain label a policy is given at inference: checked against its config's number of domains. */
    public static int checkInferenceDomain(int domain, int numDomains) {
        if (numDomains == 0) {
            throw new IllegalStateException("setDomain: this policy is not domain conditioned");
        }
        if (domain < 0 || domain >= numDomains) {
            throw new IllegalArgumentException("domain " + domain + " outside [0, " + numDomains + ")");
        }
        return domain;
    }

    /**
     * (B, To, Do) observations to (B, To, Do + numDomains) with sample i's one-hot label domain[i] appended to each
     * of its steps.
     */
    public static float[] append(float[] obs, int batch, int nObsSteps, int obsDim, int[] domain, int numDomains) {
        if (obs.length != batch * nObsSteps * obsDim || domain.length != batch) {
            throw new IllegalArgumentException("domain labels: " + obs.length + " observation values and "
                    + domain.length + " labels for (" + batch + ", " + nObsSteps + ", " + obsDim + ")");
        }
        int width = obsDim + numDomains;
        float[] out = new float[batch * nObsSteps * width];
        for (int b = 0; b < batch; b++) {
            if (domain[b] < 0 || domain[b] >= numDomains) {
                throw new IllegalArgumentException("domain label " + domain[b] + " of sample " + b + " outside [0, "
                        + numDomains + ")");
            }
            for (int t = 0; t < nObsSteps; t++) {
                int row = b * nObsSteps + t;
                System.arraycopy(obs, row * obsDim, out, row * width, obsDim);
                out[row * width + obsDim + domain[b]] = 1f;
            }
        }
        return out;
    }
}
