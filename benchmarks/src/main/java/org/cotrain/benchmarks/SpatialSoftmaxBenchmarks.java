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

    /**
     * Spatial softmax over n = B K maps of S = H W positions.
     * Forward, per position: max (1), x / T - max (2), exp (1), the sum (1), and the two expectations P gx, P gy
     * (2 multiply-adds, 4): about 9 S n FLOPs. Bytes: x read, out (n, 2) written.
     * Backward, per position: P recomputed (max, scale, exp, sum: 5, plus 1 to normalise), the two centred grid
     * terms and their weights (6) and the accumulate (2): about 14 S n. Bytes: x read, out and dout (n, 2) read,
     * dx read and written.
     *
     * @param method "forward" or "backward"
     * @param params the JMH parameters of the run (map, ...)
     */
    static Work.Amount work(String method, Map<String, String> params) {
        if (!method.equals("forward") && !method.equals("backward")) {
            throw Work.noNapkinMath("SpatialSoftmaxBenchmarks." + method);
        }
        int map = Integer.parseInt(params.get("map"));
        double n = (double) DpSizes.BATCH * DpSizes.KEYPOINTS;
        double s = (double) map * map;
        String shape = String.format("x (%d, %d, %d, %d)", DpSizes.BATCH, DpSizes.KEYPOINTS, map, map);
        if (method.equals("forward")) {
            return new Work.Amount(shape, 9 * s * n, F * (s * n + 2 * n), "flops ~ 9 n H W; bytes = 4 (n H W + 2 n)");
        }
        return new Work.Amount(shape, 14 * s * n, F * (3 * s * n + 4 * n),
                "flops ~ 14 n H W; bytes = 4 (3 n H W + 4 n)");
    }
}
