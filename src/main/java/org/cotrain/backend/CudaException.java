package org.cotrain.backend;

/** A CUDA or cuBLAS call failed; the message carries the library's own error string. */
public final class CudaException extends RuntimeException {
    public CudaException(String message) {
        super(message);
    }
}
