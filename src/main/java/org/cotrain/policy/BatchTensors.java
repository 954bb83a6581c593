package org.cotrain.policy;

import java.util.ArrayList;
import java.util.List;
import org.cotrain.data.Batch;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;

/**
 * A training (or validation) batch on the backend, what a {@link TrainablePolicy}'s loss reads: the normalised action
 * chunks, the normalised low-dim observations (with the domain labels when the mixture has them), each camera's uint8
 * frames as stored (the crop kernel turns them into the encoder's floats), and, with ambient diffusion, each sample's
 * diffusion step and t_n (host arrays: the policy uploads them with its steps).
 *
 * <pre>
 *   actions  (B, H, Da)           float32
 *   obs      (B, To, Do)          float32, null when Do = 0 (an image policy without low-dim keys)
 *   images   (B, To, Hc, Wc, 3)   uint8, one per camera
 * </pre>
 * Allocated once for a batch shape and refilled by {@link #copyFrom} every step.
 */
public final class BatchTensors implements AutoCloseable {
    private final Tensor actions;
    private final Tensor obs;
    private final List<Tensor> images = new ArrayList<>();
    private int[] timesteps;
    private int[] minNoiseSteps;

    private BatchTensors(Backend backend, Batch shape) {
        this.actions = backend.empty(shape.size(), shape.horizon(), shape.actionDim());
        this.obs = shape.obsDim() == 0 ? null : backend.empty(shape.size(), shape.nObsSteps(), shape.obsDim());
        for (Batch.Frames f : shape.images()) {
            images.add(backend.empty(DType.U8, shape.size(), shape.nObsSteps(), f.height(), f.width(), 3));
        }
    }

    /** Tensors for batches shaped like this one (its size, window, widths and cameras), filled with it. */
    public static BatchTensors of(Backend backend, Batch batch) {
        BatchTensors t = new BatchTensors(backend, batch);
        t.copyFrom(batch);
        return t;
    }

    /** Whether a batch has this one's shapes. */
    public boolean fits(Batch batch) {
        if (!actions.hasShape(batch.size(), batch.horizon(), batch.actionDim())
                || (obs == null ? batch.obsDim() != 0 : !obs.hasShape(batch.size(), batch.nObsSteps(), batch.obsDim()))
                || images.size() != batch.images().size()) {
            return false;
        }
        for (int c = 0; c < images.size(); c++) {
            Batch.Frames f = batch.images().get(c);
            if (!images.get(c).hasShape(batch.size(), batch.nObsSteps(), f.height(), f.width(), 3)) {
                return false;
            }
        }
        return true;
    }

    /** Copies a batch of the same shapes in. */
    public BatchTensors copyFrom(Batch batch) {
        if (!fits(batch)) {
            throw new IllegalArgumentException("batch of " + batch.size() + " windows (" + batch.horizon() + " steps, "
                    + batch.obsDim() + " obs values, " + batch.images().size() + " cameras) does not fit tensors "
                    + actions.shapeString() + ", " + (obs == null ? "no obs" : obs.shapeString()) + ", "
                    + images.size() + " cameras");
        }
        actions.copyFrom(batch.actions());
        if (obs != null) {
            obs.copyFrom(batch.obs());
        }
        for (int c = 0; c < images.size(); c++) {
            batch.copyImagesTo(c, images.get(c));
        }
        this.timesteps = batch.timesteps();
        this.minNoiseSteps = batch.minNoiseSteps();
        return this;
    }

    public int size() {
        return actions.dim(0);
    }

    /** (B, H, Da) normalised action chunks. */
    public Tensor actions() {
        return actions;
    }

    /** (B, To, Do) normalised low-dim observations (and domain labels), or null when Do = 0. */
    public Tensor obs() {
        return obs;
    }

    /** Camera c's frames (B, To, H, W, 3) uint8. */
    public List<Tensor> images() {
        return images;
    }

    /** Each sample's diffusion step (ambient diffusion), or null: the policy draws the steps. */
    public int[] timesteps() {
        return timesteps;
    }

    /** Each sample's t_n, -1 for ordinary samples (with timesteps), or null. */
    public int[] minNoiseSteps() {
        return minNoiseSteps;
    }

    @Override
    public void close() {
        actions.close();
        if (obs != null) {
            obs.close();
        }
        images.forEach(Tensor::close);
    }
}
