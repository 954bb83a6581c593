package org.cotrain.benchmarks;

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
}
