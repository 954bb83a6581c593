package org.cotrain.ops;

import static org.cotrain.ops.OpTesting.assertClose;
import static org.cotrain.ops.OpTesting.toDouble;
import static org.cotrain.ops.OpTesting.toFloat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.cotrain.nativelib.CpuKernels;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * matmul.h through Ops.matmul: C[b] = alpha op(A[b]) op(B[b]) + beta C[b] (+ bias over rows), a 2-D operand shared by
 * every batch entry, beta = 0 ignoring what C held. Also the backward identities the model relies on
 * (dA = dC B^T, dB = A^T dC, dbias = sumRows(dC)), checked against finite differences.
 */
class MatmulOpTest {

    /** (M, N, K): odd sizes, vectors, and one big enough for OpenBLAS to block and thread. */
    private static final int[][] SIZES = {{1, 1, 1}, {3, 5, 7}, {33, 17, 65}, {257, 1, 3}, {1, 257, 3}, {64, 96, 80}};

    /** How the operands are batched. */
    private enum Layout {
        PLAIN, // a (M, K), b (K, N), c (M, N)
        BATCHED, // a, b and c all carry the batch dimension
        SHARED_B, // a (batch, M, K), b (K, N) shared: a weight
        SHARED_A, // a (M, K) shared, b (batch, K, N)
    }

    /** One product: shapes, flags and data (float32 values, also used as the float64 reference's inputs). */
    private static final class Case {
        final int batch;
        final int m;
        final int n;
        final int k;
        final boolean transA;
        final boolean transB;
        final Layout layout;
        final float alpha;
        final float beta;
        final float[] a;
        final float[] b;
        final float[] bias; // or null
        final float[] c0; // C before the call

        Case(int batch, int m, int n, int k, boolean transA, boolean transB, Layout layout, boolean withBias,
             float alpha, float beta, long seed) {
            this.batch = layout == Layout.PLAIN ? 1 : batch;
            this.m = m;
            this.n = n;
            this.k = k;
            this.transA = transA;
            this.transB = transB;
            this.layout = layout;
            this.alpha = alpha;
            this.beta = beta;
            this.a = toFloat(OpTesting.randn(seed, (aBatched() ? this.batch : 1) * m * k));
            this.b = toFloat(OpTesting.randn(seed + 1, (bBatched() ? this.batch : 1) * k * n));
            this.bias = withBias ? toFloat(OpTesting.randn(seed + 2, n)) : null;
            this.c0 = toFloat(OpTesting.randn(seed + 3, this.batch * m * n));
            if (beta == 0) {
                Arrays.fill(c0, Float.NaN); // beta = 0 must overwrite C, NaN included
            }
        }

        boolean aBatched() {
            return layout == Layout.BATCHED || layout == Layout.SHARED_B;
        }

        boolean bBatched() {
            return layout == Layout.BATCHED || layout == Layout.SHARED_A;
        }

        int[] aShape() {
            int[] s = transA ? new int[] {k, m} : new int[] {m, k};
            return aBatched() ? new int[] {batch, s[0], s[1]} : s;
        }

        int[] bShape() {
            int[] s = transB ? new int[] {n, k} : new int[] {k, n};
            return bBatched() ? new int[] {batch, s[0], s[1]} : s;
        }

        int[] cShape() {
            return layout == Layout.PLAIN ? new int[] {m, n} : new int[] {batch, m, n};
        }

        @Override
        public String toString() {
            return layout + " batch=" + batch + " M=" + m + " N=" + n + " K=" + k + (transA ? " A^T" : "")
                    + (transB ? " B^T" : "") + (bias != null ? " +bias" : "") + " alpha=" + alpha + " beta=" + beta;
        }
    }

    // ---- float64 reference -------------------------------------------------------------------------------------

