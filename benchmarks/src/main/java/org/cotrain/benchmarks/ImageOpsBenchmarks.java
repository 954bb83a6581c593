package org.cotrain.benchmarks;

import static org.cotrain.benchmarks.Work.F;

import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The image encoder's memory-bound ops at batch 64: the uint8 96x96x3 -> normalised float 3x84x84 crop (image.h, with
 * random offsets drawn by randomCropOffsets first, as training does), the stem's 3x3/2 max pool on 64 channels of
 * 42x42 with its backward (maxpool.h), and the residual join relu(a + b) on layer1's (64, 64, 21, 21) maps, fused
 * (activation.h) and as an add followed by a ReLU (the two passes it replaces).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ImageOpsBenchmarks extends KernelState {

    private Tensor images;
    private Tensor offsets;
    private Tensor cropped;
    private Tensor stem;
    private Tensor pooled;
    private Tensor argmax;
    private Tensor dPooled;
    private Tensor dStem;
    private Tensor a;
    private Tensor b;
    private Tensor sum;
    private Tensor joined;

    @Setup(Level.Trial)
    public void setup() {
        open();
        int n = DpSizes.IMAGE_BATCH;
        int s = DpSizes.IMAGE_SIZE;
        byte[] frames = new byte[n * s * s * 3];
        new Random(1).nextBytes(frames);
        images = own(be.of(frames, n, s, s, 3));
        offsets = own(be.zeros(DType.I32, n, 2));
        cropped = zeros(n, 3, DpSizes.CROP, DpSizes.CROP);
        int[] p = DpSizes.maxPool();
        stem = randn(2, p);
        int po = Ops.convOutputSize(p[2], 3, 2, 1);
        pooled = zeros(p[0], p[1], po, po);
        argmax = own(be.zeros(DType.I32, p[0], p[1], po, po));
        dPooled = randn(3, p[0], p[1], po, po);
        dStem = zeros(p);
        int[] j = DpSizes.residual();
        a = randn(4, j);
        b = randn(5, j);
        sum = zeros(j);
        joined = zeros(j);
        maxPoolForward();
        ready();
    }

    @Benchmark
    public Tensor cropToFloat() {
        Ops.randomCropOffsets(offsets, DpSizes.IMAGE_SIZE, DpSizes.IMAGE_SIZE, DpSizes.CROP, DpSizes.CROP, 7L, 0L);
        Ops.imageToFloat(images, offsets, cropped);
        be.synchronize();
        return cropped;
    }

    @Benchmark
    public Tensor maxPoolForward() {
        Ops.maxPool2dForward(stem, pooled, argmax, 3, 2, 1);
        be.synchronize();
        return pooled;
    }

    @Benchmark
    public Tensor maxPoolBackward() {
        Ops.maxPool2dBackward(dPooled, argmax, dStem, 3, 2, 1);
        be.synchronize();
        return dStem;
    }

    @Benchmark
    public Tensor addReluFused() {
        Ops.addReluForward(a, b, joined);
        be.synchronize();
        return joined;
    }

    @Benchmark
    public Tensor addReluUnfused() {
        Ops.add(a, b, sum);
        Ops.reluForward(sum, joined);
        be.synchronize();
        return joined;
    }

    /**
     * cropToFloat: per output element a divide, a multiply and a subtract (3); bytes: the cropped uint8 pixels read
     * (1 byte each) and the floats written (4). maxPool: 9 comparisons per output (3x3 windows); forward bytes: x
     * read, y and argmax written; backward: dy and argmax read, dx read and written. addRelu over n elements: fused,
     * an add and a max (2 n) reading a and b and writing y (12 n bytes); unfused, the same FLOPs but the sum written
     * and read back (20 n bytes).
     *
     * @param method "cropToFloat", "maxPoolForward", "maxPoolBackward", "addReluFused" or "addReluUnfused"
     * @param params the JMH parameters of the run (none used)
     */
    static Work.Amount work(String method, Map<String, String> params) {
        switch (method) {
            case "cropToFloat": {
                double n = (double) DpSizes.IMAGE_BATCH * 3 * DpSizes.CROP * DpSizes.CROP;
                String shape = String.format("uint8 (%d, %d, %d, 3) -> (%d, 3, %d, %d), random offsets",
                        DpSizes.IMAGE_BATCH, DpSizes.IMAGE_SIZE, DpSizes.IMAGE_SIZE, DpSizes.IMAGE_BATCH,
                        DpSizes.CROP, DpSizes.CROP);
                return new Work.Amount(shape, 3 * n, 5 * n,
                        "flops = 3 n; bytes = n (uint8 read) + 4 n (float written)");
            }
            case "maxPoolForward":
            case "maxPoolBackward": {
                int[] p = DpSizes.maxPool();
                double in = DpSizes.product(p);
                double out = in / 4;
                String shape = String.format("x (%d, %d, %d, %d), 3x3 / 2, padding 1", p[0], p[1], p[2], p[3]);
                if (method.equals("maxPoolForward")) {
                    return new Work.Amount(shape, 9 * out, F * (in + 2 * out),
                            "flops = 9 out; bytes = 4 (in + 2 out)");
                }
                return new Work.Amount(shape, out, F * (2 * out + 2 * in), "flops = out; bytes = 4 (2 out + 2 in)");
            }
            case "addReluFused":
            case "addReluUnfused": {
                int[] r = DpSizes.residual();
                double n = DpSizes.product(r);
                String shape = String.format("a, b (%d, %d, %d, %d)", r[0], r[1], r[2], r[3]);
                if (method.equals("addReluFused")) {
                    return new Work.Amount(shape, 2 * n, F * 3 * n, "flops = 2 n; bytes = 4 (a + b + y)");
                }
                return new Work.Amount(shape + ", add then relu", 2 * n, F * 5 * n,
                        "flops = 2 n; bytes = 4 (a + b + sum, then sum + y)");
            }
            default:
                throw Work.noNapkinMath("ImageOpsBenchmarks." + method);
        }
    }
}
