package org.cotrain.ops;

import static org.cotrain.ops.OpTesting.assertClose;
import static org.cotrain.ops.OpTesting.toDouble;
import static org.cotrain.ops.OpTesting.toFloat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cotrain.backend.Backends;
import org.cotrain.nativelib.CpuKernels;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * reduce.h: sum (with scale), its backward, sum over rows (accumulating), sum of squares, and the optionally weighted
 * MSE loss with its backward. Scalars live in one-element tensors.
 */
class ReduceOpTest {

    /** Odd sizes; 8193 and up take the CUDA two-pass path, 9,000,001 exceeds its 1024-block grid cap. */
    private static final int[] SIZES = {1, 3, 7, 33, 257, 1000, 8192, 8193, 65537, 1_048_579};

    /** (rows, cols) for sumRows: odd shapes, partial column strips, a bias gradient of (B*T, C). */
    private static final int[][] ROW_SHAPES = {
        {1, 1}, {3, 5}, {7, 33}, {257, 31}, {33, 1025}, {1000, 2}, {4096, 256}, {5, 64}, {129, 97},
    };

    // ---- float64 reference -------------------------------------------------------------------------------------

    private static double sum(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v;
        }
        return s;
    }

    /** dx of loss = dout * scale * sum(x). */
    private static double[] sumBackward(int n, double scale, double dout) {
        double[] dx = new double[n];
        java.util.Arrays.fill(dx, scale * dout);
        return dx;
    }

    /** x (rows, cols) -> (cols). */
    private static double[] sumRows(double[] x, int rows, int cols) {
        double[] out = new double[cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[c] += x[r * cols + c];
            }
        }
        return out;
    }

    private static double sumSquares(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v * v;
        }
        return s;
    }

    /** (1/n) sum w (p - t)^2; w null means ones. */
    private static double mse(double[] p, double[] t, double[] w) {
        double s = 0;
        for (int i = 0; i < p.length; i++) {
            double d = p[i] - t[i];
            s += (w == null ? 1 : w[i]) * d * d;
        }
        return s / p.length;
    }

    /** d(dloss * mse)/dp = dloss (2/n) w (p - t). */
    private static double[] mseBackward(double[] p, double[] t, double[] w, double dloss) {
        double[] g = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            g[i] = dloss * 2.0 / p.length * (w == null ? 1 : w[i]) * (p[i] - t[i]);
        }
        return g;
    }

    /** Float32-representable inputs, so the references see exactly what the op sees. */
    private static double[] randnF(long seed, int n) {
        return toDouble(toFloat(OpTesting.randn(seed, n)));
    }

    private static double[] uniformF(long seed, int n, double lo, double hi) {
        return toDouble(toFloat(OpTesting.uniform(seed, n, lo, hi)));
    }

    private static double[] add(double[] a, double[] b) {
        double[] y = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            y[i] = a[i] + b[i];
        }
        return y;
    }

    // ---- running the ops ---------------------------------------------------------------------------------------

    private static float sumOp(Backend be, float[] x, float scale) {
        try (Tensor tx = be.of(x, x.length); Tensor out = be.of(new float[] {Float.NaN}, 1)) {
            Ops.sum(tx, out, scale);
            return out.toFloatArray()[0];
        }
    }

    private static float[] sumBackwardOp(Backend be, float dout, float[] dx0, float scale) {
        try (Tensor td = be.of(new float[] {dout}, 1); Tensor dx = be.of(dx0, dx0.length)) {
            Ops.sumBackward(td, dx, scale);
            return dx.toFloatArray();
        }
    }

    private static float[] sumRowsOp(Backend be, float[] x, int rows, int cols, float[] out0) {
        try (Tensor tx = be.of(x, rows, cols); Tensor out = be.of(out0, cols)) {
            Ops.sumRows(tx, out);
            return out.toFloatArray();
        }
    }

    private static float sumSquaresOp(Backend be, float[] x) {
        try (Tensor tx = be.of(x, x.length); Tensor out = be.of(new float[] {Float.NaN}, 1)) {
            Ops.sumSquares(tx, out);
            return out.toFloatArray()[0];
        }
    }

    private static float mseOp(Backend be, float[] p, float[] t, float[] w) {
        try (Tensor tp = be.of(p, p.length); Tensor tt = be.of(t, t.length);
                Tensor tw = w == null ? null : be.of(w, w.length); Tensor loss = be.of(new float[] {Float.NaN}, 1)) {
            Ops.mseForward(tp, tt, tw, loss);
            return loss.toFloatArray()[0];
        }
    }

    private static float[] mseBackwardOp(Backend be, float[] p, float[] t, float[] w, float dloss, float[] dpred0) {
        try (Tensor tp = be.of(p, p.length); Tensor tt = be.of(t, t.length);
                Tensor tw = w == null ? null : be.of(w, w.length); Tensor dl = be.of(new float[] {dloss}, 1);
                Tensor dp = be.of(dpred0, dpred0.length)) {
            Ops.mseBackward(tp, tt, tw, dl, dp);
            return dp.toFloatArray();
        }
    }

    private static void assertScalarClose(String what, float actual, double expected, double tol) {
        assertClose(what, new float[] {actual}, new double[] {expected}, tol);
    }

    // ---- 2. the float64 backward against finite differences of the float64 forward -----------------------------

    @Test
    void referenceBackwardsMatchFiniteDifferences() {
        for (int n : new int[] {1, 3, 7, 33}) {
            double[] x = OpTesting.randn(n, n);
            double scale = 0.37;
            double dout = -1.3;
            double[] num = OpTesting.numericalGradient(v -> dout * scale * sum(v), x, 1e-6);
            assertClose("sum backward n=" + n, sumBackward(n, scale, dout), num, 1e-6);

            double[] t = OpTesting.randn(100 + n, n);
            double[] w = OpTesting.uniform(200 + n, n, 0, 2);
            for (double[] weight : new double[][] {null, w}) {
                double dloss = 0.7;
                double[] g = OpTesting.numericalGradient(p -> dloss * mse(p, t, weight), x, 1e-6);
                assertClose("mse backward n=" + n + (weight == null ? "" : " weighted"),
                        mseBackward(x, t, weight, dloss), g, 1e-6);
            }
        }
        // sumRows is the gradient of a bias broadcast over rows: loss = sum(dy * (x + b)), d/db = sumRows(dy).
        int rows = 7;
        int cols = 5;
        double[] x = OpTesting.randn(1, rows * cols);
        double[] dy = OpTesting.randn(2, rows * cols);
        double[] b = OpTesting.randn(3, cols);
        double[] num = OpTesting.numericalGradient(bb -> {
            double[] y = x.clone();
            for (int i = 0; i < y.length; i++) {
                y[i] += bb[i % cols];
            }
            return OpTesting.dot(dy, y);
        }, b, 1e-6);
        assertClose("sumRows as bias gradient", sumRows(dy, rows, cols), num, 1e-6);
    }

    // ---- 3. the CPU op against the float64 reference ----------------------------------------------------------

    @Test
    void cpuSumMatchesReference() {
        Backend cpu = OpTesting.cpu();
        for (int n : SIZES) {
            double[] x = randnF(n, n);
            float[] xf = toFloat(x);
            assertScalarClose("sum n=" + n, sumOp(cpu, xf, 1f), sum(x), 1e-5);
            assertScalarClose("mean n=" + n, sumOp(cpu, xf, 1f / n), (double) (1f / n) * sum(x), 1e-5);
            // A large common offset: a float accumulator would lose ~1e-5 of the total over a million terms; the
            // double accumulators leave only the final rounding to float.
            double[] shifted = uniformF(7 * n, n, 99, 101);
            assertScalarClose("sum of values near 100, n=" + n, sumOp(cpu, toFloat(shifted), 1f), sum(shifted),
                    3e-7);
        }
        // Cancellation: +1e8, 1, -1e8 repeated sums to exactly n/3 in double; a float accumulator (ulp 8 at 1e8)
        // loses the ones.
        int n = 300_000;
        float[] x = new float[n];
        for (int i = 0; i < n; i += 3) {
            x[i] = 1e8f;
            x[i + 1] = 1f;
            x[i + 2] = -1e8f;
        }
        assertEquals(n / 3f, sumOp(cpu, x, 1f), "sum with cancellation");
    }

    @Test
    void cpuSumBackwardMatchesReferenceAndAccumulates() {
        Backend cpu = OpTesting.cpu();
        for (int n : SIZES) {
            double[] dx0 = randnF(n, n);
            float scale = 1f / n;
            float dout = 1.7f;
            double[] expected = add(dx0, sumBackward(n, scale, dout));
            assertClose("sum backward n=" + n, sumBackwardOp(cpu, dout, toFloat(dx0), scale), expected, 1e-5);
        }
    }

    @Test
    void cpuSumRowsMatchesReferenceAndAccumulates() {
        Backend cpu = OpTesting.cpu();
        for (int[] s : ROW_SHAPES) {
            int rows = s[0];
            int cols = s[1];
            double[] x = randnF(rows * 31L + cols, rows * cols);
            double[] out0 = randnF(cols, cols);
            double[] expected = add(out0, sumRows(x, rows, cols));
            assertClose("sumRows " + rows + "x" + cols, sumRowsOp(cpu, toFloat(x), rows, cols, toFloat(out0)),
                    expected, 1e-5);
        }
        // A strong common offset per column: the per-column sums must still be accurate to float rounding.
        int rows = 4096;
        int cols = 33;
        double[] x = uniformF(5, rows * cols, 99, 101);
        double[] expected = sumRows(x, rows, cols);
        assertClose("sumRows near 100", sumRowsOp(cpu, toFloat(x), rows, cols, new float[cols]), expected, 3e-7);
    }

    @Test
    void cpuSumSquaresMatchesReference() {
        Backend cpu = OpTesting.cpu();
        for (int n : SIZES) {
            double[] x = randnF(3L * n, n);
            assertScalarClose("sumSquares n=" + n, sumSquaresOp(cpu, toFloat(x)), sumSquares(x), 1e-6);
        }
    }

    @Test
    void cpuMseMatchesReferenceAndAccumulates() {
        Backend cpu = OpTesting.cpu();
        for (int n : SIZES) {
            double[] p = randnF(n, n);
            double[] t = randnF(n + 1, n);
            double[] w = uniformF(n + 2, n, 0, 3);
            double[] dpred0 = randnF(n + 3, n);
            float dloss = 0.8f;
            for (double[] weight : new double[][] {null, w}) {
                String what = " n=" + n + (weight == null ? "" : " weighted");
                float[] wf = weight == null ? null : toFloat(weight);
                assertScalarClose("mse" + what, mseOp(cpu, toFloat(p), toFloat(t), wf), mse(p, t, weight), 1e-6);
                double[] expected = add(dpred0, mseBackward(p, t, weight, dloss));
                assertClose("mse backward" + what, mseBackwardOp(cpu, toFloat(p), toFloat(t), wf, dloss,
                        toFloat(dpred0)), expected, 1e-5);
            }
        }
        // pred == target up to tiny differences: the squared differences must not cancel away.
        int n = 4099;
        double[] t = uniformF(1, n, 1000, 1001);
        double[] p = new double[n];
        for (int i = 0; i < n; i++) {
            p[i] = Math.nextUp((float) t[i]);
        }
        assertScalarClose("mse of near-equal values", mseOp(cpu, toFloat(p), toFloat(t), null), mse(p, t, null), 1e-6);
    }

    // ---- 5. determinism and edge cases --------------------------------------------------------------------------

    @Test
    void cpuResultsDoNotDependOnThreadCount() {
        int n = 1_000_003;
        float[] x = toFloat(randnF(11, n));
        float[] t = toFloat(randnF(12, n));
        float[] w = toFloat(uniformF(13, n, 0, 1));
        int rows = 2000;
        int cols = 500;
        Backend cpu = OpTesting.cpu();
        int threads = Backends.cpu().threads();
        float[][] results = new float[2][];
        try {
            for (int run = 0; run < 2; run++) {
                CpuKernels.ct_cpu_set_num_threads(run == 0 ? 1 : Math.max(threads, 3));
                float[] rowSums = sumRowsOp(cpu, java.util.Arrays.copyOf(x, rows * cols), rows, cols, new float[cols]);
                float[] r = new float[4 + cols];
                r[0] = sumOp(cpu, x, 1f);
                r[1] = sumSquaresOp(cpu, x);
                r[2] = mseOp(cpu, x, t, null);
                r[3] = mseOp(cpu, x, t, w);
                System.arraycopy(rowSums, 0, r, 4, cols);
                results[run] = r;
            }
        } finally {
            CpuKernels.ct_cpu_set_num_threads(threads);
        }
        assertArrayEquals(results[0], results[1], "1 thread vs " + Math.max(threads, 3) + " threads: bitwise");
    }

    @Test
    void cpuEmptyInputsAndNonFiniteValues() {
        checkEmptyAndNonFinite(OpTesting.cpu());
    }

    private static void checkEmptyAndNonFinite(Backend be) {
        float[] none = new float[0];
        assertEquals(0f, sumOp(be, none, 1f), "sum of nothing");
        assertEquals(0f, sumSquaresOp(be, none), "sumSquares of nothing");
        assertTrue(Float.isNaN(mseOp(be, none, none, null)), "mse of nothing is NaN (0 / 0), as in torch");
        assertEquals(0, sumBackwardOp(be, 1f, none, 1f).length);
        assertEquals(0, mseBackwardOp(be, none, none, null, 1f, none).length);
        float[] out0 = {1f, -2f, 3f};
        assertArrayEquals(out0, sumRowsOp(be, none, 0, 3, out0), "sumRows over zero rows leaves out unchanged");

        float[] x = toFloat(randnF(1, 100_000));
        x[54_321] = Float.NaN;
        assertTrue(Float.isNaN(sumOp(be, x, 1f)), "NaN propagates through sum");
        assertTrue(Float.isNaN(sumSquaresOp(be, x)), "NaN propagates through sumSquares");
        x[54_321] = Float.POSITIVE_INFINITY;
        assertEquals(Float.POSITIVE_INFINITY, sumSquaresOp(be, x), "Inf propagates through sumSquares");
        float[] rows = sumRowsOp(be, x, 1000, 100, new float[100]);
        assertEquals(Float.POSITIVE_INFINITY, rows[21], "Inf reaches its own column");
        assertTrue(Float.isFinite(rows[20]) && Float.isFinite(rows[22]), "and only that column");
    }

    // ---- 4. CUDA against CPU ------------------------------------------------------------------------------------

    @Test
    void cudaMatchesCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        Backend cpu = OpTesting.cpu();
        int[] sizes = java.util.Arrays.copyOf(SIZES, SIZES.length + 1);
        sizes[SIZES.length] = 9_000_001;
        for (int n : sizes) {
            float[] x = toFloat(randnF(n, n));
            float[] t = toFloat(randnF(n + 1, n));
            float[] w = toFloat(uniformF(n + 2, n, 0, 3));
            float[] g0 = toFloat(randnF(n + 3, n));
            String s = " n=" + n;
            assertClose("sum" + s, new float[] {sumOp(cuda, x, 0.5f)}, new float[] {sumOp(cpu, x, 0.5f)}, 1e-4);
            assertClose("sumSquares" + s, new float[] {sumSquaresOp(cuda, x)}, new float[] {sumSquaresOp(cpu, x)},
                    1e-4);
            assertClose("mse" + s, new float[] {mseOp(cuda, x, t, null)}, new float[] {mseOp(cpu, x, t, null)}, 1e-4);
            assertClose("weighted mse" + s, new float[] {mseOp(cuda, x, t, w)}, new float[] {mseOp(cpu, x, t, w)},
                    1e-4);
            assertClose("sum backward" + s, sumBackwardOp(cuda, 1.3f, g0, 0.25f), sumBackwardOp(cpu, 1.3f, g0, 0.25f),
                    1e-4);
            assertClose("mse backward" + s, mseBackwardOp(cuda, x, t, null, 0.9f, g0),
                    mseBackwardOp(cpu, x, t, null, 0.9f, g0), 1e-4);
            assertClose("weighted mse backward" + s, mseBackwardOp(cuda, x, t, w, 0.9f, g0),
                    mseBackwardOp(cpu, x, t, w, 0.9f, g0), 1e-4);
        }
        for (int[] shape : ROW_SHAPES) {
            int rows = shape[0];
            int cols = shape[1];
            float[] x = toFloat(randnF(rows + 17L * cols, rows * cols));
            float[] out0 = toFloat(randnF(cols, cols));
            assertClose("sumRows " + rows + "x" + cols, sumRowsOp(cuda, x, rows, cols, out0),
                    sumRowsOp(cpu, x, rows, cols, out0), 1e-4);
        }
    }

    @Test
    void cudaIsDeterministic() {
        Backend cuda = OpTesting.cudaOrSkip();
        for (int n : new int[] {8193, 9_000_001}) {
            float[] x = toFloat(randnF(n, n));
            float[] t = toFloat(randnF(n + 1, n));
            float a = sumOp(cuda, x, 1f);
            float b = mseOp(cuda, x, t, null);
            float c = sumSquaresOp(cuda, x);
            for (int rep = 0; rep < 3; rep++) {
                assertEquals(Float.floatToRawIntBits(a), Float.floatToRawIntBits(sumOp(cuda, x, 1f)), "sum n=" + n);
                assertEquals(Float.floatToRawIntBits(b), Float.floatToRawIntBits(mseOp(cuda, x, t, null)),
                        "mse n=" + n);
                assertEquals(Float.floatToRawIntBits(c), Float.floatToRawIntBits(sumSquaresOp(cuda, x)),
                        "sumSquares n=" + n);
            }
        }
        float[] x = toFloat(randnF(5, 4096 * 1024));
        float[] first = sumRowsOp(cuda, x, 4096, 1024, new float[1024]);
        assertArrayEquals(first, sumRowsOp(cuda, x, 4096, 1024, new float[1024]), "sumRows");
    }

    @Test
    void cudaEmptyInputsAndNonFiniteValues() {
        checkEmptyAndNonFinite(OpTesting.cudaOrSkip());
    }
}
