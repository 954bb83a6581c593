package org.cotrain.policy;

import java.util.List;
import org.cotrain.config.ObsEncoderConfig;
import org.cotrain.config.ShapeMeta;
import org.cotrain.config.TrainConfig;
import org.cotrain.config.TransformerForDiffusionConfig;
import org.cotrain.diffusion.NoiseSchedulerConfig;
import org.cotrain.nn.ImageEncoder;

/**
 * What defines an image diffusion policy (Diffusion Policy's DiffusionTransformerHybridImagePolicy with obs_as_cond):
 * one image encoder per camera, the low-dim keys, the denoiser, the training noise schedule and the sizes of an
 * observation history and an action chunk.
 *
 * <p>The condition of observation step s, (cond_dim) = 64 per camera + Dl + domains:
 * <pre>
 *   [ relu(encoder_c(crop(frame_c[s]))) for each camera c | normalised low-dim keys[s] | one-hot domain ]
 * </pre>
 *
 * @param model             the denoiser (input_dim = output_dim = actionDim, cond_dim as above)
 * @param noiseScheduler    the DDPM training schedule (also the sampling schedule's table)
 * @param horizon           H: actions predicted per chunk
 * @param nObsSteps         To: observation steps the policy conditions on
 * @param nActionSteps      Ta: actions executed per chunk, from index To - 1
 * @param actionDim         Da
 * @param numInferenceSteps default denoising steps when sampling
 * @param numDomains        0, or the number of domains whose one-hot label is appended (domain conditioning)
 * @param cameras           the rgb keys with their frame shapes, in order
 * @param lowdim            the low-dim keys with their shapes, in order
 * @param cropShape         policy.crop_shape [h, w] of every camera, or null: each camera's whole frame
 * @param evalFixedCrop     centre crops at evaluation (else random crops from the sampling seed)
 */
public record ImagePolicyConfig(TransformerForDiffusionConfig model, NoiseSchedulerConfig noiseScheduler, int horizon,
                                int nObsSteps, int nActionSteps, int actionDim, int numInferenceSteps, int numDomains,
                                List<ShapeMeta.ObsKey> cameras, List<ShapeMeta.ObsKey> lowdim,
                                List<Integer> cropShape, boolean evalFixedCrop) {

    public ImagePolicyConfig {
        cropShape = cropShape == null ? null : List.copyOf(cropShape);
        cameras = List.copyOf(cameras);
        lowdim = List.copyOf(lowdim);
        if (numDomains < 0) throw new IllegalArgumentException("numDomains must be >= 0, got " + numDomains);
        if (cameras.isEmpty() && lowdim.isEmpty()) {
            throw new IllegalArgumentException("an image policy needs at least one observation key");
        }
        int expected = ImageEncoder.FEATURES * cameras.size() + lowdimDim(lowdim) + numDomains;
        if (!model.obsAsCond() || model.condDim() != expected || model.nObsSteps() != nObsSteps) {
            throw new IllegalArgumentException("the image policy conditions the denoiser on the observation features:"
                    + " need obs_as_cond with cond_dim = 64 x " + cameras.size() + " cameras + " + lowdimDim(lowdim)
                    + " low-dim + " + numDomains + " domains = " + expected + " and n_obs_steps = " + nObsSteps
                    + ", got obs_as_cond " + model.obsAsCond() + ", cond_dim " + model.condDim() + ", n_obs_steps "
                    + model.nObsSteps());
        }
        if (model.inputDim() != actionDim || model.outputDim() != actionDim || model.horizon() != horizon) {
            throw new IllegalArgumentException("the denoiser's input_dim/output_dim/horizon (" + model.inputDim() + ", "
                    + model.outputDim() + ", " + model.horizon() + ") must be the action_dim/horizon (" + actionDim
                    + ", " + horizon + ")");
        }
        if (nObsSteps - 1 + nActionSteps > horizon) {
            throw new IllegalArgumentException("n_obs_steps - 1 + n_action_steps = " + (nObsSteps - 1 + nActionSteps)
                    + " exceeds the horizon " + horizon);
        }
        if (numInferenceSteps < 1 || numInferenceSteps > noiseScheduler.numTrainTimesteps()) {
            throw new IllegalArgumentException("num_inference_steps must be in [1, "
                    + noiseScheduler.numTrainTimesteps() + "], got " + numInferenceSteps);
        }
        if (cropShape != null && (cropShape.size() != 2 || cropShape.get(0) < 1 || cropShape.get(1) < 1)) {
            throw new IllegalArgumentException("crop_shape must be [h, w] with h, w >= 1, got " + cropShape);
        }
        for (ShapeMeta.ObsKey c : cameras) {
            if (c.type() != ShapeMeta.ObsType.RGB || (cropShape != null && (cropShape.get(0) > c.height()
                    || cropShape.get(1) > c.width()))) {
                throw new IllegalArgumentException("camera " + c.key() + " " + c.shape() + ": crop " + cropShape
                        + " must fit in its " + c.height() + "x" + c.width() + " frames");
            }
        }
    }

    /** The crop (h, w) of a camera: crop_shape, or its whole frame. */
    public int[] crop(ShapeMeta.ObsKey camera) {
        return cropShape == null ? new int[] {camera.height(), camera.width()}
                : new int[] {cropShape.get(0), cropShape.get(1)};
    }

    private static int lowdimDim(List<ShapeMeta.ObsKey> keys) {
        return keys.stream().mapToInt(ShapeMeta.ObsKey::dim).sum();
    }

    /** The policy of an image training config. */
    public static ImagePolicyConfig from(TrainConfig c) {
        if (!c.isImage()) {
            throw new IllegalArgumentException("not an image config (no task.shape_meta): use LowdimPolicyConfig");
        }
        if (!c.obsAsCond()) {
            throw new IllegalArgumentException("obs_as_cond: false (observation features inpainted into the"
                    + " trajectory) is not supported; cotrain's image policy conditions on them (obs_as_cond: true)");
        }
        TransformerForDiffusionConfig m = c.policy().model();
        int domains = c.cotrain().domainConditioning() ? c.task().dataset().paths().size() : 0;
        TransformerForDiffusionConfig model = m.withCondDim(m.condDim() + domains);
        ShapeMeta meta = c.shapeMeta();
        ObsEncoderConfig enc = c.obsEncoder();
        return new ImagePolicyConfig(model, c.policy().noiseScheduler(), c.horizon(), c.nObsSteps(), c.nActionSteps(),
                c.actionDim(), c.policy().numInferenceSteps(), domains, meta.rgb(), meta.lowdim(), enc.cropShape(),
                enc.evalFixedCrop());
    }

    /** Dl: the low-dim keys' values per step. */
    public int lowdimDim() {
        return lowdimDim(lowdim);
    }

    /** Width of one observation step as the batches carry it: the low-dim keys plus the domain label's columns. */
    public int obsWidth() {
        return lowdimDim() + numDomains;
    }

    /** The denoiser's cond_dim: 64 per camera + {@link #obsWidth()}. */
    public int conditionDim() {
        return ImageEncoder.FEATURES * cameras.size() + obsWidth();
    }
}
