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
 * GroupNorm(C / 16, C) (groupnorm.h) on the image encoder's activations at batch 64 (DpSizes.groupNorm): after the
 * stem (64 channels of 42x42), in layer1 (64 of 21x21) and in layer4 (512 of 3x3). The backward accumulates.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class GroupNormBenchmarks extends KernelState {

    @Param({"stem", "layer1", "layer4"})
    public String site;

    private Tensor x;
    private Tensor weight;
    private Tensor bias;
    private Tensor y;
    private Tensor mean;
    private Tensor rstd;
    private Tensor dy;
    private Tensor dx;
    private Tensor dweight;
    private Tensor dbias;
    private int groups;

    @Setup(Level.Trial)
    public void setup() {
        open();
        int[] d = DpSizes.groupNorm(site); // {N, C, H, W}
        groups = d[1] / 16;
        x = randn(1, d);
        weight = randn(2, d[1]);
        bias = randn(3, d[1]);
        y = zeros(d);
        mean = zeros(d[0], groups);
        rstd = zeros(d[0], groups);
        dy = randn(4, d);
        dx = zeros(d);
        dweight = zeros(d[1]);
        dbias = zeros(d[1]);
        forward();
        ready();
    }

    @Benchmark
    public Tensor forward() {
        Ops.groupNormForward(x, weight, bias, y, mean, rstd, groups, 1e-5f);
        be.synchronize();
        return y;
    }

    @Benchmark
    public Tensor backward() {
        Ops.groupNormBackward(dy, x, weight, mean, rstd, dx, dweight, dbias, groups);
        be.synchronize();
        return dx;
    }

    /**
     * GroupNorm over n = N C H W elements. Forward per element: the sum (1), the squared deviation (3), the
     * normalisation and affine (3): ~7 n; bytes: x read, y written (mean, rstd and the affine are negligible).
     * Backward per element: xhat (2), g = dy w (1), the two group sums (3), dx (5), and the per-channel sums for
     * dweight and dbias with xhat recomputed (5): ~16 n; bytes: dy and x read, dx read and written.
     *
     * @param method "forward" or "backward"
     * @param params the JMH parameters of the run (site, ...)
     */
    static Work.Amount work(String method, Map<String, String> params) {
        if (!method.equals("forward") && !method.equals("backward")) {
            throw Work.noNapkinMath("GroupNormBenchmarks." + method);
        }
        int[] d = DpSizes.groupNorm(params.get("site"));
        double n = DpSizes.product(d);
        String shape = String.format("x (%d, %d, %d, %d), %d groups", d[0], d[1], d[2], d[3], d[1] / 16);
        if (method.equals("forward")) {
            return new Work.Amount(shape, 7 * n, F * 2 * n, "flops ~ 7 n; bytes = 4 (x + y)");
        }
        return new Work.Amount(shape, 16 * n, F * 4 * n, "flops ~ 16 n; bytes = 4 (dy + x + 2 dx)");
    }
}
