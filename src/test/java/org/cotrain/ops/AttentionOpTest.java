package org.cotrain.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.cotrain.random.Philox;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Fused attention (attention.h): a float64 reference written from the header's math, checked by finite differences,
 * then the CPU op against the reference and the CUDA op against the CPU op.
 */
class AttentionOpTest {
    private static final double CPU_TOL = 1e-5;
    private static final double CUDA_TOL = 1e-4;

    private enum MaskKind {
        NONE,
        /** Diffusion Policy's cross-attention mask: query t sees condition s when t >= s - 1, else -inf. */
        DP_CROSS,
        /** A random additive mask (finite everywhere). */
        RANDOM
    }

    /** One attention problem; inputs are float values held in doubles so that every backend sees the same numbers. */
    private record Case(String name, int b, int nh, int tq, int tk, int hs, boolean causal, double[] mask, float pDrop,
                        long seed, long offset, float scale, double[] q, double[] k, double[] v, double[] dout,
                        double[] dq0, double[] dk0, double[] dv0) {
        int nq() {
            return b * nh * tq * hs;
        }

        int nk() {
            return b * nh * tk * hs;
        }
    }

    private static double[] asFloat(double[] x) {
        return OpTesting.toDouble(OpTesting.toFloat(x));
    }

    /** A case with random inputs; maskedRow >= 0 makes that query row see no key at all (mask -inf everywhere). */
    private static Case make(String name, int b, int nh, int tq, int tk, int hs, boolean causal, MaskKind kind,
                             int maskedRow, float pDrop, long rng) {
        int nq = b * nh * tq * hs;
        int nk = b * nh * tk * hs;
        double[] mask = null;
        if (kind != MaskKind.NONE || maskedRow >= 0) {
            mask = new double[tq * tk];
            double[] noise = OpTesting.randn(rng + 7, tq * tk);
            for (int t = 0; t < tq; t++) {
                for (int s = 0; s < tk; s++) {
                    double m = 0;
                    if (kind == MaskKind.DP_CROSS) {
                        m = t >= s - 1 ? 0 : Double.NEGATIVE_INFINITY;
                    } else if (kind == MaskKind.RANDOM) {
                        m = 0.5 * noise[t * tk + s];
                    }
                    if (t == maskedRow) {
                        m = Double.NEGATIVE_INFINITY;
                    }
                    mask[t * tk + s] = m;
                }
            }
            mask = asFloat(mask);
        }
        float scale = (float) (1.0 / Math.sqrt(hs));
        return new Case(name, b, nh, tq, tk, hs, causal, mask, pDrop, 0x5eed0000L + rng, 1000 + 17 * rng, scale,
                asFloat(OpTesting.randn(rng, nq)), asFloat(OpTesting.randn(rng + 1, nk)),
                asFloat(OpTesting.randn(rng + 2, nk)), asFloat(OpTesting.randn(rng + 3, nq)),
                asFloat(OpTesting.randn(rng + 4, nq)), asFloat(OpTesting.randn(rng + 5, nk)),
                asFloat(OpTesting.randn(rng + 6, nk)));
    }

    // ---- float64 reference ------------------------------------------------------------------------------------------

    /** S[i, j] of one (batch, head) in float64: scale q_i . k_j + mask, -inf where causal hides j > i. */
    private static double score(Case c, double[] q, double[] k, int bh, int i, int j) {
        if (c.causal && j > i) {
            return Double.NEGATIVE_INFINITY;
        }
        double dot = 0;
        for (int d = 0; d < c.hs; d++) {
            dot += q[(bh * c.tq + i) * c.hs + d] * k[(bh * c.tk + j) * c.hs + d];
        }
        double s = (double) c.scale * dot;
        return c.mask == null ? s : s + c.mask[i * c.tk + j];
    }

