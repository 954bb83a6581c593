package org.cotrain.sim.expert;

import org.cotrain.sim.EnvConfig;
import org.cotrain.sim.Policy;

/** The scripted experts by name: {@code target} (teleoperator-like) and {@code source} (planner-like). */
public final class Experts {

    private Experts() {}

    /** The expert that demonstrates in this environment (its {@code expert} key). */
    public static Policy create(EnvConfig config) {
        return create(config.expert(), config);
    }

    /** The expert of this style acting in this environment: target or source. */
    public static Policy create(String style, EnvConfig config) {
        if (style == null) throw new IllegalArgumentException("expert style must not be null (target or source)");
        return new ScriptedExpert(config, ExpertStyle.named(style));
    }
}
