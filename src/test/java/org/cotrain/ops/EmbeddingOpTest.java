package org.cotrain.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** embedding.h: table lookup, its deterministic backward, and Diffusion Policy's sinusoidal step embedding. */
class EmbeddingOpTest {
    // (n, V, C): odd sizes, heavy repetition (n >> V), and the denoiser's size (B*T = 256*20 ids into ~1000 rows)
    private static final int[][] SIZES = {
        {1, 1, 1}, {3, 2, 5}, {7, 5, 3}, {33, 17, 33}, {257, 3, 7}, {100, 257, 31}, {5120, 1000, 256}, {4099, 7, 65},
    };

    // ---- float64 reference ----------------------------------------------------------------------------------------

    /** out[i, :] = table[index[i], :]. table (V, C), out (n, C). */
    private static double[] refForward(double[] table, int[] index, int c) {
        double[] out = new double[index.length * c];
        for (int i = 0; i < index.length; i++) {
            System.arraycopy(table, index[i] * c, out, i * c, c);
        }
        return out;
    }

    /** dtable[index[i], :] += dout[i, :]. */
    private static void refBackward(double[] dout, int[] index, double[] dtable, int c) {
        for (int i = 0; i < index.length; i++) {
            for (int j = 0; j < c; j++) {
                dtable[index[i] * c + j] += dout[i * c + j];
            }
        }
    }

    /** SinusoidalPosEmb(dim): out[b, j] = sin(t[b] f_j), out[b, half + j] = cos(t[b] f_j), f_j = 10000^(-j/(half-1)). */
    private static double[] refSinusoidal(double[] t, int dim) {
        int half = dim / 2;
        double[] out = new double[t.length * dim];
        for (int b = 0; b < t.length; b++) {
            for (int j = 0; j < half; j++) {
                double freq = Math.exp(-j * Math.log(10000.0) / (half - 1));
                out[b * dim + j] = Math.sin(t[b] * freq);
                out[b * dim + half + j] = Math.cos(t[b] * freq);
            }
        }
        return out;
    }

    private static int[] randomIndex(long seed, int n, int v) {
        Random r = new Random(seed);
        int[] index = new int[n];
        for (int i = 0; i < n; i++) {
            index[i] = r.nextInt(v);
        }
        return index;
    }

    private static float[] forward(Backend b, float[] table, int[] index, int v, int c) {
        try (Tensor tt = b.of(table, v, c); Tensor ti = b.of(index, index.length);
                Tensor out = b.zeros(index.length, c)) {
            Ops.embeddingForward(tt, ti, out);
            return out.toFloatArray();
        }
    }

    private static float[] backward(Backend b, float[] dout, int[] index, float[] dtable0, int v, int c) {
        try (Tensor td = b.of(dout, index.length, c); Tensor ti = b.of(index, index.length);
                Tensor dtable = b.of(dtable0, v, c)) {
            Ops.embeddingBackward(td, ti, dtable);
            return dtable.toFloatArray();
        }
    }

    // ---- the reference against finite differences ---------------------------------------------------------------

    @Test
    void referenceBackwardMatchesNumericalGradient() {
        int n = 13;
        int v = 5;
        int c = 4;
        int[] index = randomIndex(1, n, v);
        double[] table = OpTesting.randn(2, v * c);
        double[] dout = OpTesting.randn(3, n * c);
        double[] numerical = OpTesting.numericalGradient(t -> OpTesting.dot(dout, refForward(t, index, c)), table,
                1e-6);
        double[] analytic = new double[v * c];
        refBackward(dout, index, analytic, c);
        OpTesting.assertClose("embedding reference gradient", analytic, numerical, 1e-6);
    }

    // ---- CPU against the reference --------------------------------------------------------------------------------

    @Test
    void cpuForwardCopiesRows() {
        for (int[] s : SIZES) {
            int n = s[0];
            int v = s[1];
            int c = s[2];
            float[] table = OpTesting.toFloat(OpTesting.randn(v, v * c));
            int[] index = randomIndex(n, n, v);
            float[] out = forward(OpTesting.cpu(), table, index, v, c);
            // a lookup is a copy: exact
            assertArrayEquals(OpTesting.toFloat(refForward(OpTesting.toDouble(table), index, c)), out,
                    "embedding forward n=" + n + " V=" + v + " C=" + c);
        }
    }

    @Test
    void cpuForwardTakesIndicesOfAnyShape() {
        int v = 11;
        int c = 6;
        float[] table = OpTesting.toFloat(OpTesting.randn(1, v * c));
        int[] index = randomIndex(2, 4 * 5, v);
        try (Tensor tt = OpTesting.cpu().of(table, v, c); Tensor ti = OpTesting.cpu().of(index, 4, 5);
                Tensor out = OpTesting.cpu().zeros(4, 5, c)) {
            Ops.embeddingForward(tt, ti, out);
            assertArrayEquals(OpTesting.toFloat(refForward(OpTesting.toDouble(table), index, c)), out.toFloatArray());
        }
    }

