package org.cotrain.benchmarks;

import static org.cotrain.benchmarks.Work.F;

import java.util.Map;
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
public class DecoderInferenceBenchmarks extends KernelState {

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

    /**
     * One DP-T decoder layer's evaluation forward (C 256, 4 heads, T 16 action tokens, S 3 condition tokens) at
     * batch B, the same work for fused and composed. FLOPs: the products, 2 per multiply-add: per action token 3C^2
     * (q, k, v) + C^2 (self out) + C^2 (cross q) + C^2 (cross out) + 8 C^2 (FFN) = 14 C^2, per condition token 2 C^2
     * (cross k, v); attention 4 T T HS + 4 T S HS per (b, head); norms and GELU are left out. Bytes: the weights read
     * once (16 C^2 + 13 C floats), x read and written, the memory read.
     *
     * @param method "fused" or "composed"
     * @param params the JMH parameters of the run (batch, ...)
     */
    static Work.Amount work(String method, Map<String, String> params) {
        switch (method) {
            case "fused":
            case "composed": {
                int b = Integer.parseInt(params.get("batch"));
                double c = DpSizes.WIDTH;
                double t = DpSizes.ACTION_TOKENS;
                double s = DpSizes.COND_TOKENS;
                double hs = c / DpSizes.HEADS;
                double flops = 2 * b * (14 * c * c * t + 2 * c * c * s) + 4 * b * DpSizes.HEADS * (t * t + t * s) * hs;
                double bytes = F * (16 * c * c + 13 * c + 2 * b * t * c + b * s * c);
                return new Work.Amount(String.format("x (%d, %d, %d), memory (%d, %d, %d)", b, (int) t, (int) c, b,
                        (int) s, (int) c), flops, bytes, "flops = 2 B (14 C^2 T + 2 C^2 S) + 4 B NH (T^2 + T S) HS; "
                        + "bytes = 4 (16 C^2 + 13 C + 2 B T C + B S C)");
            }
            default:
                throw Work.noNapkinMath("DecoderInferenceBenchmarks." + method);
        }
    }
}
