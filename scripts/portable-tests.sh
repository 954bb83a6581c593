#!/usr/bin/env bash
# Runs the test suite (or the tests named by -Dtest) under other CPUs' code paths on this machine, so that a
# tolerance tuned to one CPU fails here and not on the next machine. Each configuration is
#   CORETYPE[:ISA[:THREADS]]
# CORETYPE: OpenBLAS's kernel set (OPENBLAS_CORETYPE: Haswell, SkylakeX, Cooperlake, Zen, Prescott, ...; one this
# CPU can execute). ISA: cotrain's own kernels, capped (COTRAIN_CPU_ISA: avx512, avx2, baseline; default: the CPU's).
# THREADS: the CPU backend's threads (COTRAIN_NUM_THREADS; default: the cores).
#
#   scripts/portable-tests.sh Haswell:avx2:1 SkylakeX:avx512:3              # after mvn verify (or -DskipTests package)
#   TESTS='*ParityTest,org.cotrain.ops.**' scripts/portable-tests.sh Zen
#   scripts/portable-tests.sh --ci                                         # the two CI runs (.ci/run)
#
# --ci picks two kernel sets that differ from each other and from OpenBLAS's own choice where the CPU allows:
# Haswell (AVX2) with cotrain's AVX2 kernels on 1 thread, and SkylakeX (AVX-512, where the CPU has it; else the
# baseline Prescott with cotrain's baseline kernels) on 3 threads.
# The tests run from the build in target/ (surefire:test, offline): build first. Without TESTS every test runs but
# SlurmSweepTest, which checks job scheduling, not numerics (mvn verify runs it once).
set -euo pipefail
cd "$(dirname "$0")/.."

configs=("$@")
if [[ ${#configs[@]} -eq 1 && ${configs[0]} == --ci ]]; then
    if grep -qw avx512f /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo; then
        configs=(Haswell:avx2:1 SkylakeX:avx512:3)
    else
        configs=(Haswell:avx2:1 Prescott:baseline:3)
    fi
fi
if [[ ${#configs[@]} -eq 0 ]]; then
    echo "usage: $0 CORETYPE[:ISA[:THREADS]] ... | --ci" >&2
    exit 2
fi

status=0
for c in "${configs[@]}"; do
    IFS=: read -r core isa threads <<< "$c"
    env_line="OPENBLAS_CORETYPE=$core${isa:+ COTRAIN_CPU_ISA=$isa}${threads:+ COTRAIN_NUM_THREADS=$threads}"
    echo "== portable tests: $env_line ${TESTS:+(tests $TESTS)}"
    start=$(date +%s)
    if env OPENBLAS_CORETYPE="$core" ${isa:+COTRAIN_CPU_ISA=$isa} ${threads:+COTRAIN_NUM_THREADS=$threads} \
        mvn -B -ntp -o -q -pl :cotrain surefire:test -Dtest="${TESTS:-!SlurmSweepTest}" -DfailIfNoTests=false; then
        echo "== passed: $env_line ($(( $(date +%s) - start )) s)"
    else
        # surefire:test writes target/surefire-reports; keep this configuration's reports apart from the next one's.
        reports="target/surefire-reports-$core-${isa:-cpu}-${threads:-all}"
        rm -rf "$reports" && cp -r target/surefire-reports "$reports"
        echo "== FAILED: $env_line (reports in $reports)"
        status=1
    fi
done
exit $status