    @Test
    void cpuBackwardMatchesReferenceAndAccumulates() {
        for (int[] s : SIZES) {
            int n = s[0];
            int v = s[1];
            int c = s[2];
            int[] index = randomIndex(7 * n, n, v);
            float[] dout = OpTesting.toFloat(OpTesting.randn(n + 1, n * c));
            float[] dtable0 = OpTesting.toFloat(OpTesting.randn(v + 2, v * c));  // non-zero: the op must add
            double[] expected = OpTesting.toDouble(dtable0);
            refBackward(OpTesting.toDouble(dout), index, expected, c);
            float[] dtable = backward(OpTesting.cpu(), dout, index, dtable0, v, c);
            OpTesting.assertClose("embedding backward n=" + n + " V=" + v + " C=" + c, dtable, expected, 1e-5);
        }
    }

    @Test
    void cpuBackwardAddsInIndexOrder() {
        // The header fixes the rounding: each row adds its contributions in increasing i, starting from its old
        // value. So the result equals this float32 loop bit for bit, whatever the thread count.
        for (int[] s : SIZES) {
            int n = s[0];
            int v = s[1];
            int c = s[2];
            int[] index = randomIndex(11 * n, n, v);
            float[] dout = new float[n * c];
            Random r = new Random(n);
            for (int k = 0; k < dout.length; k++) {
                dout[k] = (float) Math.scalb(r.nextGaussian(), r.nextInt(30) - 15);  // wide exponents: order shows
            }
            float[] dtable0 = OpTesting.toFloat(OpTesting.randn(v, v * c));
            float[] expected = dtable0.clone();
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < c; j++) {
                    expected[index[i] * c + j] += dout[i * c + j];
                }
            }
            assertArrayEquals(expected, backward(OpTesting.cpu(), dout, index, dtable0, v, c),
                    "embedding backward order n=" + n + " V=" + v + " C=" + c);
        }
    }

    // ---- out-of-range indices -------------------------------------------------------------------------------------

    @Test
    void opsRejectsOutOfRangeIndicesOnTheCpu() {
        try (Tensor table = OpTesting.cpu().zeros(4, 3); Tensor out = OpTesting.cpu().zeros(2, 3);
                Tensor bad = OpTesting.cpu().of(new int[] {1, 4}, 2); Tensor neg = OpTesting.cpu().of(new int[] {-1, 0}, 2)) {
            assertThrows(IllegalArgumentException.class, () -> Ops.embeddingForward(table, bad, out));
            assertThrows(IllegalArgumentException.class, () -> Ops.embeddingForward(table, neg, out));
            assertThrows(IllegalArgumentException.class, () -> Ops.embeddingBackward(out, bad, table));
            assertThrows(IllegalArgumentException.class, () -> Ops.embeddingBackward(out, neg, table));
        }
    }

    /** Below Ops (which checks host indices), the kernels themselves must not read through a bad index. */
    private static void kernelsGuardBadIndices(Backend b) {
        int v = 4;
        int c = 5;
        float[] table = OpTesting.toFloat(OpTesting.randn(1, v * c));
        int[] index = {2, -1, 0, Integer.MIN_VALUE, 3, 4, Integer.MAX_VALUE};
        try (Tensor tt = b.of(table, v, c); Tensor ti = b.of(index, index.length);
                Tensor out = b.zeros(index.length, c)) {
            b.embeddingForward(tt, ti, out, index.length, v, c);
            float[] o = out.toFloatArray();
            for (int i = 0; i < index.length; i++) {
                for (int j = 0; j < c; j++) {
                    float got = o[i * c + j];
                    if (index[i] < 0 || index[i] >= v) {
                        assertTrue(Float.isNaN(got), "an index outside [0, V) gives a NaN row, row " + i);
                    } else {
                        assertEquals(table[index[i] * c + j], got, 0f, "row " + i);
                    }
                }
            }
        }
        // the backward ignores indices outside [0, V), below and above
        int[] bwdIndex = {2, -1, 4, 0, 1000, Integer.MIN_VALUE, Integer.MAX_VALUE, 2};
        float[] dout = OpTesting.toFloat(OpTesting.randn(2, bwdIndex.length * c));
        float[] dtable0 = OpTesting.toFloat(OpTesting.randn(3, v * c));
        float[] expected = dtable0.clone();
        for (int i = 0; i < bwdIndex.length; i++) {
            if (bwdIndex[i] >= 0 && bwdIndex[i] < v) {
                for (int j = 0; j < c; j++) {
                    expected[bwdIndex[i] * c + j] += dout[i * c + j];
                }
            }
        }
        try (Tensor td = b.of(dout, bwdIndex.length, c); Tensor ti = b.of(bwdIndex, bwdIndex.length);
                Tensor dtable = b.of(dtable0, v, c)) {
            b.embeddingBackward(td, ti, dtable, bwdIndex.length, v, c);
            assertArrayEquals(expected, dtable.toFloatArray());
        }
    }

    @Test
    void cpuKernelsGuardBadIndices() {
        kernelsGuardBadIndices(OpTesting.cpu());
    }

    @Test
    void emptyIndexIsFine() {
        try (Tensor table = OpTesting.cpu().of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
                Tensor index = OpTesting.cpu().zeros(DType.I32, 0); Tensor out = OpTesting.cpu().zeros(0, 3)) {
            Ops.embeddingForward(table, index, out);
            Ops.embeddingBackward(out, index, table);
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, table.toFloatArray());
        }
    }

    // ---- sinusoidal embedding -------------------------------------------------------------------------------------

    private static float[] sinusoidal(Backend b, float[] t, int dim) {
        try (Tensor tt = b.of(t, t.length); Tensor out = b.zeros(t.length, dim)) {
            Ops.sinusoidalEmbedding(tt, out);
            return out.toFloatArray();
        }
    }

    private static float[] diffusionSteps(long seed, int n) {
        Random r = new Random(seed);
        float[] t = new float[n];
        for (int i = 0; i < n; i++) {
            // integer steps 0..99 as in training, plus fractional and negative values
            t[i] = i % 3 == 0 ? r.nextInt(100) : (float) (r.nextDouble() * 200 - 50);
        }
        return t;
    }

    @Test
    void sinusoidalMatchesReference() {
        for (int dim : new int[] {4, 6, 8, 34, 128, 256}) {
            for (int n : new int[] {1, 3, 7, 33, 256}) {
                float[] t = diffusionSteps(dim * 1000L + n, n);
                float[] out = sinusoidal(OpTesting.cpu(), t, dim);
                OpTesting.assertClose("sinusoidal n=" + n + " dim=" + dim, out,
                        refSinusoidal(OpTesting.toDouble(t), dim), 1e-6);
            }
        }
    }

    @Test
    void sinusoidalHandValues() {
        // t = 0: every sine 0, every cosine 1
        float[] zero = sinusoidal(OpTesting.cpu(), new float[] {0f}, 8);
        assertArrayEquals(new float[] {0, 0, 0, 0, 1, 1, 1, 1}, zero);
        // dim 4: half = 2, frequencies 1 and 10000^-1
        float[] one = sinusoidal(OpTesting.cpu(), new float[] {1f, 2f}, 4);
        float[] expected = {
            (float) Math.sin(1), (float) Math.sin(1e-4), (float) Math.cos(1), (float) Math.cos(1e-4),
            (float) Math.sin(2), (float) Math.sin(2e-4), (float) Math.cos(2), (float) Math.cos(2e-4),
        };
        assertArrayEquals(expected, one, 1e-7f);
        // dim 6: half = 3, frequencies 1, 1/100, 1/10000
        float[] six = sinusoidal(OpTesting.cpu(), new float[] {50f}, 6);
        float[] expected6 = {
            (float) Math.sin(50), (float) Math.sin(0.5), (float) Math.sin(0.005),
            (float) Math.cos(50), (float) Math.cos(0.5), (float) Math.cos(0.005),
        };
        assertArrayEquals(expected6, six, 1e-7f);
    }

    @Test
    void sinusoidalRejectsOddOrSmallSizes() {
        for (int dim : new int[] {2, 3, 5}) {
            try (Tensor t = OpTesting.cpu().zeros(2); Tensor out = OpTesting.cpu().zeros(2, dim)) {
                assertThrows(IllegalArgumentException.class, () -> Ops.sinusoidalEmbedding(t, out), "dim " + dim);
            }
        }
    }

    // ---- CUDA against the CPU -------------------------------------------------------------------------------------

    @Test
    void cudaMatchesCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        for (int[] s : SIZES) {
            int n = s[0];
            int v = s[1];
            int c = s[2];
            float[] table = OpTesting.toFloat(OpTesting.randn(v, v * c));
            int[] index = randomIndex(n, n, v);
            String what = " n=" + n + " V=" + v + " C=" + c;
            assertArrayEquals(forward(OpTesting.cpu(), table, index, v, c), forward(cuda, table, index, v, c),
                    "cuda embedding forward" + what);
            float[] dout = OpTesting.toFloat(OpTesting.randn(n + 1, n * c));
            float[] dtable0 = OpTesting.toFloat(OpTesting.randn(v + 2, v * c));
            float[] cpu = backward(OpTesting.cpu(), dout, index, dtable0, v, c);
            float[] gpu = backward(cuda, dout, index, dtable0, v, c);
            OpTesting.assertClose("cuda embedding backward" + what, gpu, cpu, 1e-4);
            // deterministic: no float atomics, so a second run is bit-identical
            assertArrayEquals(gpu, backward(cuda, dout, index, dtable0, v, c), "cuda backward rerun" + what);
        }
    }

    @Test
    void cudaKernelsGuardBadIndices() {
        kernelsGuardBadIndices(OpTesting.cudaOrSkip());
    }

    @Test
    void cudaSinusoidalMatchesCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        for (int dim : new int[] {4, 6, 128, 256}) {
            for (int n : new int[] {1, 7, 33, 256}) {
                float[] t = diffusionSteps(dim + n, n);
                OpTesting.assertClose("cuda sinusoidal n=" + n + " dim=" + dim, sinusoidal(cuda, t, dim),
                        sinusoidal(OpTesting.cpu(), t, dim), 1e-6);
            }
        }
    }
}
