// device.cu: the CUDA device, memory and streams for the CUDA backend (device.h). Thin wrappers over the CUDA
// runtime that turn every failure into an error code the Java side reports with ct_cuda_error_string().
#include "cotrain/device.h"
#include "cuda_common.cuh"

#include <string.h>

CT_API const char* ct_cuda_error_string(int error) { return cudaGetErrorString((cudaError_t)error); }

CT_API int ct_cuda_device_count(int* count) {
    *count = 0;
    return (int)cudaGetDeviceCount(count);
}

CT_API int ct_cuda_set_device(int device) { return (int)cudaSetDevice(device); }

CT_API int ct_cuda_device_properties(int device, char* name, int name_len, int* major, int* minor,
                                     int64_t* total_memory, int* multiprocessors) {
    cudaDeviceProp prop;
    CT_CUDA_TRY(cudaGetDeviceProperties(&prop, device));
    if (name_len > 0) {
        strncpy(name, prop.name, (size_t)name_len - 1);
        name[name_len - 1] = '\0';
    }
    *major = prop.major;
    *minor = prop.minor;
    *total_memory = (int64_t)prop.totalGlobalMem;
    *multiprocessors = prop.multiProcessorCount;
    return 0;
}

CT_API int ct_cuda_memory_info(int64_t* free_bytes, int64_t* total_bytes) {
    size_t free_b = 0, total_b = 0;
    CT_CUDA_TRY(cudaMemGetInfo(&free_b, &total_b));
    *free_bytes = (int64_t)free_b;
    *total_bytes = (int64_t)total_b;
    return 0;
}

CT_API int ct_cuda_runtime_version(int* version) { return (int)cudaRuntimeGetVersion(version); }
CT_API int ct_cuda_driver_version(int* version) { return (int)cudaDriverGetVersion(version); }

CT_API int ct_cuda_malloc(void** ptr, int64_t bytes) {
    *ptr = nullptr;
    return (int)cudaMalloc(ptr, (size_t)(bytes > 0 ? bytes : 1));
}

CT_API int ct_cuda_free(void* ptr) { return (int)cudaFree(ptr); }

CT_API int ct_cuda_memset_async(void* ptr, int value, int64_t bytes, void* stream) {
    return (int)cudaMemsetAsync(ptr, value, (size_t)bytes, CT_STREAM(stream));
}

CT_API int ct_cuda_memcpy_h2d_async(void* dst, const void* src, int64_t bytes, void* stream) {
    return (int)cudaMemcpyAsync(dst, src, (size_t)bytes, cudaMemcpyHostToDevice, CT_STREAM(stream));
}

CT_API int ct_cuda_memcpy_d2h_async(void* dst, const void* src, int64_t bytes, void* stream) {
    return (int)cudaMemcpyAsync(dst, src, (size_t)bytes, cudaMemcpyDeviceToHost, CT_STREAM(stream));
}

CT_API int ct_cuda_memcpy_d2d_async(void* dst, const void* src, int64_t bytes, void* stream) {
    return (int)cudaMemcpyAsync(dst, src, (size_t)bytes, cudaMemcpyDeviceToDevice, CT_STREAM(stream));
}

CT_API int ct_cuda_stream_create(void** stream) {
    cudaStream_t s = nullptr;
    CT_CUDA_TRY(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    *stream = (void*)s;
    return 0;
}

CT_API int ct_cuda_stream_destroy(void* stream) { return (int)cudaStreamDestroy(CT_STREAM(stream)); }
CT_API int ct_cuda_stream_synchronize(void* stream) { return (int)cudaStreamSynchronize(CT_STREAM(stream)); }
CT_API int ct_cuda_device_synchronize(void) { return (int)cudaDeviceSynchronize(); }
CT_API int ct_cuda_get_last_error(void) { return (int)cudaGetLastError(); }

__global__ void ct_noop_kernel() {}

CT_API int ct_cuda_noop_kernel(void* stream) {
    ct_noop_kernel<<<1, 1, 0, CT_STREAM(stream)>>>();
    return ct_launch_status();
}
