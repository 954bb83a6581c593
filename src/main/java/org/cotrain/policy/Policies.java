package org.cotrain.policy;

import java.io.IOException;
import java.nio.file.Path;
import org.cotrain.config.Config;
import org.cotrain.config.PolicyKind;
import org.cotrain.config.TrainConfig;
import org.cotrain.data.LinearNormalizer;
import org.cotrain.io.Checkpoint;
import org.cotrain.io.Safetensors;
import org.cotrain.tensor.Backend;

/** The policy a config asks for: low-dim ({@link LowdimPolicy}) or image ({@link ImagePolicy}). */
public final class Policies {

    private Policies() {}

    /**
     * DP's normaliser of the config's policy from the data's ("obs": the low-dim keys together, "action"): the same
     * for a low-dim policy; per key, with the cameras' range normaliser, for an image policy.
     */
    public static LinearNormalizer normalizerFromData(TrainConfig config, LinearNormalizer data) {
        return config.isImage() ? ImagePolicy.normalizerFor(ImagePolicyConfig.from(config), data) : data;
    }

    /** A freshly initialised policy of the config's kind, with DP's normaliser (see {@link #normalizerFromData}). */
    public static TrainablePolicy create(Backend backend, TrainConfig config, LinearNormalizer normalizer, long seed) {
        return config.isImage() ? new ImagePolicy(backend, ImagePolicyConfig.from(config), normalizer, seed)
                : new LowdimPolicy(backend, LowdimPolicyConfig.from(config), normalizer, seed);
    }

    /** The config a checkpoint or saved policy was built from (its metadata). */
    public static Config config(Path checkpoint) throws IOException {
        return config(Safetensors.read(checkpoint));
    }

    /** The config in a checkpoint's metadata. */
    public static Config config(Safetensors file) {
        String yaml = Checkpoint.configYaml(file);
        return Config.fromYaml(yaml, file.source() + " metadata");
    }

    /** Low-dim or image: what the config in a checkpoint's metadata says. */
    public static PolicyKind kind(Path checkpoint) throws IOException {
        return config(checkpoint).kind();
    }
}
