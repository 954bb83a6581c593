#!/usr/bin/env bash
# Runs the CUDA tests and the kernel benchmarks on a GPU machine with nvcc but no JDK (the device machine).
#   here:   scripts/gpu-bundle.sh                     (makes build/gpu-bundle.tgz, carried to the GPU machine)
#   there:  scripts/gpu-test.sh [junit-selector...]    (default: every test class)
# It first compiles the CUDA kernels with that machine's nvcc (a compile check of cuda-kernels/ for its GPU) and the
# native dev programs (native/dev), runs those (CUDA against the CPU reference, results in dev.txt), then
# runs the JUnit suite with the bundled runtime (the CUDA-vs-CPU tests run instead of skipping), then the JMH
# kernel benchmarks. Results go to $OUT (or build/gpu-results) when set.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
results="${OUT:-$root/build/gpu-results}"
mkdir -p "$results"
cd "$root"
if [[ ! -d build/gpu-bundle ]]; then
  tar -C build -xzf build/gpu-bundle.tgz
fi
bundle="$root/build/gpu-bundle"
java="$bundle/jre/bin/java"
command -v java >/dev/null && [[ ! -x "$java" ]] && java=java

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$results/gpu.txt" || echo "nvidia-smi failed: no GPU here?"
echo "== nvcc compile check of cuda-kernels/ for this GPU, and the native dev programs"
# Both libraries: the dev programs (native/dev) check the CUDA kernels against libcotrain_cpu. OpenBLAS, which the
# CPU library links, comes from the bundle's openblas jar (headers and libopenblas.so.0, the library the JVM runs
# with); cmake -E tar unpacks a jar (a zip) with nothing else installed.
# Should that configure fail (no OpenMP, no jar), the CUDA library is built alone and the dev checks count as failed.
openblas="$root/build/gpu-openblas"
if [[ ! -f "$openblas/org/bytedeco/openblas/linux-x86_64/libopenblas.so.0" ]]; then
  mkdir -p "$openblas"
  (cd "$openblas" && cmake -E tar xf "$(ls "$bundle"/lib/openblas-*-linux-x86_64.jar)") || true
fi
dev_target=cotrain_dev
if ! cmake -S . -B build/gpu-native -DCOTRAIN_CUDA_ONLY=OFF -DCOTRAIN_DEV_PROGRAMS=ON \
       -DCOTRAIN_OPENBLAS_DIR="$openblas/org/bytedeco/openblas/linux-x86_64" > "$results/cmake.txt" 2>&1; then
  echo "configure with the CPU library failed (cmake.txt): CUDA library alone, no native dev programs"
  cmake -S . -B build/gpu-native -DCOTRAIN_CUDA_ONLY=ON >/dev/null
  dev_target=
fi
cmake --build build/gpu-native --parallel --target cotrain_cuda $dev_target 2>&1 | tail -3

# Explicit jar lists: the JUnit launcher does not expand "lib/*" the way the java command does.
jars="$(find "$bundle/lib" -name '*.jar' ! -name 'junit-platform-console-standalone-*' | sort | tr '\n' ':')"
status=0

echo "== native dev checks (each op's CUDA kernels and variants against the CPU reference, timed)"
: > "$results/dev.txt"
dev_failures=0
[[ -n "$dev_target" ]] || { echo "native dev programs not built" | tee -a "$results/dev.txt"; dev_failures=1; }
for prog in build/gpu-native/dev/*_dev; do
  [[ -n "$dev_target" && -x "$prog" ]] || continue
  "$prog" >> "$results/dev.txt" 2>&1 || { echo "FAILED: $prog (exit $?)"; dev_failures=$((dev_failures + 1)); }
done
grep -E 'FAIL|checks passed|skipped' "$results/dev.txt" || true
echo "native dev programs failed: $dev_failures"
[[ $dev_failures -eq 0 ]] || status=1
echo "== JUnit (CUDA tests run here)"
select=("$@")
# The sandbox tests (org.cotrain.sim) are CPU-only and need the OpenCV/FFmpeg natives the bundle leaves out.
[[ ${#select[@]} -eq 0 ]] && select=(--scan-classpath "$bundle/test-classes" --exclude-package org.cotrain.sim)
"$java" -Xmx4g -jar "$bundle"/lib/junit-platform-console-standalone-*.jar execute \
  --class-path "${jars}$bundle/test-classes" "${select[@]}" --details=summary --disable-banner \
  --reports-dir "$results/junit" > "$results/junit.txt" 2>&1 || status=1
tail -15 "$results/junit.txt"

echo "== JMH kernel benchmarks"
"$java" -cp "${jars}$bundle/benchmark-classes" org.cotrain.benchmarks.KernelReport --backend cuda \
  --output "$results/kernel-report.md" > "$results/benchmarks.txt" 2>&1 || status=1
tail -5 "$results/benchmarks.txt"
exit $status
