package org.cotrain.tensor;

/**
 * Element types. Everything learned is float32; int32 carries indices (embedding ids, diffusion timesteps, argmax
 * of max pooling, crop offsets); uint8 carries camera images as the datasets store them (image.h turns them into
 * float).
 */
public enum DType {
    F32(4),
    I32(4),
    U8(1);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Size of one element in bytes. */
    public int bytes() {
        return bytes;
    }
}
