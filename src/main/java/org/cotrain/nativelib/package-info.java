/**
 * The JavaCPP bindings of libcotrain: {@code CpuKernels} for {@code native/}, {@code CudaKernels} for
 * {@code cuda-kernels/}, one Java method per function of a header in {@code native/include/cotrain/}. Nothing here
 * checks arguments: callers ({@code backend}, {@code nn}) check shapes before calling in. Imports nothing of cotrain.
 */
package org.cotrain.nativelib;