    /** lse[i] = log sum_j exp(S[i, j]) (max subtracted first); -inf when every key of the row is masked. */
    private static double logSumExp(Case c, double[] q, double[] k, int bh, int i) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < c.tk; j++) {
            max = Math.max(max, score(c, q, k, bh, i, j));
        }
        if (max == Double.NEGATIVE_INFINITY) {
            return max;
        }
        double sum = 0;
        for (int j = 0; j < c.tk; j++) {
            sum += Math.exp(score(c, q, k, bh, i, j) - max);
        }
        return max + Math.log(sum);
    }

    /** P[i, :] = softmax(S[i, :]) = exp(S[i, :] - lse[i]), or null when every key of the row is masked. */
    private static double[] probabilities(Case c, double[] q, double[] k, int bh, int i) {
        double lse = logSumExp(c, q, k, bh, i);
        if (lse == Double.NEGATIVE_INFINITY) {
            return null;
        }
        double[] p = new double[c.tk];
        for (int j = 0; j < c.tk; j++) {
            p[j] = Math.exp(score(c, q, k, bh, i, j) - lse);
        }
        return p;
    }

    /** The dropout multiplier of P[i, j]: keep / (1 - p), with the header's index formula. */
    private static double dropScale(Case c, int bh, int i, int j) {
        long idx = ((long) bh * c.tq + i) * c.tk + j;
        return Philox.keep(c.seed, c.offset + idx, c.pDrop) ? 1.0 / (1.0 - c.pDrop) : 0.0;
    }

    /** Returns {out (B, NH, Tq, HS), lse (B, NH, Tq)}. */
    private static double[][] referenceForward(Case c, double[] q, double[] k, double[] v) {
        double[] out = new double[c.nq()];
        double[] lse = new double[c.b * c.nh * c.tq];
        for (int bh = 0; bh < c.b * c.nh; bh++) {
            for (int i = 0; i < c.tq; i++) {
                lse[bh * c.tq + i] = logSumExp(c, q, k, bh, i);
                double[] p = probabilities(c, q, k, bh, i);
                if (p == null) {
                    continue; // a fully masked row: out stays 0, lse is -inf
                }
                for (int j = 0; j < c.tk; j++) {
                    double pd = p[j] * dropScale(c, bh, i, j);
                    for (int d = 0; d < c.hs; d++) {
                        out[(bh * c.tq + i) * c.hs + d] += pd * v[(bh * c.tk + j) * c.hs + d];
                    }
                }
            }
        }
        return new double[][] {out, lse};
    }

    /**
     * Returns the gradients {dq, dk, dv} (not accumulated) of sum(dout * out), by the textbook chain rule:
     * dPd = dO V^T, dP = dPd * dropScale, dS = P * (dP - rowsum(P * dP)).
     */
    private static double[][] referenceBackward(Case c, double[] q, double[] k, double[] v, double[] dout) {
        double[] dq = new double[c.nq()];
        double[] dk = new double[c.nk()];
        double[] dv = new double[c.nk()];
        for (int bh = 0; bh < c.b * c.nh; bh++) {
            for (int i = 0; i < c.tq; i++) {
                double[] p = probabilities(c, q, k, bh, i);
                if (p == null) {
                    continue;
                }
                double[] dp = new double[c.tk];
                double rowsum = 0;
                for (int j = 0; j < c.tk; j++) {
                    double drop = dropScale(c, bh, i, j);
                    double dpd = 0;
                    for (int d = 0; d < c.hs; d++) {
                        double g = dout[(bh * c.tq + i) * c.hs + d];
                        dpd += g * v[(bh * c.tk + j) * c.hs + d];
                        dv[(bh * c.tk + j) * c.hs + d] += p[j] * drop * g;
                    }
                    dp[j] = dpd * drop;
                    rowsum += p[j] * dp[j];
                }
                for (int j = 0; j < c.tk; j++) {
                    double ds = p[j] * (dp[j] - rowsum);
                    for (int d = 0; d < c.hs; d++) {
                        dq[(bh * c.tq + i) * c.hs + d] += c.scale * ds * k[(bh * c.tk + j) * c.hs + d];
                        dk[(bh * c.tk + j) * c.hs + d] += c.scale * ds * q[(bh * c.tq + i) * c.hs + d];
                    }
                }
            }
        }
        return new double[][] {dq, dk, dv};
    }

    // ---- running the op -----------------------------------------------------------------------------------------

    /** What one backend computed: out, lse, and the gradients with the prefill subtracted (in float64). */
    private record Result(float[] out, float[] lse, double[] dq, double[] dk, double[] dv, float[] dqRaw) {}

    private static double[] minus(float[] a, double[] b) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = (double) a[i] - b[i];
        }
        return r;
    }

    private static float[] nans(int n) {
        float[] x = new float[n];
        Arrays.fill(x, Float.NaN);
        return x;
    }

    /** Forward into NaN-filled out and lse (so unwritten elements show), then backward into prefilled gradients. */
    private static Result run(Backend be, Case c) {
        int[] qs = {c.b, c.nh, c.tq, c.hs};
        int[] ks = {c.b, c.nh, c.tk, c.hs};
        try (Tensor q = be.of(OpTesting.toFloat(c.q), qs);
             Tensor k = be.of(OpTesting.toFloat(c.k), ks);
             Tensor v = be.of(OpTesting.toFloat(c.v), ks);
             Tensor mask = c.mask == null ? null : be.of(OpTesting.toFloat(c.mask), c.tq, c.tk);
             Tensor out = be.of(nans(c.nq()), qs);
             Tensor lse = be.of(nans(c.b * c.nh * c.tq), c.b, c.nh, c.tq);
             Tensor dout = be.of(OpTesting.toFloat(c.dout), qs);
             Tensor dq = be.of(OpTesting.toFloat(c.dq0), qs);
             Tensor dk = be.of(OpTesting.toFloat(c.dk0), ks);
             Tensor dv = be.of(OpTesting.toFloat(c.dv0), ks)) {
            Ops.attentionForward(q, k, v, mask, out, lse, c.scale, c.causal, c.pDrop, c.seed, c.offset);
            Ops.attentionBackward(dout, q, k, v, mask, out, lse, dq, dk, dv, c.scale, c.causal, c.pDrop, c.seed,
                    c.offset);
            float[] dqRaw = dq.toFloatArray();
            return new Result(out.toFloatArray(), lse.toFloatArray(), minus(dqRaw, c.dq0),
                    minus(dk.toFloatArray(), c.dk0), minus(dv.toFloatArray(), c.dv0), dqRaw);
        }
    }

    /** lse: -inf exactly where expected is -inf, relative error of the finite rest. */
    private static void assertLse(String what, float[] actual, double[] expected, double tol) {
        List<Integer> finite = new ArrayList<>();
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] == Double.NEGATIVE_INFINITY) {
                assertEquals(Float.NEGATIVE_INFINITY, actual[i], what + ": lse[" + i + "] of a masked row");
            } else {
                assertTrue(Float.isFinite(actual[i]), what + ": lse[" + i + "] = " + actual[i]);
                finite.add(i);
            }
        }
        float[] a = new float[finite.size()];
        double[] e = new double[finite.size()];
        for (int n = 0; n < a.length; n++) {
            a[n] = actual[finite.get(n)];
            e[n] = expected[finite.get(n)];
        }
        OpTesting.assertClose(what + " lse", a, e, tol);
    }

    private static void assertNoNaN(String what, float[] x) {
        for (int i = 0; i < x.length; i++) {
            assertFalse(Float.isNaN(x[i]), what + ": NaN at " + i);
        }
    }

    private static void checkCpuAgainstReference(Case c) {
        double[][] fwd = referenceForward(c, c.q, c.k, c.v);
        double[][] grad = referenceBackward(c, c.q, c.k, c.v, c.dout);
        Result r = run(OpTesting.cpu(), c);
        assertNoNaN(c.name + " out", r.out);
        OpTesting.assertClose(c.name + " out", r.out, fwd[0], CPU_TOL);
        assertLse(c.name, r.lse, fwd[1], CPU_TOL);
        // the gradients were accumulated onto random prefills: (result - prefill) must be the gradient
        OpTesting.assertClose(c.name + " dq", r.dq, grad[0], CPU_TOL);
        OpTesting.assertClose(c.name + " dk", r.dk, grad[1], CPU_TOL);
        OpTesting.assertClose(c.name + " dv", r.dv, grad[2], CPU_TOL);
    }

    /** The cases both backends must get right. */
    private static List<Case> commonCases() {
        return List.of(
                make("self causal", 2, 4, 16, 16, 64, true, MaskKind.NONE, -1, 0f, 11),
                make("cross DP mask Tk=3", 2, 4, 16, 3, 64, false, MaskKind.DP_CROSS, -1, 0f, 12),
                make("cross DP mask Tk=10", 2, 2, 16, 10, 32, false, MaskKind.DP_CROSS, -1, 0f, 13),
                make("no mask odd", 3, 2, 5, 7, 3, false, MaskKind.NONE, -1, 0f, 14),
                make("Tq=1", 2, 3, 1, 7, 8, false, MaskKind.RANDOM, -1, 0f, 15),
                make("Tk=1", 2, 3, 5, 1, 8, false, MaskKind.RANDOM, -1, 0f, 16),
                make("Tk=1 causal", 1, 2, 5, 1, 7, true, MaskKind.NONE, -1, 0f, 17),
                make("HS=33 causal masked", 1, 2, 9, 10, 33, true, MaskKind.RANDOM, -1, 0f, 18),
                make("HS=1", 2, 1, 4, 6, 1, false, MaskKind.NONE, -1, 0f, 19),
                make("causal Tq>Tk", 1, 2, 40, 9, 16, true, MaskKind.NONE, -1, 0f, 20),
                make("causal Tq<Tk", 1, 2, 9, 40, 16, true, MaskKind.NONE, -1, 0f, 21),
                make("dropout 0.1", 2, 2, 9, 11, 16, false, MaskKind.RANDOM, -1, 0.1f, 22),
                make("dropout 0.5 causal", 2, 2, 9, 11, 16, true, MaskKind.NONE, -1, 0.5f, 23),
                make("masked row", 2, 2, 6, 5, 8, false, MaskKind.RANDOM, 3, 0f, 24),
                make("masked rows + dropout", 2, 2, 16, 3, 8, true, MaskKind.DP_CROSS, 0, 0.3f, 25),
                make("long 70x45", 1, 2, 70, 45, 24, false, MaskKind.RANDOM, -1, 0.2f, 26));
    }

    // ---- the reference itself ---------------------------------------------------------------------------------------

    @Test
    void referenceMatchesHandComputedValues() {
        // scale 1, q = 1, k = (0, ln 3): S = (0, ln 3), P = (1/4, 3/4), v = (2, 6) -> out = 5, lse = ln 4
        double[] q = {1};
        double[] k = {0, Math.log(3)};
        double[] v = {2, 6};
        Case c = new Case("hand", 1, 1, 1, 2, 1, false, null, 0f, 0, 0, 1f, q, k, v, null, null, null, null);
        double[][] r = referenceForward(c, q, k, v);
        assertEquals(5.0, r[0][0], 1e-12);
        assertEquals(Math.log(4), r[1][0], 1e-12);
        // causal: query 0 sees key 0 only
        Case causal = new Case("hand", 1, 1, 1, 2, 1, true, null, 0f, 0, 0, 1f, q, k, v, null, null, null, null);
        r = referenceForward(causal, q, k, v);
        assertEquals(2.0, r[0][0], 1e-12);
        assertEquals(0.0, r[1][0], 1e-12);
        // and the CPU op on the same numbers
        try (Tensor tq = OpTesting.cpu().of(new float[] {1}, 1, 1, 1, 1);
             Tensor tk = OpTesting.cpu().of(new float[] {0, (float) Math.log(3)}, 1, 1, 2, 1);
             Tensor tv = OpTesting.cpu().of(new float[] {2, 6}, 1, 1, 2, 1);
             Tensor out = OpTesting.cpu().zeros(1, 1, 1, 1);
             Tensor lse = OpTesting.cpu().zeros(1, 1, 1)) {
            Ops.attentionForward(tq, tk, tv, null, out, lse, 1f, false, 0f, 0, 0);
            assertEquals(5.0, out.toFloatArray()[0], 1e-5);
            assertEquals(Math.log(4), lse.toFloatArray()[0], 1e-6);
        }
    }

    /** The reference backward is the gradient of the reference forward (dropout mask fixed by seed and offset). */
    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        for (Case c : List.of(
                make("fd causal random mask dropout", 2, 2, 3, 4, 3, true, MaskKind.RANDOM, -1, 0.3f, 31),
                make("fd cross mask, masked row", 1, 2, 4, 3, 2, false, MaskKind.DP_CROSS, 1, 0f, 32),
                make("fd no mask", 1, 1, 3, 5, 4, false, MaskKind.NONE, -1, 0f, 33))) {
            int nq = c.nq();
            int nk = c.nk();
            double[] x = new double[nq + 2 * nk];
            System.arraycopy(c.q, 0, x, 0, nq);
            System.arraycopy(c.k, 0, x, nq, nk);
            System.arraycopy(c.v, 0, x, nq + nk, nk);
            double[] numeric = OpTesting.numericalGradient(xs -> {
                double[] q = Arrays.copyOfRange(xs, 0, nq);
                double[] k = Arrays.copyOfRange(xs, nq, nq + nk);
                double[] v = Arrays.copyOfRange(xs, nq + nk, nq + 2 * nk);
                return OpTesting.dot(c.dout, referenceForward(c, q, k, v)[0]);
            }, x, 1e-6);
            double[][] g = referenceBackward(c, c.q, c.k, c.v, c.dout);
            double[] analytic = new double[x.length];
            System.arraycopy(g[0], 0, analytic, 0, nq);
            System.arraycopy(g[1], 0, analytic, nq, nk);
            System.arraycopy(g[2], 0, analytic, nq + nk, nk);
            OpTesting.assertClose(c.name + " gradient", analytic, numeric, 1e-6);
        }
    }

    // ---- CPU against the reference ----------------------------------------------------------------------------------

    @Test
    void cpuMatchesReference() {
        for (Case c : commonCases()) {
            checkCpuAgainstReference(c);
        }
        checkCpuAgainstReference(make("HS=257", 1, 1, 3, 4, 257, true, MaskKind.RANDOM, -1, 0.1f, 41));
        checkCpuAgainstReference(make("long causal 200", 1, 1, 200, 200, 64, true, MaskKind.NONE, -1, 0f, 42));
    }

    @Test
    void cpuDropoutFollowsPhiloxIndex() {
        // the same problem with dropout 0.5 at two offsets: the outputs differ, and each matches its reference
        Case a = make("dropout offset a", 1, 2, 8, 8, 8, false, MaskKind.NONE, -1, 0.5f, 51);
        Case b = new Case("dropout offset b", a.b, a.nh, a.tq, a.tk, a.hs, a.causal, a.mask, a.pDrop, a.seed,
                a.offset + 1, a.scale, a.q, a.k, a.v, a.dout, a.dq0, a.dk0, a.dv0);
        checkCpuAgainstReference(a);
        checkCpuAgainstReference(b);
        assertFalse(Arrays.equals(run(OpTesting.cpu(), a).out, run(OpTesting.cpu(), b).out),
                "dropout must depend on the offset");
    }

    @Test
    void cpuFullyMaskedRowHasZeroOutputAndNoGradient() {
        Case c = make("masked row", 2, 2, 5, 4, 6, false, MaskKind.RANDOM, 2, 0.2f, 61);
        Result r = run(OpTesting.cpu(), c);
        for (int bh = 0; bh < c.b * c.nh; bh++) {
            assertEquals(Float.NEGATIVE_INFINITY, r.lse[bh * c.tq + 2]);
            for (int d = 0; d < c.hs; d++) {
                int idx = (bh * c.tq + 2) * c.hs + d;
                assertEquals(0f, r.out[idx], "out of a masked row");
                assertEquals((float) c.dq0[idx], r.dqRaw[idx], "dq of a masked row is left as it was");
            }
        }
        assertNoNaN("out", r.out);
        for (double x : r.dk) {
            assertFalse(Double.isNaN(x), "dk NaN");
        }
        for (double x : r.dv) {
            assertFalse(Double.isNaN(x), "dv NaN");
        }
    }

    // ---- CUDA against the CPU ---------------------------------------------------------------------------------------

    private static void checkCudaAgainstCpu(Backend cuda, Case c) {
        Result cpu = run(OpTesting.cpu(), c);
        Result gpu = run(cuda, c);
        OpTesting.assertClose(c.name + " cuda out", gpu.out, cpu.out, CUDA_TOL);
        assertLse(c.name + " cuda", gpu.lse, OpTesting.toDouble(cpu.lse), CUDA_TOL);
        OpTesting.assertClose(c.name + " cuda dq", gpu.dq, cpu.dq, CUDA_TOL);
        OpTesting.assertClose(c.name + " cuda dk", gpu.dk, cpu.dk, CUDA_TOL);
        OpTesting.assertClose(c.name + " cuda dv", gpu.dv, cpu.dv, CUDA_TOL);
    }

    @Test
    void cudaMatchesCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        for (Case c : commonCases()) {
            checkCudaAgainstCpu(cuda, c);
        }
    }

    @Test
    void cudaMatchesCpuAtDiffusionPolicySizes() {
        Backend cuda = OpTesting.cudaOrSkip();
        checkCudaAgainstCpu(cuda, make("DP self", 64, 4, 16, 16, 64, true, MaskKind.NONE, -1, 0.1f, 71));
        checkCudaAgainstCpu(cuda, make("DP cross", 64, 4, 16, 3, 64, false, MaskKind.DP_CROSS, -1, 0.1f, 72));
    }

    @Test
    void cudaMatchesCpuOnLargeTiledAndWideHeads() {
        Backend cuda = OpTesting.cudaOrSkip();
        checkCudaAgainstCpu(cuda, make("large causal", 2, 2, 200, 200, 64, true, MaskKind.NONE, -1, 0f, 81));
        checkCudaAgainstCpu(cuda, make("large dropout", 1, 2, 200, 200, 64, false, MaskKind.RANDOM, -1, 0.1f, 82));
        checkCudaAgainstCpu(cuda, make("HS=128", 1, 2, 37, 41, 128, true, MaskKind.NONE, -1, 0f, 83));
        checkCudaAgainstCpu(cuda, make("HS=256", 1, 2, 37, 41, 256, false, MaskKind.RANDOM, -1, 0.1f, 84));
    }

    @Test
    void cudaIsDeterministic() {
        Backend cuda = OpTesting.cudaOrSkip();
        Case c = make("determinism", 4, 4, 33, 45, 64, true, MaskKind.RANDOM, -1, 0.1f, 91);
        Result a = run(cuda, c);
        Result b = run(cuda, c);
        assertArrayEquals(a.out, b.out);
        assertArrayEquals(a.lse, b.lse);
        assertArrayEquals(a.dq, b.dq);
        assertArrayEquals(a.dk, b.dk);
        assertArrayEquals(a.dv, b.dv);
    }

    @Test
    void cudaFullyMaskedRow() {
        Backend cuda = OpTesting.cudaOrSkip();
        Case c = make("cuda masked row", 2, 2, 5, 4, 6, false, MaskKind.RANDOM, 2, 0.2f, 62);
        Result r = run(cuda, c);
        for (int bh = 0; bh < c.b * c.nh; bh++) {
            assertEquals(Float.NEGATIVE_INFINITY, r.lse[bh * c.tq + 2]);
            for (int d = 0; d < c.hs; d++) {
                int idx = (bh * c.tq + 2) * c.hs + d;
                assertEquals(0f, r.out[idx]);
                assertEquals((float) c.dq0[idx], r.dqRaw[idx]);
            }
        }
    }
}
