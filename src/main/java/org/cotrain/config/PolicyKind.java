package org.cotrain.config;

/**
 * The two kinds of config, as Diffusion Policy has two kinds of workspace config: low-dim (DP's
 * train_diffusion_transformer_lowdim_workspace: observation vectors, {@code obs_dim}, {@code policy.model.*}) and
 * image (DP's train_diffusion_transformer_hybrid_workspace: {@code task.shape_meta} with camera and low-dim keys,
 * {@code policy.crop_shape}, the transformer's keys directly under {@code policy}). A config is an image config when it
 * has {@code task.shape_meta}. Each kind has its own schema: the keys of its preset.
 */
public enum PolicyKind {
    /** DP's DiffusionTransformerLowdimPolicy: the keys of the preset pusht_lowdim_transformer. */
    LOWDIM(Presets.PUSHT_LOWDIM_TRANSFORMER, "low-dim"),
    /** DP's DiffusionTransformerHybridImagePolicy: the keys of the preset pusht_image_transformer. */
    IMAGE(Presets.PUSHT_IMAGE_TRANSFORMER, "image");

    private final String schemaPreset;
    private final String label;

    PolicyKind(String schemaPreset, String label) {
        this.schemaPreset = schemaPreset;
        this.label = label;
    }

    /** The preset whose keys are this kind's schema. */
    public String schemaPreset() {
        return schemaPreset;
    }

    /** "low-dim" or "image", for messages. */
    public String label() {
        return label;
    }
}
