package org.cotrain.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The layout of a cotrain checkpoint and of a saved policy, in one place for every writer and reader: where a run
 * keeps it, the metadata keys and the tensor name prefixes. The file is a safetensors file in Diffusion Policy's
 * state-dict names (the policy's own tensors, "model.*", "normalizer.params_dict.*", "obs_encoder.*"), so PyTorch
 * loads its policy part as is; a training checkpoint adds the EMA copy, the optimizer state and the loop's counters.
 *
 * <p>Each part is written and read by its owner (the policy, {@code EmaModel}, {@code AdamW}, {@code LinearNormalizer},
 * the trainer); they take their names from here.
 */
public final class Checkpoint {
    private Checkpoint() {}

    /** A run's checkpoint, relative to its run directory (the one file a resumed run continues from). */
    public static final String PATH_IN_RUN_DIR = "checkpoints/latest.safetensors";

    // ---- metadata ------------------------------------------------------------------------------------------------

    /** The resolved YAML config the policy was built from (checkpoints and saved policies). */
    public static final String CONFIG = "cotrain.config";
    /** Optimizer steps done (training checkpoints). */
    public static final String STEP = "cotrain.global_step";
    /** The run's training.seed (training checkpoints). */
    public static final String SEED = "cotrain.seed";
    /** Wall-clock seconds of training so far, over every resumed part (training checkpoints). */
    public static final String TRAIN_SECONDS = "cotrain.train_seconds";
    /** Digest of the classifier's noise levels a run trained with (ambient diffusion with t_n = classifier). */
    public static final String NOISE_LEVELS = "cotrain.ambient.noise_levels";
    /** EMA updates done. */
    public static final String EMA_UPDATES = "ema_model.updates";
    /** AdamW's step count. */
    public static final String OPTIMIZER_STEP = "optimizer.step";

    // ---- tensor name prefixes ------------------------------------------------------------------------------------

    /** The denoiser's weights in DP's policy state dict. */
    public static final String MODEL_PREFIX = "model.";
    /** DP's normaliser: normalizer.params_dict.{key}.scale / .offset / input_stats.*. */
    public static final String NORMALIZER_PREFIX = "normalizer.params_dict.";
    /** The EMA copy of every parameter (DP's workspace: state_dicts["ema_model"]). */
    public static final String EMA_PREFIX = "ema_model.";
    /** AdamW's moments: optimizer.{parameter}.exp_avg / .exp_avg_sq, torch's names for them. */
    public static final String OPTIMIZER_PREFIX = "optimizer.";

    /** The checkpoint of the run in {@code runDir}. */
    public static Path in(Path runDir) {
        return runDir.resolve(PATH_IN_RUN_DIR);
    }

    /** A writer with the metadata every cotrain file carries: torch's format tag and the config. */
    public static Safetensors.Writer writer(String configYaml) {
        return Safetensors.writer().metadata("format", "pt").metadata(CONFIG, configYaml);
    }

    /** The config YAML of a checkpoint or saved policy; an error naming the file when it has none. */
    public static String configYaml(Safetensors file) {
        String yaml = file.metadata().get(CONFIG);
        if (yaml == null) {
            throw new IllegalArgumentException(file.source() + ": no " + CONFIG + " metadata; not a cotrain policy or"
                    + " checkpoint");
        }
        return yaml;
    }

    /** A metadata entry a training checkpoint must have; an error naming the file and the key when it is missing. */
    public static String require(Safetensors file, String key) {
        String v = file.metadata().get(key);
        if (v == null) {
            throw new IllegalArgumentException(file.source() + ": metadata " + key + " is missing; not a cotrain"
                    + " training checkpoint");
        }
        return v;
    }

    /** Whether a file holds EMA weights. */
    public static boolean hasEma(Safetensors file) {
        return file.names().stream().anyMatch(n -> n.startsWith(EMA_PREFIX));
    }

    /** The tensors whose names start with {@code prefix}, by full name, in file order, as float32. */
    public static Map<String, float[]> tensorsWithPrefix(Safetensors file, String prefix) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (String name : file.names()) {
            if (name.startsWith(prefix)) {
                out.put(name, file.floats(name));
            }
        }
        return out;
    }

    /**
     * The global step stored in a checkpoint (read from the safetensors header only), or 0 when there is none.
     */
    public static long step(Path checkpoint) {
        if (!Files.isRegularFile(checkpoint)) return 0;
        try {
            String step = Safetensors.readMetadata(checkpoint).get(STEP);
            return step == null ? 0 : Long.parseLong(step);
        } catch (IOException | RuntimeException e) {
            return 0; // unreadable: treated as no progress, the run itself reports the file when it loads it
        }
    }
}
