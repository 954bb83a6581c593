package org.cotrain.optim;

/**
 * The decay of the exponential moving average of the weights at each update, as Diffusion Policy's EMAModel:
 * with s = max(0, k - update_after_step - 1) for the k-th update (counted from 0),
 * {@code decay = 0 if s == 0, else clamp(1 - (1 + s / inv_gamma)^-power, min_value, max_value)}.
 * So the first two updates copy the weights, and the decay then rises towards max_value (0.9999); with
 * power 0.75 it passes 0.999 near 10k steps.
 */
public record EmaDecay(long updateAfterStep, double invGamma, double power, double minValue, double maxValue) {

    public EmaDecay {
        if (updateAfterStep < 0 || !(invGamma > 0) || !(power > 0) || !(minValue >= 0) || !(maxValue <= 1)
                || minValue > maxValue) {
            throw new IllegalArgumentException("invalid EMA settings: update_after_step " + updateAfterStep
                    + ", inv_gamma " + invGamma + ", power " + power + ", min_value " + minValue + ", max_value "
                    + maxValue);
        }
    }

    /** DP's defaults for its transformer configs: power 0.75, max 0.9999. */
    public static EmaDecay diffusionPolicyDefaults() {
        return new EmaDecay(0, 1.0, 0.75, 0.0, 0.9999);
    }

    /** The decay used by update number {@code update} (0-based). */
    public double decay(long update) {
        long s = Math.max(0, update - updateAfterStep - 1);
        if (s <= 0) {
            return 0.0;
        }
        double value = 1.0 - Math.pow(1.0 + s / invGamma, -power);
        return Math.max(minValue, Math.min(value, maxValue));
    }
}
