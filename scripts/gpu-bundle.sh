#!/usr/bin/env bash
# Packs what scripts/gpu-test.sh needs on a GPU machine that has nvcc, CMake and g++ but no JDK and no network:
# a jlink'ed Java runtime, the engine jar (with the native libraries built here), its runtime jars, the test
# classes, the JUnit console launcher and the benchmark classes with JMH. About 55 MB, in build/gpu-bundle.
# Run after `mvn -B -DskipTests package` (done here if needed).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/build/gpu-bundle"
cd "$root"
command -v zip >/dev/null || { echo "gpu-bundle.sh needs zip (apt-get install zip)" >&2; exit 1; }
[[ -f target/cotrain-0.1.0-SNAPSHOT.jar && -d target/test-classes ]] || mvn -q -B -DskipTests package test-compile
rm -rf "$out" && mkdir -p "$out/lib"
cp target/cotrain-0.1.0-SNAPSHOT.jar "$out/lib/"
# The runtime jars. The OpenBLAS jar is repacked without its LAPACK JNI libraries (about 45 MB unpacked):
# cotrain loads only openblas_nolapack, and the bundle must stay within the device machine's 64 MiB carry limit.
cp target/lib/*.jar "$out/lib/"
# The sandbox's OpenCV and FFmpeg natives (about 58 MB) are left out: the GPU run tests the kernels and the model,
# and the sim tests need no GPU. The Java classes of the presets stay so that test classes still load.
rm -f "$out"/lib/opencv-*-linux-x86_64.jar "$out"/lib/ffmpeg-*-linux-x86_64.jar
for jar in "$out"/lib/openblas-*-linux-x86_64.jar; do
  zip -q -d "$jar" 'org/bytedeco/openblas/linux-x86_64/libjniopenblas.so' \
                   'org/bytedeco/openblas/linux-x86_64/libjniopenblas_full.so'
done
cp -r target/test-classes "$out/test-classes"
cp -r benchmarks/target/classes "$out/benchmark-classes"
m2="${HOME}/.m2/repository"
cp "$m2/org/openjdk/jmh/jmh-core/1.37/jmh-core-1.37.jar" "$m2/net/sf/jopt-simple/jopt-simple/5.0.4/jopt-simple-5.0.4.jar" \
   "$m2/org/apache/commons/commons-math3/3.6.1/commons-math3-3.6.1.jar" "$out/lib/"
mvn -q -B dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.11.4 \
    -DoutputDirectory="$out/lib" -f engine.pom.xml
# A small Java runtime with just the modules the engine uses.
jlink --compress=2 --strip-debug --no-header-files --no-man-pages \
      --add-modules java.base,java.logging,java.management,jdk.management,jdk.unsupported,java.xml \
      --output "$out/jre"
tar -C "$root/build" -czf "$root/build/gpu-bundle.tgz" gpu-bundle
rm -rf "$out"
du -h "$root/build/gpu-bundle.tgz"
