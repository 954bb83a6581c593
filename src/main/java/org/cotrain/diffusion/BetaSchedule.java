package org.cotrain.diffusion;

import java.util.Arrays;
import java.util.stream.Collectors;

/** How the betas of a noise schedule are laid out (diffusers' beta_schedule). */
public enum BetaSchedule {
    /** beta_i = linspace(beta_start, beta_end, T)[i]. */
    LINEAR("linear"),
    /** beta_i = linspace(sqrt(beta_start), sqrt(beta_end), T)[i]^2. */
    SCALED_LINEAR("scaled_linear"),
    /**
     * The cosine schedule of Nichol and Dhariwal: abar(tau) = cos^2(((tau + 0.008) / 1.008) pi / 2),
     * beta_i = min(1 - abar((i + 1) / T) / abar(i / T), 0.999); beta_start and beta_end are not used.
     * Diffusion Policy's choice.
     */
    SQUAREDCOS_CAP_V2("squaredcos_cap_v2");

    private final String configName;

    BetaSchedule(String configName) {
        this.configName = configName;
    }

    /** The name used in Diffusion Policy / diffusers configs. */
    public String configName() {
        return configName;
    }

    /** The schedule with this config name; an unknown name is an error that lists the known ones. */
    public static BetaSchedule fromConfigName(String name) {
        for (BetaSchedule s : values()) {
            if (s.configName.equals(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("noise_scheduler.beta_schedule: unknown schedule '" + name
                + "' (known: " + Arrays.stream(values()).map(BetaSchedule::configName).collect(Collectors.joining(", "))
                + ")");
    }
}
