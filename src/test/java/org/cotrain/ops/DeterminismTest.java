package org.cotrain.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.cotrain.nativelib.CpuKernels;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The same seed gives the same bits: a chain of ops that looks like one attention block's forward and backward,
 * with dropout and a loss, run twice, and run with one thread and with all threads on the CPU.
 */
class DeterminismTest {
    private static final int B = 5, NH = 2, T = 7, HS = 9, C = NH * HS;

    @Test
    void cpuRepeatsBitForBitAcrossRunsAndThreadCounts() {
        Backend cpu = OpTesting.cpu();
        float[][] first = block(cpu, 1234);
        assertAllEqual(first, block(cpu, 1234));
        int threads = CpuKernels.ct_cpu_get_num_threads();
        try {
            CpuKernels.ct_cpu_set_num_threads(1);
            assertAllEqual(first, block(cpu, 1234));
        } finally {
            CpuKernels.ct_cpu_set_num_threads(threads);
        }
    }

    @Test
    void cudaRepeatsBitForBit() {
        Backend cuda = OpTesting.cudaOrSkip();
        assertAllEqual(block(cuda, 99), block(cuda, 99));
    }

    private static void assertAllEqual(float[][] expected, float[][] actual) {
        for (int i = 0; i < expected.length; i++) {
            assertArrayEquals(expected[i], actual[i], "output " + i + " differs between identical runs");
        }
    }

    /** x -> layernorm -> q,k,v projection -> causal attention with dropout -> mse to a random target; backward. */
    private static float[][] block(Backend b, long seed) {
        try (Tensor x = b.empty(B, T, C); Tensor w = b.empty(3 * C, C); Tensor lnW = b.empty(C);
             Tensor lnB = b.empty(C); Tensor h = b.empty(B, T, C); Tensor mean = b.empty(B * T);
             Tensor rstd = b.empty(B * T); Tensor qkv = b.empty(B, T, 3 * C); Tensor q = b.empty(B, NH, T, HS);
             Tensor k = b.empty(B, NH, T, HS); Tensor v = b.empty(B, NH, T, HS); Tensor out = b.empty(B, NH, T, HS);
             Tensor lse = b.empty(B, NH, T); Tensor target = b.empty(B, NH, T, HS); Tensor loss = b.empty(1);
             Tensor dloss = b.of(new float[] {1f}, 1); Tensor dout = b.zeros(B, NH, T, HS);
             Tensor dq = b.zeros(B, NH, T, HS); Tensor dk = b.zeros(B, NH, T, HS); Tensor dv = b.zeros(B, NH, T, HS);
             Tensor norm = b.empty(1)) {
            Ops.randNormal(x, seed, 0);
            Ops.randNormal(w, seed, 10_000);
            Ops.randNormal(lnW, seed, 20_000);
            Ops.randNormal(lnB, seed, 30_000);
            Ops.randNormal(target, seed, 40_000);
            Ops.layerNormForward(x, lnW, lnB, h, mean, rstd, 1e-5f);
            Ops.matmul(h, false, w, true, null, qkv);
            // The projection is used as q, k and v directly (a reshape, not the model's head split): enough to
            // feed the attention kernel values that depend on every earlier op.
            float[] all = qkv.toFloatArray();
            int n = B * T * C;
            q.copyFrom(java.util.Arrays.copyOfRange(all, 0, n));
            k.copyFrom(java.util.Arrays.copyOfRange(all, n, 2 * n));
            v.copyFrom(java.util.Arrays.copyOfRange(all, 2 * n, 3 * n));
            Ops.attentionForward(q, k, v, null, out, lse, (float) (1 / Math.sqrt(HS)), true, 0.1f, seed, 50_000);
            Ops.mseForward(out, target, null, loss);
            Ops.mseBackward(out, target, null, dloss, dout);
            Ops.attentionBackward(dout, q, k, v, null, out, lse, dq, dk, dv, (float) (1 / Math.sqrt(HS)), true, 0.1f,
                    seed, 50_000);
            Ops.sumSquares(dq, norm);
            return new float[][] {h.toFloatArray(), qkv.toFloatArray(), out.toFloatArray(), loss.toFloatArray(),
                dq.toFloatArray(), dk.toFloatArray(), dv.toFloatArray(), norm.toFloatArray()};
        }
    }
}
