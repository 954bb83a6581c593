package org.cotrain.benchmarks;

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
 * The spatial-softmax keypoint head (spatial_softmax.h) of the image encoder: batch 256, 32 keypoint maps of
 * map x map. ResNet18 turns an 84x84 or 96x96 crop into 3x3 maps; 6x6 and 12x12 are larger images or a trunk with
 * less downsampling. Temperature 1. The backward accumulates into dx.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class SpatialSoftmaxBenchmarks extends KernelState {

    /** H = W of the keypoint maps. */
    @Param({"3", "6", "12"})
    public int map;

    private Tensor x;
    private Tensor out;
    private Tensor dout;
    private Tensor dx;

    @Setup(Level.Trial)
    public void setup() {
        open();
        x = randn(1, DpSizes.BATCH, DpSizes.KEYPOINTS, map, map);
        out = zeros(DpSizes.BATCH, DpSizes.KEYPOINTS, 2);
        dout = randn(2, DpSizes.BATCH, DpSizes.KEYPOINTS, 2);
        dx = zeros(DpSizes.BATCH, DpSizes.KEYPOINTS, map, map);
        forward(); // out for the backward
        ready();
    }

    @Benchmark
    public Tensor forward() {
        Ops.spatialSoftmaxForward(x, out, 1f);
        be.synchronize();
        return out;
    }

    @Benchmark
    public Tensor backward() {
        Ops.spatialSoftmaxBackward(x, out, dout, dx, 1f);
        be.synchronize();
        return dx;
    }
}
