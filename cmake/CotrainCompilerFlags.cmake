# Compiler flags for the CPU library.
#
# Portable binaries: no -march=native. The baseline is x86-64; hot loops carry CT_MULTIVERSION
# (native/src/cpu_common.h), which adds an AVX2/FMA clone chosen at load time. No -ffast-math: the ops must keep
# NaN and Inf (the training loop's finiteness checks rely on them) and match the float64 references to 1e-5.
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE Release)
endif()

function(cotrain_cpu_flags target)
  # -fno-trapping-math lets GCC keep clamps as vectorisable selects (cotrain never reads the FP exception flags).
  target_compile_options(${target} PRIVATE -Wall -Wextra -O3 -fno-math-errno -fno-trapping-math
                                           -fvisibility=hidden)
  # A function declared in a header but implemented nowhere fails the link here, not the JVM at run time.
  target_link_options(${target} PRIVATE -Wl,--no-undefined)
  # Find dependencies (OpenBLAS) next to the library first: JavaCPP extracts them side by side.
  set_target_properties(${target} PROPERTIES BUILD_RPATH "$ORIGIN" INSTALL_RPATH "$ORIGIN")
endfunction()
