package org.cotrain.ops;

/** What the denoiser predicts (diffusers' prediction_type): the noise, or the clean sample x0. */
public enum Prediction {
    EPSILON(0, "epsilon"),
    SAMPLE(1, "sample");

    private final int code;
    private final String configName;

    Prediction(int code, String configName) {
        this.code = code;
        this.configName = configName;
    }

    /** The CT_PREDICT_* constant of ddpm.h. */
    public int code() {
        return code;
    }

    /** The name used in Diffusion Policy configs. */
    public String configName() {
        return configName;
    }
}
