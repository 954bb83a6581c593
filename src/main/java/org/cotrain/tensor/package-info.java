/**
 * Tensors and the memory they live in: {@code Tensor} (shape, dtype, device, AutoCloseable native memory) and the
 * {@code Backend} interface every op runs through, kept together so neither needs the package above it.
 * Imports nothing of cotrain (bottom layer; see {@code ArchitectureTest}).
 */
package org.cotrain.tensor;
