package org.cotrain.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import org.cotrain.random.Philox;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * rng.h: the native uniform, normal and randint ops against the Java twin org.cotrain.random.Philox (bit for bit,
 * normal to one float ulp), their statistics, the (seed, offset + i) keying, and CUDA against the CPU.
 */
class RngOpTest {
    // odd sizes, and sizes above the parallel threshold so that the threaded split is exercised too
    private static final int[] SIZES = {1, 3, 7, 33, 257, 4099, 40_000};
    // seeds with the high bit set and offsets that make offset + i cross the counter's 32-bit word boundary
    private static final long[][] SEED_OFFSET = {
        {0, 0}, {1234, 17}, {0x9E3779B97F4A7C15L, 0xFFFFFFFFL - 100}, {-1L, 5L << 40}, {42, Long.MAX_VALUE - 50_000},
    };

    // ---- the Java twin: the reference the native ops must equal -------------------------------------------------

    private static float[] javaUniform(long seed, long offset, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = Philox.uniform(seed, offset + i);
        }
        return out;
    }

    private static float[] javaNormal(long seed, long offset, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = Philox.normal(seed, offset + i);
        }
        return out;
    }

    private static int[] javaRandint(long seed, long offset, int n, int low, int high) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = Philox.randint(seed, offset + i, low, high);
        }
        return out;
    }

    private static float[] uniform(Backend b, int n, long seed, long offset) {
        try (Tensor t = b.empty(DType.F32, n)) {
            Ops.randUniform(t, seed, offset);
            return t.toFloatArray();
        }
    }

    private static float[] normal(Backend b, int n, long seed, long offset) {
        try (Tensor t = b.empty(DType.F32, n)) {
            Ops.randNormal(t, seed, offset);
            return t.toFloatArray();
        }
    }

    private static int[] randint(Backend b, int n, int low, int high, long seed, long offset) {
        try (Tensor t = b.empty(DType.I32, n)) {
            Ops.randInt(t, low, high, seed, offset);
            return t.toIntArray();
        }
    }

    /** Every element within one float ulp of the expected one (normals go through double log and cos). */
    private static void assertWithinUlp(String what, float[] actual, float[] expected) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            float a = actual[i];
            float e = expected[i];
            if (!(Math.abs(a - e) <= Math.ulp(e)) || !Float.isFinite(a)) {
                fail(what + ": element " + i + " is " + a + ", expected " + e);
            }
        }
    }

    // ---- CPU against the Java twin --------------------------------------------------------------------------------

    @Test
    void cpuUniformEqualsJavaPhiloxBitForBit() {
        for (long[] so : SEED_OFFSET) {
            for (int n : SIZES) {
                assertArrayEquals(javaUniform(so[0], so[1], n), uniform(OpTesting.cpu(), n, so[0], so[1]),
                        "uniform n=" + n + " seed=" + so[0] + " offset=" + so[1]);
            }
        }
    }

    @Test
    void cpuNormalEqualsJavaPhiloxToOneUlp() {
        for (long[] so : SEED_OFFSET) {
            for (int n : SIZES) {
                assertWithinUlp("normal n=" + n + " seed=" + so[0] + " offset=" + so[1],
                        normal(OpTesting.cpu(), n, so[0], so[1]), javaNormal(so[0], so[1], n));
            }
        }
    }

    @Test
    void cpuRandintEqualsJavaPhiloxBitForBit() {
        int[][] ranges = {{0, 1}, {0, 100}, {-7, 3}, {5, 1006}, {Integer.MIN_VALUE, Integer.MAX_VALUE}};
        for (long[] so : SEED_OFFSET) {
            for (int[] r : ranges) {
                for (int n : SIZES) {
                    assertArrayEquals(javaRandint(so[0], so[1], n, r[0], r[1]),
                            randint(OpTesting.cpu(), n, r[0], r[1], so[0], so[1]),
                            "randint [" + r[0] + ", " + r[1] + ") n=" + n + " seed=" + so[0]);
                }
            }
        }
    }

    @Test
    void emptyTensorsAreFine() {
        assertEquals(0, uniform(OpTesting.cpu(), 0, 1, 0).length);
        assertEquals(0, normal(OpTesting.cpu(), 0, 1, 0).length);
        assertEquals(0, randint(OpTesting.cpu(), 0, 0, 5, 1, 0).length);
    }

    @Test
    void randintRejectsAnEmptyRange() {
        try (Tensor t = OpTesting.cpu().empty(DType.I32, 4)) {
            assertThrows(IllegalArgumentException.class, () -> Ops.randInt(t, 3, 3, 1, 0));
            assertThrows(IllegalArgumentException.class, () -> Ops.randInt(t, 4, 3, 1, 0));
        }
    }

    // ---- statistics -----------------------------------------------------------------------------------------------

    @Test
    void normalsHaveMeanZeroAndVarianceOne() {
        int n = 1_000_000;
        double[] z = OpTesting.toDouble(normal(OpTesting.cpu(), n, 2024, 0));
        double mean = 0;
        for (double v : z) {
            mean += v;
        }
        mean /= n;
        double var = 0;
        double m4 = 0;
        for (double v : z) {
            double d = (v - mean) * (v - mean);
            var += d;
            m4 += d * d;
        }
        var /= n;
        m4 /= n;
        // standard errors: of the mean 1/sqrt(n), of the variance sqrt(2/n), of the 4th moment sqrt(96/n)
        assertTrue(Math.abs(mean) < 4 / Math.sqrt(n), "mean " + mean);
        assertTrue(Math.abs(var - 1) < 4 * Math.sqrt(2.0 / n), "variance " + var);
        assertTrue(Math.abs(m4 - 3) < 4 * Math.sqrt(96.0 / n), "fourth moment " + m4 + " (Gaussian: 3)");
        // tails: P(|z| > 3) = 0.0026998
        long tail = 0;
        for (double v : z) {
            tail += Math.abs(v) > 3 ? 1 : 0;
        }
        double expectedTail = 0.0026998 * n;
        assertTrue(Math.abs(tail - expectedTail) < 5 * Math.sqrt(expectedTail), "tail count " + tail);
    }

    @Test
    void uniformsLieInUnitIntervalWithMeanHalf() {
        int n = 1_000_000;
        float[] u = uniform(OpTesting.cpu(), n, 99, 12345);
        double mean = 0;
        int[] deciles = new int[10];
        for (float v : u) {
            assertTrue(v >= 0f && v < 1f, "uniform " + v);
            mean += v;
            deciles[(int) (v * 10)]++;
        }
        mean /= n;
        assertTrue(Math.abs(mean - 0.5) < 4 * Math.sqrt(1.0 / 12 / n), "mean " + mean);
        // chi-square over 10 bins, 9 degrees of freedom: 40 is far out in the tail (p ~ 1e-5)
        assertTrue(chiSquare(deciles, n / 10.0) < 40, "deciles " + java.util.Arrays.toString(deciles));
    }

    @Test
    void randintCoversTheRangeUniformly() {
        int n = 200_000;
        int low = -3;
        int high = 14;
        int[] r = randint(OpTesting.cpu(), n, low, high, 5, 0);
        int[] counts = new int[high - low];
        for (int v : r) {
            assertTrue(v >= low && v < high, "randint " + v);
            counts[v - low]++;
        }
        for (int c : counts) {
            assertTrue(c > 0, "every value occurs");
        }
        // 16 degrees of freedom: mean 16, sd ~5.7; 60 is a generous bound (p < 1e-6)
        assertTrue(chiSquare(counts, (double) n / counts.length) < 60,
                "counts " + java.util.Arrays.toString(counts));
    }

    private static double chiSquare(int[] counts, double expected) {
        double chi = 0;
        for (int c : counts) {
            chi += (c - expected) * (c - expected) / expected;
        }
        return chi;
    }

    // ---- (seed, offset + i) keying --------------------------------------------------------------------------------

    @Test
    void anOffsetShiftsTheStream() {
        int n = 1000;
        long seed = 77;
        float[] u0 = uniform(OpTesting.cpu(), n + 300, seed, 0);
        float[] z0 = normal(OpTesting.cpu(), n + 300, seed, 0);
        int[] r0 = randint(OpTesting.cpu(), n + 300, 0, 1000, seed, 0);
        for (int k : new int[] {1, 7, 256, 300}) {
            float[] u = uniform(OpTesting.cpu(), n, seed, k);
            float[] z = normal(OpTesting.cpu(), n, seed, k);
            int[] r = randint(OpTesting.cpu(), n, 0, 1000, seed, k);
            for (int i = 0; i < n; i++) {
                assertEquals(u0[i + k], u[i], 0f, "uniform offset " + k + " element " + i);
                assertEquals(z0[i + k], z[i], 0f, "normal offset " + k + " element " + i);
                assertEquals(r0[i + k], r[i], "randint offset " + k + " element " + i);
            }
        }
    }

    @Test
    void differentSeedsGiveDifferentStreams() {
        float[] a = uniform(OpTesting.cpu(), 1000, 1, 0);
        float[] b = uniform(OpTesting.cpu(), 1000, 2, 0);
        int same = 0;
        for (int i = 0; i < a.length; i++) {
            same += a[i] == b[i] ? 1 : 0;
        }
        assertTrue(same < 5, same + " equal elements");
    }

    // ---- CUDA against the CPU -------------------------------------------------------------------------------------

    @Test
    void cudaUniformAndRandintAreBitIdenticalToCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        for (long[] so : SEED_OFFSET) {
            for (int n : new int[] {1, 3, 33, 257, 100_003}) {
                assertArrayEquals(uniform(OpTesting.cpu(), n, so[0], so[1]), uniform(cuda, n, so[0], so[1]),
                        "uniform n=" + n + " seed=" + so[0]);
                assertArrayEquals(randint(OpTesting.cpu(), n, -7, 1000, so[0], so[1]),
                        randint(cuda, n, -7, 1000, so[0], so[1]), "randint n=" + n + " seed=" + so[0]);
                assertArrayEquals(randint(OpTesting.cpu(), n, Integer.MIN_VALUE, Integer.MAX_VALUE, so[0], so[1]),
                        randint(cuda, n, Integer.MIN_VALUE, Integer.MAX_VALUE, so[0], so[1]),
                        "randint full range n=" + n + " seed=" + so[0]);
            }
        }
        assertEquals(0, uniform(cuda, 0, 1, 0).length);
    }

    @Test
    void cudaNormalMatchesCpuToOneUlp() {
        Backend cuda = OpTesting.cudaOrSkip();
        for (long[] so : SEED_OFFSET) {
            for (int n : new int[] {1, 3, 33, 257, 100_003}) {
                assertWithinUlp("cuda normal n=" + n + " seed=" + so[0], normal(cuda, n, so[0], so[1]),
                        normal(OpTesting.cpu(), n, so[0], so[1]));
            }
        }
        assertEquals(0, normal(cuda, 0, 1, 0).length);
    }
}
