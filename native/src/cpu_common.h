// cpu_common.h: helpers shared by the CPU reference implementations in native/src.
#ifndef COTRAIN_CPU_COMMON_H
#define COTRAIN_CPU_COMMON_H

#include <stdint.h>
#include <omp.h>

// Hot pointwise loops are compiled twice, for AVX2+FMA (x86-64-v3) and for baseline x86-64, and the loader picks
// the right one at run time (GCC function multi-versioning), so the library runs on any x86-64 machine without
// -march=native. Use on functions whose inner loop vectorises; OpenMP pragmas inside are fine.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CT_MULTIVERSION __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define CT_MULTIVERSION
#endif

// Below this many elements a parallel region costs more than it saves.
#define CT_PARALLEL_GRAIN 16384

#endif
