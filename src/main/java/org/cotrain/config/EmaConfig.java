package org.cotrain.config;

/**
 * ema: the exponential moving average of the weights used for evaluation (DP's EMAModel). At optimizer step s,
 * with k = s - update_after_step - 1: decay = 0 if k <= 0, else
 * clamp(1 - (1 + k / inv_gamma)^-power, min_value, max_value).
 *
 * @param updateAfterStep steps before the average starts following the weights, >= 0
 * @param invGamma        > 0
 * @param power           > 0 (DP: 0.75)
 * @param minValue        lowest decay, in [0, 1]
 * @param maxValue        highest decay, in [min_value, 1]
 */
public record EmaConfig(int updateAfterStep, double invGamma, double power, double minValue, double maxValue) {

    static EmaConfig read(ConfigReader r) {
        int updateAfterStep = r.integer("ema.update_after_step", 0);
        double invGamma = r.number("ema.inv_gamma", 0, false, Double.POSITIVE_INFINITY, false);
        double power = r.number("ema.power", 0, false, Double.POSITIVE_INFINITY, false);
        double minValue = r.number("ema.min_value", 0, true, 1, true);
        double maxValue = r.number("ema.max_value", minValue, true, 1, true);
        return new EmaConfig(updateAfterStep, invGamma, power, minValue, maxValue);
    }
}
