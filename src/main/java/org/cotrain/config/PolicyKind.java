package org.cotrain.config;

/**
 * The kinds of config, as Diffusion Policy has a kind of workspace config per policy: low-dim (DP's
 * train_diffusion_transformer_lowdim_workspace: observation vectors, {@code obs_dim}, {@code policy.model.*}) and
 * image (DP's train_diffusion_transformer_hybrid_workspace: {@code task.shape_meta} with camera and low-dim keys,
 * {@code policy.crop_shape}, the transformer's keys directly under {@code policy}), and low-dim with DP's CNN denoiser
 * (DP's train_diffusion_unet_lowdim_workspace: {@code obs_as_global_cond}, {@code policy.model.down_dims}, ...). A
 * config is an image config when it has {@code task.shape_meta}; a low-dim one is a U-Net config when its workspace
 * {@code name} is {@value #UNET_LOWDIM_NAME}, as DP's workspace config picks its policy. Each kind has its own schema:
 * the keys of its preset.
 */
public enum PolicyKind {
    /** DP's DiffusionTransformerLowdimPolicy: the keys of the preset pusht_lowdim_transformer. */
    LOWDIM(Presets.PUSHT_LOWDIM_TRANSFORMER, "low-dim"),
    /** DP's DiffusionTransformerHybridImagePolicy: the keys of the preset pusht_image_transformer. */
    IMAGE(Presets.PUSHT_IMAGE_TRANSFORMER, "image"),
    /** DP's DiffusionUnetLowdimPolicy (denoiser ConditionalUnet1D, DP-C): the keys of the preset pusht_lowdim_unet. */
    LOWDIM_UNET(Presets.PUSHT_LOWDIM_UNET, "low-dim U-Net (DP-C)");

    /** The workspace name of DP's U-Net low-dim config, which selects {@link #LOWDIM_UNET}. */
    public static final String UNET_LOWDIM_NAME = "train_diffusion_unet_lowdim";

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

    /** Whether observations are vectors (no cameras): the two low-dim kinds. */
    public boolean isLowdim() {
        return this != IMAGE;
    }

    /** "low-dim", "image" or "low-dim U-Net (DP-C)", for messages. */
    public String label() {
        return label;
    }
}
