package org.cotrain.tensor;

/** Where a tensor's storage lives. */
public enum Device {
    /** Host memory, used by the CPU backend. */
    CPU,
    /** GPU global memory, used by the CUDA backend. */
    CUDA
}
