package org.cotrain.config;

import java.util.List;

/**
 * The image encoder settings of an image config's policy section (DP's DiffusionTransformerHybridImagePolicy
 * arguments).
 *
 * @param cropShape     policy.crop_shape [h, w]: random crops of this size in training (robomimic's CropRandomizer);
 *                      null: no crop randomiser, the encoder sees the whole frame
 * @param groupNorm     policy.obs_encoder_group_norm: every BatchNorm replaced by GroupNorm(C/16, C); cotrain's
 *                      encoder has GroupNorm only, so it must be true
 * @param evalFixedCrop policy.eval_fixed_crop: the centre crop at evaluation (DP's CropRandomizer); false keeps
 *                      robomimic's random crops at evaluation too (drawn from the sampling seed)
 */
public record ObsEncoderConfig(List<Integer> cropShape, boolean groupNorm, boolean evalFixedCrop) {

    public ObsEncoderConfig {
        cropShape = cropShape == null ? null : List.copyOf(cropShape);
    }

    /** The crop of a camera with frames h x w: crop_shape, or the whole frame without one. */
    public int[] crop(int h, int w) {
        return cropShape == null ? new int[] {h, w} : new int[] {cropShape.get(0), cropShape.get(1)};
    }

    static ObsEncoderConfig read(ConfigReader r, ShapeMeta shapeMeta) {
        String key = "policy.crop_shape";
        List<Integer> crop = r.value(key) == null ? null : r.integers(key, 2, 1);
        if (crop != null) {
            for (ShapeMeta.ObsKey camera : shapeMeta.rgb()) {
                if (crop.get(0) > camera.height() || crop.get(1) > camera.width()) {
                    throw new ConfigException(key + " " + crop + " is larger than the frames of camera '"
                            + camera.key() + "' (task.shape_meta.obs." + camera.key() + ".shape " + camera.shape()
                            + ": " + camera.height() + "x" + camera.width() + "); a crop must fit in the frame ("
                            + r.origin(key) + ")");
                }
            }
        }
        boolean groupNorm = r.bool("policy.obs_encoder_group_norm");
        if (!groupNorm) {
            throw r.invalid("policy.obs_encoder_group_norm", "true (cotrain's image encoder is DP's ResNet18 with"
                    + " GroupNorm(C/16, C); the BatchNorm variant is not implemented, and DP's EMA does not work with"
                    + " it)", false);
        }
        boolean evalFixedCrop = r.bool("policy.eval_fixed_crop");
        return new ObsEncoderConfig(crop, groupNorm, evalFixedCrop);
    }
}
