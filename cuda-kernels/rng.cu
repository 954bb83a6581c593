// rng.cu: CUDA twin of rng.cpp. Element i is drawn at counter (offset + i) by the header-only Philox in philox.h,
// the very code the CPU compiles, so uniform and randint are bit-identical across backends; normal differs only
// where CUDA's double log/cos round differently from glibc's, which after rounding to float is rare and <= 1 ulp.
// One Philox block per element, a grid-stride loop per kernel: the work is integer multiplies, not memory.
#include "cotrain/rng.h"
#include "cuda_common.cuh"

static const int RNG_BLOCK = 256;

// out: (n)
__global__ void rng_uniform_kernel(float* out, int64_t n, uint64_t seed, uint64_t offset) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        out[i] = ct_philox_uniform(seed, offset + (uint64_t)i);
    }
}

// out: (n)
__global__ void rng_normal_kernel(float* out, int64_t n, uint64_t seed, uint64_t offset) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        out[i] = ct_philox_normal(seed, offset + (uint64_t)i);
    }
}

// out: (n) int32 in [low, high)
__global__ void rng_randint_kernel(int32_t* out, int64_t n, int32_t low, int32_t high, uint64_t seed,
                                   uint64_t offset) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        out[i] = ct_philox_randint(seed, offset + (uint64_t)i, low, high);
    }
}

CT_API int ct_rng_uniform_cuda(float* out, int64_t n, uint64_t seed, uint64_t offset, void* stream) {
    if (n <= 0) return 0;
    rng_uniform_kernel<<<ct_grid_for(n, RNG_BLOCK), RNG_BLOCK, 0, CT_STREAM(stream)>>>(out, n, seed, offset);
    return ct_launch_status();
}

CT_API int ct_rng_normal_cuda(float* out, int64_t n, uint64_t seed, uint64_t offset, void* stream) {
    if (n <= 0) return 0;
    rng_normal_kernel<<<ct_grid_for(n, RNG_BLOCK), RNG_BLOCK, 0, CT_STREAM(stream)>>>(out, n, seed, offset);
    return ct_launch_status();
}

CT_API int ct_rng_randint_cuda(int32_t* out, int64_t n, int32_t low, int32_t high, uint64_t seed, uint64_t offset,
                               void* stream) {
    if (n <= 0) return 0;
    rng_randint_kernel<<<ct_grid_for(n, RNG_BLOCK), RNG_BLOCK, 0, CT_STREAM(stream)>>>(out, n, low, high, seed,
                                                                                        offset);
    return ct_launch_status();
}
