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
 * The FiLM of DP-C's ConditionalResidualBlock1D with cond_predict_scale (film.h) at the U-Net's activations at batch
 * 256 (DpSizes.unet): the op against the composition it replaced (the scale and bias split out of the embedding, a
 * rank-one matmul with a ones row to broadcast them over T, a mul; backward two muls, two matmuls with a ones column
 * and two merges).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class FilmBenchmarks extends KernelState {

    @Param({"small_32x16", "small_64x8", "pusht_256x16", "pusht_1024x4"})
    public String site;

    private int b;
    private int c;
    private int t;
    private Tensor h;
    private Tensor embed;
    private Tensor y;
    private Tensor dy;
    private Tensor dh;
    private Tensor dembed;
    // the composition's buffers
    private Tensor ones;
    private Tensor scale;
    private Tensor shift;
    private Tensor expanded;
    private Tensor product;
    private Tensor dscale;
    private Tensor dshift;

    @Setup(Level.Trial)
    public void setup() {
        open();
        int[] d = DpSizes.unet(site); // {B, C, T}
        b = d[0];
        c = d[1];
        t = d[2];
        h = randn(1, d);
        embed = randn(2, b, 2 * c);
        y = zeros(d);
        dy = randn(3, d);
        dh = zeros(d);
        dembed = zeros(b, 2 * c);
        ones = zeros(1, t);
        Ops.fill(ones, 1f);
        scale = zeros(b, c);
        shift = zeros(b, c);
        expanded = zeros(d);
        product = zeros(d);
        dscale = zeros(b, c);
        dshift = zeros(b, c);
        forward();
        composedForward();
        ready();
    }

    @Benchmark
    public Tensor forward() {
        Ops.filmForward(h, embed, y, true);
        be.synchronize();
        return y;
    }

    @Benchmark
    public Tensor backward() {
        Ops.filmBackward(dy, h, embed, dh, dembed, true);
        be.synchronize();
        return dembed;
    }

    @Benchmark
    public Tensor composedForward() {
        Ops.splitHeads(embed.view(b, 1, 2 * c), 0, scale.view(b, 1, 1, c), false);
        Ops.splitHeads(embed.view(b, 1, 2 * c), c, shift.view(b, 1, 1, c), false);
        Ops.matmul(scale.view(b * c, 1), false, ones, false, null, expanded.view(b * c, t));
        Ops.mul(expanded, h, y);
        Ops.matmul(shift.view(b * c, 1), false, ones, false, null, y.view(b * c, t), 1f, 1f);
        be.synchronize();
        return y;
    }

    @Benchmark
    public Tensor composedBackward() {
        Tensor onesCol = ones.view(t, 1);
        Ops.mul(dy, expanded, dh);
        Ops.mul(dy, h, product);
        Ops.matmul(product.view(b * c, t), false, onesCol, false, null, dscale.view(b * c, 1));
        Ops.matmul(dy.view(b * c, t), false, onesCol, false, null, dshift.view(b * c, 1));
        Ops.mergeHeads(dscale.view(b, 1, 1, c), dembed.view(b, 1, 2 * c), 0, false);
        Ops.mergeHeads(dshift.view(b, 1, 1, c), dembed.view(b, 1, 2 * c), c, false);
        be.synchronize();
        return dembed;
    }

    /**
     * Over n = B C T elements (the (B, 2C) embedding and its gradient, n / T each, aside). FLOPs: forward a multiply
     * and an add, 2 n; backward dx = s dy and the two sums over T, 3 n; the composition counts its matmuls' 2 per
     * element: 5 n forward, 6 n backward. Bytes (least traffic, each read once): forward x read and y written, 8 n;
     * backward dy and x read, dx written, 12 n. The composition forward writes the expanded scale (4 n), reads it and
     * h and writes y (12 n), reads and writes y again (8 n): 24 n; backward two muls (24 n) and two reductions
     * reading a (B C, T) operand each (8 n): 32 n. The tensors are 0.5 to 4 MiB, in L2 or L3 between calls, so the
     * achieved GB/s can exceed the DRAM copy ceiling.
     *
     * @param method "forward", "backward", "composedForward" or "composedBackward"
     * @param params the JMH parameters of the run (site, ...)
     */
    static Work.Amount work(String method, Map<String, String> params) {
        int[] d = DpSizes.unet(params.get("site"));
        double n = DpSizes.product(d);
        String shape = String.format("h (%d, %d, %d), embed (%d, %d)", d[0], d[1], d[2], d[0], 2 * d[1]);
        switch (method) {
            case "forward":
                return new Work.Amount(shape, 2 * n, F * 2 * n, "flops = 2 n; bytes = 4 (x + y)");
            case "backward":
                return new Work.Amount(shape, 3 * n, F * 3 * n, "flops = 3 n; bytes = 4 (dy + x + dx)");
            case "composedForward":
                return new Work.Amount(shape + ", split + matmul + mul + matmul", 5 * n, F * 6 * n,
                        "flops = 5 n; bytes = 4 (sx, then sx + h + y, then 2 y)");
            case "composedBackward":
                return new Work.Amount(shape + ", 2 mul + 2 matmul + merge", 6 * n, F * 8 * n,
                        "flops = 6 n; bytes = 4 (2 (dy + sx|h + out) + 2 (B C, T) reads)");
            default:
                throw Work.noNapkinMath("FilmBenchmarks." + method);
        }
    }
}
