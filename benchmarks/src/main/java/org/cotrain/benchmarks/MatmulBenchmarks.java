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
 * The GEMMs of the DP transformer's decoder layer at training size (B * T = 256 * 16 = 4096 rows, width 256), as
 * its linear layers run them: y (M, N) = x (M, K) W^T with W stored (N, K), one Ops.matmul call each.
 * <ul>
 *   <li>4096x256x768: the fused q, k, v input projection of self-attention (in_proj, 256 -> 3 * 256);</li>
 *   <li>4096x256x1024: the first FFN layer (256 -> 1024);</li>
 *   <li>4096x1024x256: the second FFN layer (1024 -> 256).</li>
 * </ul>
 * and the same at batch-1 inference (16 action tokens; 3 condition tokens through the cross-attention's packed
 * in-projection), where at most 32 rows go to cotrain's skinny kernel (native/src/matmul_skinny.cpp) instead of
 * OpenBLAS. {@code packed}: the same product with the weight packed in panels beforehand (packed_linear.h, what
 * sampling uses), with a zero bias.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class MatmulBenchmarks extends KernelState {

    /** M x K x N. */
    @Param({"4096x256x768", "4096x256x1024", "4096x1024x256", "16x256x768", "16x256x1024", "16x1024x256",
            "3x256x768"})
    public String gemm;

    private Tensor x;
    private Tensor w;
    private Tensor y;
    private Tensor packed;
    private Tensor bias;

    @Setup(Level.Trial)
    public void setup() {
        open();
        int[] mkn = DpSizes.gemm(gemm);
        x = randn(1, mkn[0], mkn[1]);
        w = randn(2, mkn[2], mkn[1]);
        y = zeros(mkn[0], mkn[2]);
        packed = own(Ops.packedWeight(w));
        Ops.packPanels(w, packed);
        bias = zeros(mkn[2]);
        ready();
    }

    @Benchmark
    public Tensor linear() {
        Ops.matmul(x, false, w, true, null, y);
        be.synchronize();
        return y;
    }

    @Benchmark
    public Tensor packed() {
        Ops.packedLinear(x, packed, w.dim(0), bias, y);
        be.synchronize();
        return y;
    }

    /**
     * The napkin math of linear and packed (see {@link Work}): y (M, N) = x (M, K) W^T with W (N, K), M N dot
     * products of length K: 2 M N K FLOPs; x and W read, y written.
     *
     * @param method "linear" or "packed"
     * @param params the JMH parameters of the run (gemm, ...)
     */
    static Work.Amount work(String method, Map<String, String> params) {
        switch (method) {
            case "linear":
            case "packed": {
                int[] d = DpSizes.gemm(params.get("gemm"));
                double m = d[0];
                double k = d[1];
                double n = d[2];
                return new Work.Amount(String.format("(%d, %d) x (%d, %d)", d[0], d[1], d[1], d[2]), 2 * m * n * k,
                        F * (m * k + n * k + m * n), "flops = 2 M N K; bytes = 4 (M K + N K + M N)");
            }
            default:
                throw Work.noNapkinMath("MatmulBenchmarks." + method);
        }
    }
}
