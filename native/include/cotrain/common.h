// common.h: conventions shared by every cotrain op header.
//
// - Every op has a CPU implementation (native/src/*.cpp, the reference) and a CUDA one (cuda-kernels/*.cu);
//   both are declared in the op family's header, named ct_<family>_<op>_cpu and ct_<family>_<op>_cuda.
// - Ops take raw pointers and dimensions; they never allocate. Shapes are checked in Java (org.cotrain.ops.Ops)
//   before any call reaches native code, so the C side trusts its arguments.
// - All tensors are dense, row-major (C order), float32 unless the parameter says int32.
// - Backward ops ACCUMULATE into their gradient outputs (dx += ...), as in llm.c: the caller zeroes gradient
//   buffers once per step, and residual branches add up for free.
// - CUDA entry points take the stream as void* (a cudaStream_t; NULL is the legacy default stream), so that this
//   header needs no CUDA include, and return 0 or a cudaError_t code from the launch (ct_cuda_error_string()).
// - Randomness comes from Philox4x32-10 keyed by (seed, offset): random number i of a call is a pure function of
//   (seed, offset + i), identical on both backends (see rng.h).
#ifndef COTRAIN_COMMON_H
#define COTRAIN_COMMON_H

#include <stdint.h>

#ifdef __cplusplus
#define CT_EXTERN_C extern "C"
#else
#define CT_EXTERN_C
#endif

#define CT_API CT_EXTERN_C __attribute__((visibility("default")))

// Prediction types of the diffusion model output (ddpm.h).
#define CT_PREDICT_EPSILON 0
#define CT_PREDICT_SAMPLE 1

// Version of the native library, "major.minor.patch".
CT_API const char* ct_version(void);

// Threads used by the CPU backend (OpenMP parallel regions). n <= 0 restores the default (all cores).
CT_API void ct_cpu_set_num_threads(int n);
CT_API int ct_cpu_get_num_threads(void);

// A native call that does nothing: the baseline for JNI call overhead in the benchmarks.
CT_API void ct_noop(void);

#endif
