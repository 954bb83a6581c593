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
 * DP-C's Conv1dBlock tail, GroupNorm(8, C) then Mish (groupnorm.h), at the U-Net's activations at batch 256
 * (DpSizes.unet): the fused op against the two ops it replaced, run the way Conv1dBlock ran them (the backward
 * zero-fills the Mish gradient and the GroupNorm gradient, since both accumulate).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class GroupNormMishBenchmarks extends KernelState {

    @Param({"small_32x16", "small_64x8", "pusht_256x16", "pusht_1024x4"})
    public String site;

    private Tensor x;
    private Tensor weight;
    private Tensor bias;
    private Tensor z;
    private Tensor y;
    private Tensor mean;
    private Tensor rstd;
    private Tensor dy;
    private Tensor dz;
    private Tensor dx;
    private Tensor dweight;
    private Tensor dbias;

    @Setup(Level.Trial)
    public void setup() {
        open();
        int[] d = DpSizes.unet(site); // {B, C, T}
        int g = DpSizes.UNET_GROUPS;
        x = randn(1, d);
        weight = randn(2, d[1]);
        bias = randn(3, d[1]);
        z = zeros(d);
        y = zeros(d);
        mean = zeros(d[0], g);
        rstd = zeros(d[0], g);
        dy = randn(4, d);
        dz = zeros(d);
        dx = zeros(d);
        dweight = zeros(d[1]);
        dbias = zeros(d[1]);
        fusedForward();
        unfusedForward();
        ready();
    }

    @Benchmark
    public Tensor fusedForward() {
        Ops.groupNormMishForward(x, weight, bias, y, mean, rstd, DpSizes.UNET_GROUPS, 1e-5f);
        be.synchronize();
        return y;
    }

    @Benchmark
    public Tensor fusedBackward() {
        Ops.groupNormMishBackward(dy, x, weight, bias, mean, rstd, dx, dweight, dbias, DpSizes.UNET_GROUPS);
        be.synchronize();
        return dx;
    }

    @Benchmark
    public Tensor unfusedForward() {
        Ops.groupNormForward(x, weight, bias, z, mean, rstd, DpSizes.UNET_GROUPS, 1e-5f);
        Ops.mishForward(z, y);
        be.synchronize();
        return y;
    }

    @Benchmark
    public Tensor unfusedBackward() {
        Ops.fill(dz, 0f);
        Ops.mishBackward(z, dy, dz);
        Ops.fill(dx, 0f);
        Ops.groupNormBackward(dz, x, weight, mean, rstd, dx, dweight, dbias, DpSizes.UNET_GROUPS);
        be.synchronize();
        return dx;
    }

    /**
     * Over n = B C T elements (statistics and parameters aside). FLOPs per element: the statistics (4), the affine
     * (3), Mish (an exp counted as 1 and ~12 more for the ratios: 13), so ~20 n forward either way; backward, z and
     * mish'(z) recomputed (3 + 15), dz w and the two group sums (5), dx (5) and the per-channel sums with z and
     * mish' recomputed again (22): ~50 n fused; unfused, mish' once (15 + 1), the GroupNorm backward's 16: ~32 n.
     * Bytes (least traffic, each read once): fused forward x read and y written, 8 n; fused backward dy and x read,
     * dx written (not accumulated), 12 n. Unfused forward x read, z written, z read, y written, 16 n; unfused
     * backward dz filled, z dy dz read and dz written, dx filled, dz x dx read and dx written: 40 n. The U-Net's
     * tensors are 0.5 to 4 MiB, so they sit in L2 or L3 between the calls and the achieved GB/s can exceed the
     * DRAM copy ceiling.
     *
     * @param method "fusedForward", "fusedBackward", "unfusedForward" or "unfusedBackward"
     * @param params the JMH parameters of the run (site, ...)
     */
    static Work.Amount work(String method, Map<String, String> params) {
        int[] d = DpSizes.unet(params.get("site"));
        double n = DpSizes.product(d);
        String shape = String.format("x (%d, %d, %d), %d groups", d[0], d[1], d[2], DpSizes.UNET_GROUPS);
        switch (method) {
            case "fusedForward":
                return new Work.Amount(shape, 20 * n, F * 2 * n, "flops ~ 20 n; bytes = 4 (x + y)");
            case "fusedBackward":
                return new Work.Amount(shape, 50 * n, F * 3 * n, "flops ~ 50 n; bytes = 4 (dy + x + dx)");
            case "unfusedForward":
                return new Work.Amount(shape + ", GroupNorm then Mish", 20 * n, F * 4 * n,
                        "flops ~ 20 n; bytes = 4 (x + z, then z + y)");
            case "unfusedBackward":
                return new Work.Amount(shape + ", Mish then GroupNorm backward", 32 * n, F * 10 * n,
                        "flops ~ 32 n; bytes = 4 (dz fill + z + dy + 2 dz, dx fill + dz + x + 2 dx)");
            default:
                throw Work.noNapkinMath("GroupNormMishBenchmarks." + method);
        }
    }
}
