package org.cotrain.benchmarks;

import static org.cotrain.benchmarks.Work.F;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.cotrain.backend.CpuBackend;
import org.cotrain.backend.CpuBackend.ConvStrategy;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The convolutions of DP's image encoder (conv2d.h) at batch 64 on 84x84 crops: ResNet18's stem, a 3x3 of each
 * stage, layer2's strided 3x3 and 1x1 downsample, and the keypoint head's 1x1 (DpSizes.conv). On the CPU the
 * strategy parameter forces one of conv2d.h's strategies (auto, per_sample, batched): the measurement behind the
 * automatic choice (benchmarks/RESULTS.md). On the GPU it is ignored (cuDNN picks its algorithm). The backward
 * calls accumulate, as in training.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ConvBenchmarks extends KernelState {

    @Param({"stem", "layer1", "layer2_first", "layer2_down", "layer2", "layer3", "layer4", "keypoints"})
    public String layer;

    @Param({"auto"})
    public String strategy;

    private Tensor x;
    private Tensor w;
    private Tensor bias;
    private Tensor y;
    private Tensor dy;
    private Tensor dx;
    private Tensor dw;
    private Tensor db;
    private int stride;
    private int padding;

    @Setup(Level.Trial)
    public void setup() {
        open();
        if (backend.equals("cpu")) {
            CpuBackend.setConvStrategy(ConvStrategy.valueOf(strategy.toUpperCase(Locale.ROOT)));
        }
        int[] d = DpSizes.conv(layer); // {N, CI, H, W, CO, K, S, P}
        stride = d[6];
        padding = d[7];
        int ho = Ops.convOutputSize(d[2], d[5], stride, padding);
        int wo = Ops.convOutputSize(d[3], d[5], stride, padding);
        x = randn(1, d[0], d[1], d[2], d[3]);
        w = randn(2, d[4], d[1], d[5], d[5]);
        bias = layer.equals("keypoints") ? randn(3, d[4]) : null;
        y = zeros(d[0], d[4], ho, wo);
        dy = randn(4, d[0], d[4], ho, wo);
        dx = zeros(d[0], d[1], d[2], d[3]);
        dw = zeros(d[4], d[1], d[5], d[5]);
        db = bias == null ? null : zeros(d[4]);
        forward(); // warms the CPU scratch buffers and cuDNN's algorithm choice
        backwardData();
        backwardWeight();
        ready();
    }

    @TearDown(Level.Trial)
    public void restoreStrategy() {
        if (backend.equals("cpu")) {
            CpuBackend.setConvStrategy(ConvStrategy.AUTO);
        }
    }

    @Benchmark
    public Tensor forward() {
        Ops.conv2dForward(x, w, bias, y, stride, padding);
        be.synchronize();
        return y;
    }

    @Benchmark
    public Tensor backwardData() {
        Ops.conv2dBackwardData(dy, w, dx, stride, padding);
        be.synchronize();
        return dx;
    }

    @Benchmark
    public Tensor backwardWeight() {
        Ops.conv2dBackwardWeight(dy, x, dw, db, stride, padding);
        be.synchronize();
        return dw;
    }

    /**
     * A convolution {N, CI, H, W, CO, K, S, P} (DpSizes.conv) as the GEMM it is: M = CO, N = N Ho Wo, K = CI K K, so
     * 2 N CO Ho Wo CI K K FLOPs in each of the three directions (the bias add and the bias gradient, N CO Ho Wo, are
     * negligible). Bytes: forward reads x and w and writes y; backwardData reads dy and w and reads and writes dx;
     * backwardWeight reads dy and x and reads and writes dw. im2col's own traffic (K times the input, the price of
     * using a GEMM) is not counted: it is what an implementation adds, not what the op needs.
     *
     * @param method "forward", "backwardData" or "backwardWeight"
     * @param params the JMH parameters of the run (layer, strategy, ...)
     */
    static Work.Amount work(String method, Map<String, String> params) {
        if (!method.equals("forward") && !method.equals("backwardData") && !method.equals("backwardWeight")) {
            throw Work.noNapkinMath("ConvBenchmarks." + method);
        }
        String layer = params.get("layer");
        String strategy = params.getOrDefault("strategy", "auto");
        int[] d = DpSizes.conv(layer);
        int ho = (d[2] + 2 * d[7] - d[5]) / d[6] + 1;
        int wo = (d[3] + 2 * d[7] - d[5]) / d[6] + 1;
        double x = (double) d[0] * d[1] * d[2] * d[3];
        double w = (double) d[4] * d[1] * d[5] * d[5];
        double y = (double) d[0] * d[4] * ho * wo;
        double flops = 2.0 * y * d[1] * d[5] * d[5];
        String shape = String.format("%s, %s: x (%d, %d, %d, %d) * w (%d, %d, %d, %d) /%d -> %dx%d", layer, strategy,
                d[0], d[1], d[2], d[3], d[4], d[1], d[5], d[5], d[6], ho, wo);
        switch (method) {
            case "forward":
                return new Work.Amount(shape, flops, F * (x + w + y),
                        "flops = 2 N CO Ho Wo CI K^2; bytes = 4 (x + w + y)");
            case "backwardData":
                return new Work.Amount(shape, flops, F * (y + w + 2 * x),
                        "flops = 2 N CO Ho Wo CI K^2; bytes = 4 (dy + w + 2 dx)");
            default:
                return new Work.Amount(shape, flops, F * (y + x + 2 * w),
                        "flops = 2 N CO Ho Wo CI K^2; bytes = 4 (dy + x + 2 dw)");
        }
    }
}
