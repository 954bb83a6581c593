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
}
