package org.cotrain.data;

import java.util.List;
import org.cotrain.tensor.Tensor;

/**
 * One batch of training (or validation) samples on the host, normalised and ready to copy into tensors.
 *
 * @param index the batch index it was drawn for (-1 for validation batches)
 * @param actions (size, horizon, actionDim), normalised
 * @param obs (size, nObsSteps, obsDim), normalised: the first n_obs_steps of each window (low-dim keys, then the
 *     domain label when the mixture has them)
 * @param datasetIndex (size): which dataset of the mixture each sample came from (0 = the first, e.g. real)
 * @param windowIndex (size): the sample's window within that dataset's sampler (for attribution later)
 * @param timesteps (size) or null: each sample's diffusion step, when the mixture draws it before the dataset
 *     (ambient diffusion, {@link NoiseAwareMixing}); null: the policy draws the steps itself
 * @param minNoiseSteps (size) or null (with timesteps): each sample's t_n for the ambient loss, -1 for a sample
 *     trained with the ordinary loss (ambient.h)
 * @param images one per camera of an image dataset (none for low-dim data): the first n_obs_steps frames of each
 *     window, uint8 as stored
 */
public record Batch(long index, int size, int horizon, int nObsSteps, int actionDim, int obsDim, float[] actions,
        float[] obs, int[] datasetIndex, int[] windowIndex, int[] timesteps, int[] minNoiseSteps, List<Frames> images) {

    /** One camera's frames of a batch: (size, nObsSteps, height, width, 3) uint8. */
    public record Frames(String key, int height, int width, byte[] data) {}

    /** A batch whose diffusion steps the policy draws (vanilla training, validation). */
    public Batch(long index, int size, int horizon, int nObsSteps, int actionDim, int obsDim, float[] actions,
            float[] obs, int[] datasetIndex, int[] windowIndex) {
        this(index, size, horizon, nObsSteps, actionDim, obsDim, actions, obs, datasetIndex, windowIndex, null, null,
                List.of());
    }

    public Batch {
        images = List.copyOf(images);
        if (actions.length != size * horizon * actionDim || obs.length != size * nObsSteps * obsDim
                || datasetIndex.length != size || windowIndex.length != size
                || (timesteps == null) != (minNoiseSteps == null)
                || (timesteps != null && (timesteps.length != size || minNoiseSteps.length != size))) {
            throw new IllegalArgumentException("batch arrays do not match size " + size + ", horizon " + horizon
                    + ", n_obs_steps " + nObsSteps + ", action dim " + actionDim + ", obs dim " + obsDim);
        }
        for (Frames f : images) {
            if (f.data().length != (long) size * nObsSteps * f.height() * f.width() * 3) {
                throw new IllegalArgumentException("batch frames of camera " + f.key() + ": " + f.data().length
                        + " bytes for (" + size + ", " + nObsSteps + ", " + f.height() + ", " + f.width() + ", 3)");
            }
        }
    }

    /** The same batch with each sample's diffusion step and t_n (ambient diffusion). */
    public Batch withTimesteps(int[] steps, int[] minSteps) {
        return new Batch(index, size, horizon, nObsSteps, actionDim, obsDim, actions, obs, datasetIndex, windowIndex,
                steps, minSteps, images);
    }

    /**
     * Copies the batch into tensors of shapes (size, horizon, actionDim), (size, nObsSteps, obsDim) and (size) int32;
     * datasetIndex may be null when not needed.
     */
    public void copyTo(Tensor actionsOut, Tensor obsOut, Tensor datasetIndexOut) {
        require("actions", actionsOut, size, horizon, actionDim);
        require("obs", obsOut, size, nObsSteps, obsDim);
        actionsOut.copyFrom(actions);
        obsOut.copyFrom(obs);
        if (datasetIndexOut != null) {
            require("datasetIndex", datasetIndexOut, size);
            datasetIndexOut.copyFrom(datasetIndex);
        }
    }

    /** Copies camera c's frames into a uint8 tensor (size, nObsSteps, H, W, 3). */
    public void copyImagesTo(int c, Tensor out) {
        Frames f = images.get(c);
        require("frames of camera " + f.key(), out, size, nObsSteps, f.height(), f.width(), 3);
        out.copyFrom(f.data());
    }

    private static void require(String name, Tensor t, int... shape) {
        if (!t.hasShape(shape)) {
            throw new IllegalArgumentException("batch " + name + " is " + Tensor.shapeString(shape) + ", tensor is "
                    + t.shapeString());
        }
    }
}
