// device.h: the CUDA device, memory and streams, as the CUDA backend sees them. Implemented in
// cuda-kernels/device.cu only: the CPU backend allocates host memory through JavaCPP.
// Every function returns 0 or a cudaError_t code; ct_cuda_error_string() turns it into text.
#ifndef COTRAIN_DEVICE_H
#define COTRAIN_DEVICE_H

#include "common.h"
#include <stddef.h>

CT_API const char* ct_cuda_error_string(int error);
CT_API int ct_cuda_device_count(int* count);
CT_API int ct_cuda_set_device(int device);
// name: a buffer of name_len bytes; compute capability in major/minor; total global memory in bytes.
CT_API int ct_cuda_device_properties(int device, char* name, int name_len, int* major, int* minor,
                                     int64_t* total_memory, int* multiprocessors);
CT_API int ct_cuda_memory_info(int64_t* free_bytes, int64_t* total_bytes);
CT_API int ct_cuda_runtime_version(int* version);
CT_API int ct_cuda_driver_version(int* version);

CT_API int ct_cuda_malloc(void** ptr, int64_t bytes);
CT_API int ct_cuda_free(void* ptr);
CT_API int ct_cuda_memset_async(void* ptr, int value, int64_t bytes, void* stream);
CT_API int ct_cuda_memcpy_h2d_async(void* dst, const void* src, int64_t bytes, void* stream);
CT_API int ct_cuda_memcpy_d2h_async(void* dst, const void* src, int64_t bytes, void* stream);
CT_API int ct_cuda_memcpy_d2d_async(void* dst, const void* src, int64_t bytes, void* stream);

CT_API int ct_cuda_stream_create(void** stream);
CT_API int ct_cuda_stream_destroy(void* stream);
CT_API int ct_cuda_stream_synchronize(void* stream);
CT_API int ct_cuda_device_synchronize(void);
// The error left by an earlier asynchronous launch, if any, cleared on read.
CT_API int ct_cuda_get_last_error(void);

// An empty kernel: the baseline for launch overhead in the benchmarks.
CT_API int ct_cuda_noop_kernel(void* stream);

#endif
