package org.cotrain.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The configs shipped in the jar, under {@code org/cotrain/config/presets/<name>.yaml}. The list is explicit because
 * resources in a jar cannot be listed portably; a test checks that every name has its file.
 */
public final class Presets {
    /** The Diffusion Policy Push-T low-dim transformer config; also the schema of every low-dim config. */
    public static final String PUSHT_LOWDIM_TRANSFORMER = "pusht_lowdim_transformer";
    /** A tiny model and a short run for two CPU cores. */
    public static final String SMALL_CPU = "small_cpu";
    /** small_cpu's model with the best 15-minute recipe measured on two CPU cores (batch 256, 16,000 steps). */
    public static final String SMALL_CPU_15MIN = "small_cpu_15min";
    /** The Diffusion Policy Push-T image (hybrid) transformer config; also the schema of every image config. */
    public static final String PUSHT_IMAGE_TRANSFORMER = "pusht_image_transformer";
    /** DP's image encoder with a small transformer and a short run, for two CPU cores. */
    public static final String SMALL_CPU_IMAGE = "small_cpu_image";
    /** DP's push-T low-dim CNN config (ConditionalUnet1D), the schema of U-Net low-dim configs. */
    public static final String PUSHT_LOWDIM_UNET = "pusht_lowdim_unet";
    /** A small U-Net low-dim config for two CPU cores. */
    public static final String SMALL_CPU_UNET = "small_cpu_unet";

    /** Every preset, the schemas first. */
    public static final List<String> NAMES = List.of(PUSHT_LOWDIM_TRANSFORMER, SMALL_CPU, SMALL_CPU_15MIN,
            PUSHT_IMAGE_TRANSFORMER, SMALL_CPU_IMAGE, PUSHT_LOWDIM_UNET, SMALL_CPU_UNET);

    private Presets() {}

    public static boolean exists(String name) {
        return NAMES.contains(name);
    }

    /** The YAML text of a preset. */
    public static String text(String name) {
        if (!exists(name)) {
            throw new ConfigException("no preset named '" + name + "'; presets: " + String.join(", ", NAMES));
        }
        String resource = "presets/" + name + ".yaml";
        try (InputStream in = Presets.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("preset " + name + " is missing from the jar (org/cotrain/config/"
                        + resource + ")");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read preset " + name + ": " + e.getMessage(), e);
        }
    }
}
