// cuda_common.cuh: helpers shared by the CUDA kernels in cuda-kernels/.
//
// Every ct_*_cuda entry point launches on the caller's stream and returns the launch status, so that the Java
// side turns a bad launch into an exception carrying cudaGetErrorString() instead of crashing. Errors from the
// kernel's execution surface at the next synchronisation, which the Java side checks too.
#ifndef COTRAIN_CUDA_COMMON_CUH
#define COTRAIN_CUDA_COMMON_CUH

#include <cuda_runtime.h>
#include <stdint.h>

#define CT_STREAM(s) (static_cast<cudaStream_t>(s))

// Return from the enclosing function with the error code if a CUDA runtime call failed.
#define CT_CUDA_TRY(call)                        \
    do {                                         \
        cudaError_t ct_err_ = (call);            \
        if (ct_err_ != cudaSuccess) return (int)ct_err_; \
    } while (0)

// The status of the launch just made on this thread (0 on success).
static inline int ct_launch_status() { return (int)cudaGetLastError(); }

// Blocks for a grid-stride loop over n elements: enough to fill the GPU, capped so one launch stays cheap.
static inline unsigned int ct_grid_for(int64_t n, int block) {
    int64_t blocks = (n + block - 1) / block;
    if (blocks > 65535LL * 8) blocks = 65535LL * 8;
    if (blocks < 1) blocks = 1;
    return (unsigned int)blocks;
}

template <typename T>
__device__ __forceinline__ T ct_warp_sum(T v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

template <typename T>
__device__ __forceinline__ T ct_warp_max(T v) {
    for (int o = 16; o > 0; o >>= 1) v = max(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// ---- Mish (activation.cu, and the fused GroupNorm + Mish of groupnorm.cu): y = x tanh(softplus(x)) --------------
// As in activation.cpp: with t = exp(-|x|) <= 1, tanh(softplus(x)) = num / den where
//   x >= 0 (t = e^-x): num = 1 + 2t,      den = num + 2t^2
//   x <  0 (t = e^x):  num = t (t + 2),   den = num + 2
// which never overflows, and 1 - tanh^2 = (den - num)(den + num) / den^2 without cancellation.

__device__ __forceinline__ void ct_mish_parts(float x, float* tsp, float* sech2, float* sig) {
    bool pos = x >= 0.0f;
    float t = expf(pos ? -x : x);
    float num = pos ? 1.0f + 2.0f * t : t * (t + 2.0f);
    float gap = pos ? 2.0f * t * t : 2.0f;
    float den = num + gap;
    float rden = 1.0f / den;
    *tsp = num * rden;
    *sech2 = gap * (den + num) * rden * rden;
    *sig = (pos ? 1.0f : t) / (1.0f + t);
}

#endif
