#!/usr/bin/env bash
# Packs what scripts/gpu-test.sh needs on a GPU machine that has nvcc, CMake and g++ but no JDK and no network:
# a jlink'ed Java runtime, the engine jar (with the native libraries built here), its runtime jars, the test
# classes, the JUnit console launcher and the benchmark classes with JMH. About 55 MB, in build/gpu-bundle.
# Run after `mvn -B -DskipTests package` (done here if needed).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/build/gpu-bundle"
cd "$root"
[[ -f target/cotrain-0.1.0-SNAPSHOT.jar && -d target/test-classes ]] || mvn -q -B -DskipTests package test-compile
rm -rf "$out" && mkdir -p "$out/lib"
cp target/cotrain-0.1.0-SNAPSHOT.jar "$out/lib/"
# The runtime jars, less the platform jars of other operating systems.
cp target/lib/*.jar "$out/lib/"
cp -r target/test-classes "$out/test-classes"
cp -r benchmarks/target/classes "$out/benchmark-classes"
m2="${HOME}/.m2/repository"
cp "$m2/org/openjdk/jmh/jmh-core/1.37/jmh-core-1.37.jar" "$m2/net/sf/jopt-simple/jopt-simple/5.0.4/jopt-simple-5.0.4.jar" \
   "$m2/org/apache/commons/commons-math3/3.6.1/commons-math3-3.6.1.jar" "$out/lib/"
mvn -q -B dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.11.4 \
    -DoutputDirectory="$out/lib" -f engine.pom.xml
# A small Java runtime with just the modules the engine uses.
jlink --compress=2 --strip-debug --no-header-files --no-man-pages \
      --add-modules java.base,java.logging,java.management,jdk.unsupported,java.desktop,java.xml,java.sql,jdk.management \
      --output "$out/jre"
tar -C "$root/build" -czf "$root/build/gpu-bundle.tgz" gpu-bundle
rm -rf "$out"
du -h "$root/build/gpu-bundle.tgz"
