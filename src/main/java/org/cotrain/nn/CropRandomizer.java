package org.cotrain.nn;

import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;

/**
 * Diffusion Policy's CropRandomizer (eval_fixed_crop: robomimic's random crops in training, torchvision's centre
 * crop in evaluation), fused with the dataset's uint8 -> x / 255 and the image range normaliser to [-1, 1]: uint8
 * frames (B, H, W, C) in, the encoder's float (B, C, crop H, crop W) out, in one pass (image.h). No parameters.
 * Training offsets are Philox draws at (seed, offset + 2 b) and (seed, offset + 2 b + 1) for sample b.
 */
public final class CropRandomizer implements AutoCloseable {
    private final int cropH;
    private final int cropW;
    private final Buffer offsets;
    private final Buffer out;

    public CropRandomizer(Backend backend, int cropH, int cropW) {
        if (cropH < 1 || cropW < 1) {
            throw new IllegalArgumentException("CropRandomizer: crop " + cropH + "x" + cropW);
        }
        this.cropH = cropH;
        this.cropW = cropW;
        this.offsets = new Buffer(backend);
        this.out = new Buffer(backend);
    }

    /** Random crops (training) from (seed, offset), or centre crops (evaluation). */
    public Tensor forward(Tensor images, boolean training, long seed, long offset) {
        Tensor o = null;
        if (training) {
            o = offsets.get(DType.I32, images.dim(0), 2);
            Ops.randomCropOffsets(o, images.dim(1), images.dim(2), cropH, cropW, seed, offset);
        }
        return forward(images, o);
    }

    /** Crops at the given (top, left) offsets (B, 2) int32, or centre crops when null. */
    public Tensor forward(Tensor images, Tensor cropOffsets) {
        try (OpProfile.Scope ignored = OpProfile.scope(OpProfile.Family.CROP, images.backend())) {
            if (images.rank() != 4) {
                throw new IllegalArgumentException("CropRandomizer: images " + images.shapeString()
                        + " are not (B, H, W, C)");
            }
            Tensor y = out.get(images.dim(0), images.dim(3), cropH, cropW);
            Ops.imageToFloat(images, cropOffsets, y);
            return y;
        }
    }

    @Override
    public void close() {
        offsets.close();
        out.close();
    }
}
