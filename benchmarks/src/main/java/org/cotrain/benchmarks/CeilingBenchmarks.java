package org.cotrain.benchmarks;

import static org.cotrain.benchmarks.Work.F;

import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The yardsticks the kernels are measured against, taken on the same machine in the same run:
 * <ul>
 *   <li>{@code noop}: an empty native call (CPU) or an empty kernel launch (CUDA), plus synchronize: the fixed cost
 *       every other benchmark pays per call.</li>
 *   <li>{@code copy}: backend.copy of a 256 MiB tensor (2 x 256 MiB moved): the memory-bandwidth ceiling.</li>
 *   <li>{@code triad}: Ops.axpby over 256 MiB tensors (3 x 256 MiB moved), a STREAM-triad-like multi-threaded
 *       kernel; shown for comparison with the copy (on the CPU the copy is one memcpy on one thread).</li>
 *   <li>{@code sgemm}: a big square matrix product (OpenBLAS on the CPU, cuBLAS on the GPU): the GEMM ceiling.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class CeilingBenchmarks {

    /** Nothing but the backend. */
    @State(Scope.Benchmark)
    public static class Empty extends KernelState {
        @Setup(Level.Trial)
        public void setup() {
            open();
        }
    }

    /** Three 256 MiB tensors. */
    @State(Scope.Benchmark)
    public static class Big extends KernelState {
        Tensor a;
        Tensor b;
        Tensor out;

        @Setup(Level.Trial)
        public void setup() {
            open();
            a = randn(1, DpSizes.COPY_ELEMENTS);
            b = randn(2, DpSizes.COPY_ELEMENTS);
            out = zeros(DpSizes.COPY_ELEMENTS);
            ready();
        }
    }

    /** Square matrices for the GEMM peak; KernelReport uses 4096 on the GPU. */
    @State(Scope.Benchmark)
    public static class Square extends KernelState {
        @Param({"1024", "2048"})
        public int square;

        Tensor a;
        Tensor b;
        Tensor c;

        @Setup(Level.Trial)
        public void setup() {
            open();
            a = randn(1, square, square);
            b = randn(2, square, square);
            c = zeros(square, square);
            ready();
        }
    }

    @Benchmark
    public void noop(Empty s) {
        s.be.noop();
        s.be.synchronize();
    }

    @Benchmark
    public Tensor copy(Big s) {
        s.be.copy(s.a, s.out);
        s.be.synchronize();
        return s.out;
    }

    @Benchmark
    public Tensor triad(Big s) {
        Ops.axpby(s.a, s.b, s.out, 1f, 0.5f);
        s.be.synchronize();
        return s.out;
    }

    @Benchmark
    public Tensor sgemm(Square s) {
        Ops.matmul(s.a, false, s.b, false, null, s.c);
        s.be.synchronize();
        return s.c;
    }

    /**
     * The napkin math of a ceiling (see {@link Work}): noop does no work; copy reads the source and writes the
     * destination, 256 MiB each; triad (out = a + 0.5 b) reads two and writes one, a multiply and an add an element;
     * sgemm (n, n) x (n, n) computes n^2 dot products of length n (n multiplies, n adds each).
     *
     * @param method the benchmark method, e.g. "sgemm"
     * @param params the JMH parameters of the run (square, ...)
     */
    static Work.Amount work(String method, Map<String, String> params) {
        switch (method) {
            case "noop":
                return new Work.Amount("empty native call / kernel launch, + synchronize", 0, 0, "none");
            case "copy": {
                // Read the source and write the destination, 256 MiB each.
                double n = DpSizes.COPY_ELEMENTS;
                return new Work.Amount("backend.copy, 256 MiB", 0, 2 * F * n,
                        "bytes = 2 * 4 * n (read src, write dst)");
            }
            case "triad": {
                // out = a + 0.5 b: two reads and a write per element; one multiply and one add.
                double n = DpSizes.COPY_ELEMENTS;
                return new Work.Amount("Ops.axpby, 3 x 256 MiB", 2 * n, 3 * F * n,
                        "flops = 2n; bytes = 3 * 4 * n (read a, b; write out)");
            }
            case "sgemm": {
                // (n, n) x (n, n): n^2 outputs, each a dot product of length n (n multiplies, n adds).
                double n = Integer.parseInt(params.get("square"));
                return new Work.Amount("sgemm " + (int) n + "^3", 2 * n * n * n, 3 * F * n * n,
                        "flops = 2 n^3; bytes = 3 * 4 * n^2 (read A, B; write C)");
            }
            default:
                throw Work.noNapkinMath("CeilingBenchmarks." + method);
        }
    }
}