    /**
     * C[b] = alpha op(A[b]) op(B[b]) + beta C[b] + bias. A[b] is a + b * strideA (strideA 0 shares one matrix), stored
     * (M, K), or (K, M) when transA; B likewise (K, N) or (N, K). beta == 0 ignores c0.
     */
    private static double[] matmul(double[] a, boolean transA, int strideA, double[] b, boolean transB, int strideB,
                                   double[] bias, double[] c0, int batch, int m, int n, int k, double alpha,
                                   double beta) {
        double[] c = new double[batch * m * n];
        for (int bi = 0; bi < batch; bi++) {
            int ao = bi * strideA;
            int bo = bi * strideB;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        double av = transA ? a[ao + p * m + i] : a[ao + i * k + p];
                        double bv = transB ? b[bo + j * k + p] : b[bo + p * n + j];
                        s += av * bv;
                    }
                    int idx = (bi * m + i) * n + j;
                    double v = alpha * s + (beta == 0 ? 0 : beta * c0[idx]);
                    c[idx] = v + (bias == null ? 0 : bias[j]);
                }
            }
        }
        return c;
    }

    private static double[] reference(Case t) {
        return matmul(toDouble(t.a), t.transA, t.aBatched() ? t.m * t.k : 0, toDouble(t.b), t.transB,
                t.bBatched() ? t.k * t.n : 0, t.bias == null ? null : toDouble(t.bias), toDouble(t.c0), t.batch, t.m,
                t.n, t.k, t.alpha, t.beta);
    }

    /** out (rows, cols) of x stored (cols, rows). */
    private static double[] transpose(double[] x, int rows, int cols) {
        double[] y = new double[x.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                y[r * cols + c] = x[c * rows + r];
            }
        }
        return y;
    }

    private static double[] sumRows(double[] x, int rows, int cols) {
        double[] out = new double[cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[c] += x[r * cols + c];
            }
        }
        return out;
    }

    private static double[] add(double[] a, double[] b) {
        double[] y = a.clone();
        for (int i = 0; i < y.length; i++) {
            y[i] += b[i];
        }
        return y;
    }

    private static double[] randnF(long seed, int n) {
        return toDouble(toFloat(OpTesting.randn(seed, n)));
    }

    // ---- running the op ----------------------------------------------------------------------------------------

    private static float[] run(Backend be, Case t) {
        try (Tensor a = be.of(t.a, t.aShape()); Tensor b = be.of(t.b, t.bShape());
                Tensor bias = t.bias == null ? null : be.of(t.bias, t.n); Tensor c = be.of(t.c0, t.cShape())) {
            Ops.matmul(a, t.transA, b, t.transB, bias, c, t.alpha, t.beta);
            return c.toFloatArray();
        }
    }

    /** Every size x transpose combination x layout, with and without bias, beta 0 (over NaN) and beta != 0. */
    private static List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        long seed = 1;
        for (int[] s : SIZES) {
            for (int tr = 0; tr < 4; tr++) {
                for (Layout layout : Layout.values()) {
                    boolean withBias = ((tr + layout.ordinal()) & 1) == 0;
                    cases.add(new Case(3, s[0], s[1], s[2], (tr & 1) != 0, (tr & 2) != 0, layout, withBias, 1f, 0f,
                            seed++));
                    cases.add(new Case(3, s[0], s[1], s[2], (tr & 1) != 0, (tr & 2) != 0, layout, !withBias, 0.5f,
                            -1.25f, seed++));
                }
            }
        }
        // Many small products (the batch loop runs in parallel), with a bias; and a linear layer on (B, T, C).
        for (Layout layout : new Layout[] {Layout.BATCHED, Layout.SHARED_B}) {
            cases.add(new Case(37, 7, 9, 5, false, true, layout, true, 1f, 0f, seed++));
            cases.add(new Case(37, 7, 9, 5, true, false, layout, true, 1f, 1f, seed++));
        }
        cases.add(new Case(2, 64, 768, 256, false, true, Layout.SHARED_B, true, 1f, 0f, seed++));
        // The skinny kernel (at most 32 rows against a weight stored (N, K)): every edge of its 4-row and 4-column
        // blocks, K with and without a vector tail, split over threads (the last two) or not.
        int[][] skinny = {{16, 37, 83}, {5, 9, 300}, {3, 512, 256}, {32, 70, 1024}, {13, 258, 129}};
        for (int[] sk : skinny) {
            cases.add(new Case(1, sk[0], sk[1], sk[2], false, true, Layout.PLAIN, true, 1f, 0f, seed++));
            cases.add(new Case(1, sk[0], sk[1], sk[2], false, true, Layout.PLAIN, false, 0.5f, -1.25f, seed++));
        }
        cases.add(new Case(2, 16, 768, 256, false, true, Layout.SHARED_B, true, 1f, 0f, seed++));
        cases.add(new Case(2, 16, 100, 33, false, true, Layout.SHARED_B, false, 1f, 1f, seed++));
        return cases;
    }

    // ---- 3. CPU against the float64 reference ------------------------------------------------------------------

    @Test
    void cpuMatchesReference() {
        Backend cpu = OpTesting.cpu();
        for (Case t : cases()) {
            assertClose(t.toString(), run(cpu, t), reference(t), 1e-5);
        }
    }

    /** The skinny kernel's three builds (AVX-512, AVX2, baseline), each on the cases above that reach it. */
    @Test
    void everyInstructionSetOfTheSkinnyKernelMatchesReference() {
        Backend cpu = OpTesting.cpu();
        int detected = CpuKernels.ct_matmul_set_isa(-1);
        try {
            for (int level = 0; level <= detected; level++) {
                assertEquals(level, CpuKernels.ct_matmul_set_isa(level));
                for (Case t : cases()) {
                    if (!t.transA && t.transB && t.batch * t.m <= 32) {
                        assertClose("isa " + level + " " + t, run(cpu, t), reference(t), 1e-5);
                    }
                }
            }
        } finally {
            CpuKernels.ct_matmul_set_isa(-1);
        }
    }

    @Test
    void emptyInnerDimensionGivesBetaCPlusBias() {
        checkEmptyInnerDimension(OpTesting.cpu());
    }

    private static void checkEmptyInnerDimension(Backend be) {
        // K = 0: op(A) op(B) is all zeros; C = beta C + bias, beta = 0 overwriting NaN.
        for (float beta : new float[] {0f, 2f}) {
            Case t = new Case(2, 3, 4, 0, false, false, Layout.BATCHED, true, 1f, beta, 99);
            assertClose("K=0 " + t, run(be, t), reference(t), 1e-6);
        }
        Case noRows = new Case(2, 0, 4, 3, true, false, Layout.SHARED_B, true, 1f, 0f, 98);
        assertClose("M=0", run(be, noRows), new double[0], 0);
    }

    @Test
    void rejectsShapesThatDoNotChain() {
        Backend cpu = OpTesting.cpu();
        try (Tensor a = cpu.zeros(3, 4); Tensor b = cpu.zeros(5, 6); Tensor c = cpu.zeros(3, 6)) {
            assertThrows(IllegalArgumentException.class, () -> Ops.matmul(a, false, b, false, null, c));
        }
    }

    // ---- 2 + 3. backward identities: finite differences of the float64 forward, then the ops -------------------

    @Test
    void linearLayerBackward() {
        // y (B, T, Cout) = x (B, T, Cin) W^T + b, with W (Cout, Cin): the model's Linear.
        int bt = 2 * 3;
        int cin = 5;
        int cout = 4;
        double[] x = randnF(1, bt * cin);
        double[] w = randnF(2, cout * cin);
        double[] bias = randnF(3, cout);
        double[] dy = randnF(4, bt * cout);
        // loss = sum(dy * y) as a function of each input in turn.
        double[] numX = OpTesting.numericalGradient(
                v -> OpTesting.dot(dy, matmul(v, false, 0, w, true, 0, bias, null, 1, bt, cout, cin, 1, 0)), x, 1e-6);
        double[] numW = OpTesting.numericalGradient(
                v -> OpTesting.dot(dy, matmul(x, false, 0, v, true, 0, bias, null, 1, bt, cout, cin, 1, 0)), w, 1e-6);
        double[] numB = OpTesting.numericalGradient(
                v -> OpTesting.dot(dy, matmul(x, false, 0, w, true, 0, v, null, 1, bt, cout, cin, 1, 0)), bias,
                1e-6);
        // The identities in float64: dX = dY W, dW = dY^T X, dbias = sumRows(dY).
        double[] dx = matmul(dy, false, 0, w, false, 0, null, null, 1, bt, cin, cout, 1, 0);
        double[] dw = matmul(dy, true, 0, x, false, 0, null, null, 1, cout, cin, bt, 1, 0);
        double[] db = sumRows(dy, bt, cout);
        assertClose("reference dX", dx, numX, 1e-6);
        assertClose("reference dW", dw, numW, 1e-6);
        assertClose("reference dbias", db, numB, 1e-6);

        // The same through the ops, accumulating (beta = 1, sumRows adds) into prefilled gradient buffers.
        Backend cpu = OpTesting.cpu();
        double[] dx0 = randnF(5, bt * cin);
        double[] dw0 = randnF(6, cout * cin);
        double[] db0 = randnF(7, cout);
        float[][] got = linearBackwardOps(cpu, x, w, dy, dx0, dw0, db0, 2, 3, cin, cout);
        assertClose("dX", got[0], add(dx0, numX), 1e-5);
        assertClose("dW", got[1], add(dw0, numW), 1e-5);
        assertClose("dbias", got[2], add(db0, numB), 1e-5);
    }

    /** dX += dY W (3-D times a shared 2-D), dW += dY^T X (over the flattened rows), dbias += sumRows(dY). */
    private static float[][] linearBackwardOps(Backend be, double[] x, double[] w, double[] dy, double[] dx0,
                                               double[] dw0, double[] db0, int bsz, int t, int cin, int cout) {
        try (Tensor tx = be.of(toFloat(x), bsz, t, cin); Tensor tw = be.of(toFloat(w), cout, cin);
                Tensor tdy = be.of(toFloat(dy), bsz, t, cout); Tensor dx = be.of(toFloat(dx0), bsz, t, cin);
                Tensor dw = be.of(toFloat(dw0), cout, cin); Tensor db = be.of(toFloat(db0), cout)) {
            Ops.matmul(tdy, false, tw, false, null, dx, 1f, 1f);
            Ops.matmul(tdy.view(bsz * t, cout), true, tx.view(bsz * t, cin), false, null, dw, 1f, 1f);
            Ops.sumRows(tdy, db);
            return new float[][] {dx.toFloatArray(), dw.toFloatArray(), db.toFloatArray()};
        }
    }

    @Test
    void attentionProductsBackward() {
        // S (BH, Tq, Tk) = Q (BH, Tq, HS) K^T: dQ = dS K, dK = dS^T Q (batched, transposed A).
        int bh = 3;
        int tq = 7;
        int tk = 6;
        int hs = 5;
        double[] q = randnF(1, bh * tq * hs);
        double[] k = randnF(2, bh * tk * hs);
        double[] ds = randnF(3, bh * tq * tk);
        double[] numQ = OpTesting.numericalGradient(
                v -> OpTesting.dot(ds, matmul(v, false, tq * hs, k, true, tk * hs, null, null, bh, tq, tk, hs, 1, 0)),
                q, 1e-6);
        double[] numK = OpTesting.numericalGradient(
                v -> OpTesting.dot(ds, matmul(q, false, tq * hs, v, true, tk * hs, null, null, bh, tq, tk, hs, 1, 0)),
                k, 1e-6);
        double[] dq = matmul(ds, false, tq * tk, k, false, tk * hs, null, null, bh, tq, hs, tk, 1, 0);
        double[] dk = matmul(ds, true, tq * tk, q, false, tq * hs, null, null, bh, tk, hs, tq, 1, 0);
        assertClose("reference dQ", dq, numQ, 1e-6);
        assertClose("reference dK", dk, numK, 1e-6);

        // O (BH, Tq, HS) = P (BH, Tq, Tk) V (BH, Tk, HS): dP = dO V^T, dV = P^T dO.
        double[] p = randnF(4, bh * tq * tk);
        double[] v = randnF(5, bh * tk * hs);
        double[] dout = randnF(6, bh * tq * hs);
        double[] numP = OpTesting.numericalGradient(
                u -> OpTesting.dot(dout,
                        matmul(u, false, tq * tk, v, false, tk * hs, null, null, bh, tq, hs, tk, 1, 0)),
                p, 1e-6);
        double[] numV = OpTesting.numericalGradient(
                u -> OpTesting.dot(dout,
                        matmul(p, false, tq * tk, u, false, tk * hs, null, null, bh, tq, hs, tk, 1, 0)),
                v, 1e-6);
        double[] dp = matmul(dout, false, tq * hs, v, true, tk * hs, null, null, bh, tq, tk, hs, 1, 0);
        double[] dv = matmul(p, true, tq * tk, dout, false, tq * hs, null, null, bh, tk, hs, tq, 1, 0);
        assertClose("reference dP", dp, numP, 1e-6);
        assertClose("reference dV", dv, numV, 1e-6);

        // Through the ops, accumulating into prefilled buffers.
        Backend cpu = OpTesting.cpu();
        double[] dq0 = randnF(7, dq.length);
        double[] dk0 = randnF(8, dk.length);
        double[] dp0 = randnF(9, dp.length);
        double[] dv0 = randnF(10, dv.length);
        try (Tensor tQ = cpu.of(toFloat(q), bh, tq, hs); Tensor tK = cpu.of(toFloat(k), bh, tk, hs);
                Tensor tds = cpu.of(toFloat(ds), bh, tq, tk); Tensor tp = cpu.of(toFloat(p), bh, tq, tk);
                Tensor tv = cpu.of(toFloat(v), bh, tk, hs); Tensor tdo = cpu.of(toFloat(dout), bh, tq, hs);
                Tensor gq = cpu.of(toFloat(dq0), bh, tq, hs); Tensor gk = cpu.of(toFloat(dk0), bh, tk, hs);
                Tensor gp = cpu.of(toFloat(dp0), bh, tq, tk); Tensor gv = cpu.of(toFloat(dv0), bh, tk, hs)) {
            Ops.matmul(tds, false, tK, false, null, gq, 1f, 1f);
            Ops.matmul(tds, true, tQ, false, null, gk, 1f, 1f);
            Ops.matmul(tdo, false, tv, true, null, gp, 1f, 1f);
            Ops.matmul(tp, true, tdo, false, null, gv, 1f, 1f);
            assertClose("dQ", gq.toFloatArray(), add(dq0, numQ), 1e-5);
            assertClose("dK", gk.toFloatArray(), add(dk0, numK), 1e-5);
            assertClose("dP", gp.toFloatArray(), add(dp0, numP), 1e-5);
            assertClose("dV", gv.toFloatArray(), add(dv0, numV), 1e-5);
        }
        // transpose() sanity: the reference's transposed storage really is the transpose.
        double[] a = randnF(11, 3 * 4); // stored (K=4, M=3) for transA
        double[] b = randnF(12, 4 * 2);
        assertClose("transA storage", matmul(a, true, 0, b, false, 0, null, null, 1, 3, 2, 4, 1, 0),
                matmul(transpose(a, 3, 4), false, 0, b, false, 0, null, null, 1, 3, 2, 4, 1, 0), 1e-15);
    }

    // ---- 4. CUDA (cuBLAS + bias kernel) against CPU -------------------------------------------------------------

    @Test
    void cudaMatchesCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        Backend cpu = OpTesting.cpu();
        for (Case t : cases()) {
            assertClose("cuda " + t, run(cuda, t), run(cpu, t), 1e-4);
        }
        double[] x = randnF(1, 6 * 5);
        double[] w = randnF(2, 4 * 5);
        double[] dy = randnF(4, 6 * 4);
        double[] dx0 = randnF(5, 6 * 5);
        double[] dw0 = randnF(6, 4 * 5);
        double[] db0 = randnF(7, 4);
        float[][] a = linearBackwardOps(cuda, x, w, dy, dx0, dw0, db0, 2, 3, 5, 4);
        float[][] b = linearBackwardOps(cpu, x, w, dy, dx0, dw0, db0, 2, 3, 5, 4);
        for (int i = 0; i < 3; i++) {
            assertClose("cuda linear backward " + i, a[i], b[i], 1e-4);
        }
    }

    @Test
    void cudaEmptyInnerDimension() {
        checkEmptyInnerDimension(OpTesting.cudaOrSkip());
    }
}
