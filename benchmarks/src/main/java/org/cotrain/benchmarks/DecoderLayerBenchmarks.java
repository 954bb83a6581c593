package org.cotrain.benchmarks;

import java.util.concurrent.TimeUnit;
import org.cotrain.nn.DropoutSites;
import org.cotrain.nn.TransformerDecoderLayer;
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
 * One DP-T decoder layer's evaluation forward as sampling runs it (16 action tokens attending to 3 condition
 * tokens, width 256, 4 heads, causal self-attention, DP's memory mask): {@code fused}, the single native call of
 * decoder_inference.h on weights packed once in setup, against {@code composed}, the layer's ~25 single ops
 * (TransformerDecoderLayer.forward). Batch 1 is one denoising step of batch-1 sampling (a step runs 8 layers).
 * The fused call overwrites its input, so both forms read x once per call from the same buffer (the values drift,
 * the work does not).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class DecoderLayerBenchmarks extends KernelState {

    @Param({"1", "4"})
    public int batch;

    private TransformerDecoderLayer layer;
    private Tensor x;
    private Tensor memory;
    private Tensor mask;

    @Setup(Level.Trial)
    public void setup() {
        open();
        int t = DpSizes.ACTION_TOKENS;
        int s = DpSizes.COND_TOKENS;
        layer = new TransformerDecoderLayer(be, "layer.", DpSizes.WIDTH, DpSizes.HEADS, 0.01f, new DropoutSites());
        long seed = 10;
        for (var p : layer.parameters()) { // N(0, 0.05^2): activations stay of order 1 over repeated calls
            float[] v = randn(seed++, p.value().shape()).toFloatArray();
            for (int i = 0; i < v.length; i++) {
                v[i] *= 0.05f;
            }
            p.value().copyFrom(v);
        }
        layer.packForInference();
        x = randn(1, batch, t, DpSizes.WIDTH);
        memory = randn(2, batch, s, DpSizes.WIDTH);
        float[] m = new float[t * s];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < s; j++) {
                m[i * s + j] = i >= j - 1 ? 0f : Float.NEGATIVE_INFINITY;  // DP's memory mask
            }
        }
        mask = own(be.of(m, t, s));
        ready();
    }

    @TearDown(Level.Trial)
    public void closeLayer() {
        layer.close();
    }

    @Benchmark
    public Tensor fused() {
        layer.forwardInference(x, memory, true, mask);
        be.synchronize();
        return x;
    }

    @Benchmark
    public Tensor composed() {
        Tensor y = layer.forward(x, memory, true, mask, false, 0L);
        be.synchronize();
        return y;
    }
}
