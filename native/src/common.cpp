// common.cpp: library-wide entry points (version, threads, the empty call used as a benchmark baseline).
#include "cotrain/common.h"
#include "cotrain/matmul.h"
#include "cpu_common.h"

static int default_threads = -1;

CT_API const char* ct_version(void) { return "0.1.0"; }

CT_API void ct_cpu_set_num_threads(int n) {
    if (default_threads < 0) default_threads = omp_get_max_threads();
    int threads = n > 0 ? n : default_threads;
    omp_set_num_threads(threads);
    ct_blas_set_num_threads(threads);
}

CT_API int ct_cpu_get_num_threads(void) { return omp_get_max_threads(); }

CT_API void ct_noop(void) {}
