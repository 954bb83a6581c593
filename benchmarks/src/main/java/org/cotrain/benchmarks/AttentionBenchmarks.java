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
 * The fused attention kernel (attention.h) at DP-T training size: batch 256, 4 heads of size 64,
 * <ul>
 *   <li>self: causal self-attention over the 16 action tokens (q, k, v (256, 4, 16, 64));</li>
 *   <li>cross: the action tokens attending to the 3 condition tokens (k, v (256, 4, 3, 64)) under DP's
 *       cross-attention mask, which lets action token t see condition token s when t >= s - 1.</li>
 * </ul>
 * pDrop is the dropout on the attention weights (DP-T trains with p_drop_attn = 0.3); the dropout mask is drawn from
 * Philox inside the kernel, in the forward and again in the backward. The backward accumulates into dq, dk and dv
 * on every call (as training does once per step), which changes nothing in the work done.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class AttentionBenchmarks extends KernelState {

    @Param({"self", "cross"})
    public String attn;

    @Param({"0", "0.3"})
    public float pDrop;

    private static final long SEED = 1234;

    private Tensor q;
    private Tensor k;
    private Tensor v;
    private Tensor mask;
    private Tensor out;
    private Tensor lse;
    private Tensor dout;
    private Tensor dq;
    private Tensor dk;
    private Tensor dv;
    private boolean causal;
    private float scale;

    @Setup(Level.Trial)
    public void setup() {
        open();
        int[] d = DpSizes.attention(attn); // {B, NH, Tq, Tk, HS}
        int b = d[0];
        int nh = d[1];
        int tq = d[2];
        int tk = d[3];
        int hs = d[4];
        q = randn(1, b, nh, tq, hs);
        k = randn(2, b, nh, tk, hs);
        v = randn(3, b, nh, tk, hs);
        causal = attn.equals("self");
        mask = causal ? null : own(be.of(crossMask(tq, tk), tq, tk));
        out = zeros(b, nh, tq, hs);
        lse = zeros(b, nh, tq);
        dout = randn(4, b, nh, tq, hs);
        dq = zeros(b, nh, tq, hs);
        dk = zeros(b, nh, tk, hs);
        dv = zeros(b, nh, tk, hs);
        scale = (float) (1 / Math.sqrt(hs));
        forward(); // out and lse for the backward
        ready();
    }

    /** DP-T's memory mask: 0 where action token t may see condition token s (t >= s - 1), -inf elsewhere. */
    static float[] crossMask(int tq, int tk) {
        float[] m = new float[tq * tk];
        for (int t = 0; t < tq; t++) {
            for (int s = 0; s < tk; s++) {
                m[t * tk + s] = t >= s - 1 ? 0f : Float.NEGATIVE_INFINITY;
            }
        }
        return m;
    }

    @Benchmark
    public Tensor forward() {
        Ops.attentionForward(q, k, v, mask, out, lse, scale, causal, pDrop, SEED, 0);
        be.synchronize();
        return out;
    }

    @Benchmark
    public Tensor backward() {
        Ops.attentionBackward(dout, q, k, v, mask, out, lse, dq, dk, dv, scale, causal, pDrop, SEED, 0);
        be.synchronize();
        return dq;
    }
}
