package org.cotrain.config;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * training.lr_scheduler: the learning-rate schedule, stepped every optimizer step, with diffusers' get_scheduler
 * names and meanings (the warmup is linear from 0 over training.lr_warmup_steps in each).
 */
public enum LrSchedulerType {
    /** Warmup, then a half cosine from the learning rate to 0 at the last step (DP's choice). */
    COSINE("cosine"),
    /** Warmup, then linear decay to 0 at the last step. */
    LINEAR("linear"),
    /** The learning rate throughout, no warmup. */
    CONSTANT("constant"),
    /** Warmup, then the learning rate. */
    CONSTANT_WITH_WARMUP("constant_with_warmup");

    private final String configName;

    LrSchedulerType(String configName) {
        this.configName = configName;
    }

    /** The name in configs. */
    public String configName() {
        return configName;
    }

    static Map<String, LrSchedulerType> byConfigName() {
        Map<String, LrSchedulerType> out = new LinkedHashMap<>();
        for (LrSchedulerType s : values()) {
            out.put(s.configName, s);
        }
        return out;
    }
}
