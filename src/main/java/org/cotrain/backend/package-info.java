/**
 * The two implementations of {@code tensor.Backend}: {@code CpuBackend} (libcotrain CPU kernels and OpenBLAS) and
 * {@code CudaBackend} (our CUDA kernels, cuBLAS, cuDNN), and {@code Backends}, which picks one and says why when a GPU
 * is asked for and absent. May import tensor and nativelib.
 */
package org.cotrain.backend;
