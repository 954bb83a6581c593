# libcotrain_cuda: the CUDA kernels, for sm_80 (A100) and sm_90 (H100/H200) machine code plus sm_90 PTX that newer
# GPUs JIT-compile. Built whenever nvcc is found, so a kernel that does not compile fails the build, in CI too.
#
# The CUDA runtime is linked statically: the library then needs nothing but the driver (libcuda.so, loaded on
# first use), so it loads on a machine without a GPU and the backend probe can report why CUDA is unusable.
# cuBLAS/cuDNN are not linked here (these machines have no headers for them): the Java side calls them through
# the org.bytedeco:cuda preset, on device pointers allocated by this library, in the same primary context.
include(CheckLanguage)
check_language(CUDA)
set(COTRAIN_HAVE_CUDA OFF)
if(CMAKE_CUDA_COMPILER)
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 80-real 90)
  endif()
  enable_language(CUDA)
  set(CMAKE_CUDA_STANDARD 17)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  set(CMAKE_CUDA_RUNTIME_LIBRARY Static)

  file(GLOB COTRAIN_CUDA_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/cuda-kernels/*.cu)
  add_library(cotrain_cuda SHARED ${COTRAIN_CUDA_SOURCES})
  target_include_directories(cotrain_cuda PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/native/include
                                          PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/cuda-kernels)
  target_compile_options(cotrain_cuda PRIVATE
    $<$<COMPILE_LANGUAGE:CUDA>:-O3 --Werror=all-warnings -Xcompiler=-fvisibility=hidden>)
  target_link_options(cotrain_cuda PRIVATE -Wl,--no-undefined)
  set_target_properties(cotrain_cuda PROPERTIES CUDA_SEPARABLE_COMPILATION OFF)
  set(COTRAIN_HAVE_CUDA ON)
  message(STATUS "CUDA kernels: nvcc ${CMAKE_CUDA_COMPILER_VERSION}, architectures ${CMAKE_CUDA_ARCHITECTURES}")
else()
  message(STATUS "CUDA kernels: nvcc not found, building the CPU backend only")
endif()
