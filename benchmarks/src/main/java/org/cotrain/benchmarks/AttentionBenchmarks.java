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

    /**
     * Attention, per (batch, head), with Tq queries and Tk keys of size HS, counted dense (the causal mask would let
     * a kernel skip up to half of the self-attention products; the count stays the dense one, as FlashAttention's).
     * Forward: S = Q K^T (2 Tq Tk HS) and O = P V (2 Tq Tk HS): 4 B NH Tq Tk HS; the softmax, O(Tq Tk), is
     * negligible beside that. Bytes: q, k, v read, out and lse written, the (Tq, Tk) mask read once.
     * Backward: S = Q K^T recomputed, dV += P^T dO, dP = dO V^T, dQ += dS K, dK += dS^T Q: 10 B NH Tq Tk HS.
     * Bytes: dout, q, out, k, v, lse and the mask read, dq, dk, dv read and written.
     *
     * @param method "forward" or "backward"
     * @param params the JMH parameters of the run (attn, pDrop, ...)
     */
    static Work.Amount work(String method, Map<String, String> params) {
        if (!method.equals("forward") && !method.equals("backward")) {
            throw Work.noNapkinMath("AttentionBenchmarks." + method);
        }
        String attn = params.get("attn");
        int[] d = DpSizes.attention(attn);
        double bh = (double) d[0] * d[1];
        double tq = d[2];
        double tk = d[3];
        double hs = d[4];
        boolean self = attn.equals("self");
        double maskBytes = self ? 0 : F * tq * tk;
        String shape = String.format("%s: q (%d, %d, %d, %d), k/v (%d, %d, %d, %d), %s, p_drop %s", attn, d[0], d[1],
                d[2], d[4], d[0], d[1], d[3], d[4], self ? "causal" : "DP cross mask", params.get("pDrop"));
        if (method.equals("forward")) {
            return new Work.Amount(shape, 4 * bh * tq * tk * hs,
                    F * bh * (2 * tq * hs + 2 * tk * hs + tq) + maskBytes,
                    "flops = 4 B NH Tq Tk HS; bytes = 4 (B NH (2 Tq HS + 2 Tk HS + Tq) + mask)");
        }
        return new Work.Amount(shape, 10 * bh * tq * tk * hs, F * bh * (5 * tq * hs + 6 * tk * hs + tq) + maskBytes,
                "flops = 10 B NH Tq Tk HS; bytes = 4 (B NH (5 Tq HS + 6 Tk HS + Tq) + mask)");
    }
}
