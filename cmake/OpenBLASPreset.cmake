# OpenBLAS as shipped in the org.bytedeco:openblas jar (Maven unpacks it into COTRAIN_OPENBLAS_DIR): headers in
# include/, the library as libopenblas.so.0 at the top. The jar's own OpenBLASConfig.cmake points at lib/, which
# the jar does not have, so the imported target is defined here. At run time JavaCPP loads the same library from
# the jar before ours (org.cotrain.backend.CpuBackend), and the dynamic linker matches it by its soname.
set(COTRAIN_OPENBLAS_DIR "" CACHE PATH "Unpacked org/bytedeco/openblas/<platform> folder of the openblas jar")

find_path(OPENBLAS_INCLUDE_DIR cblas.h PATHS ${COTRAIN_OPENBLAS_DIR}/include NO_DEFAULT_PATH)
find_file(OPENBLAS_LIBRARY libopenblas.so.0 PATHS ${COTRAIN_OPENBLAS_DIR} NO_DEFAULT_PATH)
if(NOT OPENBLAS_INCLUDE_DIR OR NOT OPENBLAS_LIBRARY)
  message(FATAL_ERROR "OpenBLAS not found in COTRAIN_OPENBLAS_DIR='${COTRAIN_OPENBLAS_DIR}'. "
                      "Build through Maven (mvn package), which unpacks the org.bytedeco:openblas jar there.")
endif()

add_library(OpenBLAS::OpenBLAS SHARED IMPORTED)
set_target_properties(OpenBLAS::OpenBLAS PROPERTIES
  IMPORTED_LOCATION ${OPENBLAS_LIBRARY}
  IMPORTED_SONAME libopenblas.so.0
  INTERFACE_INCLUDE_DIRECTORIES ${OPENBLAS_INCLUDE_DIR})
message(STATUS "OpenBLAS: ${OPENBLAS_LIBRARY}")
