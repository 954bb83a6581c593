package org.cotrain.random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The Java twin of philox.h: the block function against the Random123 known-answer vectors for philox4x32-10, and
 * the derived draws (uniform, normal, randint, keep) against their definitions in rng.h. The native ops are checked
 * against this class bit for bit in org.cotrain.ops.RngOpTest.
 */
class PhiloxTest {

    // Random123 kat_vectors, philox4x32-10: counter (4 words), key (2 words) -> output (4 words).
    private static final int[][][] KAT = {
        {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
        {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
            {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
        {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
            {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    };

    @Test
    void blockFunctionMatchesRandom123KnownAnswers() {
        for (int[][] v : KAT) {
            int[] c = v[0];
            int[] k = v[1];
            int[] out = Philox.philox4x32_10(c[0], c[1], c[2], c[3], k[0], k[1]);
            assertArrayEquals(v[2], out, () -> "philox4x32_10 of counter " + hex(c) + " key " + hex(k));
        }
    }

    @Test
    void blockPutsCounterAndSeedLowWordFirstWithUpperCounterWordsZero() {
        // counter 0, key 0 is the first known answer (its upper counter words are zero too)
        assertArrayEquals(KAT[0][2], Philox.block(0L, 0L));
        long seed = 0x299f31d0a4093822L;
        long counter = 0x85a308d3243f6a88L;
        assertArrayEquals(Philox.philox4x32_10(0x243f6a88, 0x85a308d3, 0, 0, 0xa4093822, 0x299f31d0),
                Philox.block(seed, counter));
        // and the upper counter words really are zero: the third vector (c2, c3 != 0) differs
        assertTrue(Philox.block(seed, counter)[0] != KAT[2][2][0]);
    }

    @Test
    void uniformIsTheTop24BitsOfWordZero() {
        long seed = 0x9E3779B97F4A7C15L;  // high bit set: the seed is an unsigned 64-bit key
        for (long index : new long[] {0, 1, 2, 12345, 0xFFFFFFFFL, 0x100000000L, Long.MAX_VALUE, -1L}) {
            int w0 = Philox.block(seed, index)[0];
            float expected = (float) ((w0 >>> 8) / 16777216.0);
            float u = Philox.uniform(seed, index);
            assertEquals(expected, u, 0f);
            assertTrue(u >= 0f && u < 1f, "uniform " + u);
        }
        // the extremes of word 0 map to 0 and to the largest float below 1
        assertEquals(0f, (0 >>> 8) * (1.0f / 16777216.0f));
        assertEquals(Math.nextDown(1f), (0xffffffff >>> 8) * (1.0f / 16777216.0f));
    }

    @Test
    void normalIsBoxMullerOnWordsZeroAndOne() {
        long seed = 42;
        for (long index = 0; index < 1000; index++) {
            int[] r = Philox.block(seed, index);
            double u1 = (Integer.toUnsignedLong(r[0]) + 1.0) / 4294967296.0;
            double u2 = Integer.toUnsignedLong(r[1]) / 4294967296.0;
            double expected = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
            float z = Philox.normal(seed, index);
            assertTrue(Float.isFinite(z));
            assertEquals(expected, z, 1e-6 * Math.max(1, Math.abs(expected)), "normal at " + index);
        }
    }

    @Test
    void randintIsMultiplyShiftOfWordZeroAndStaysInRange() {
        long seed = 7;
        int[][] ranges = {{0, 1}, {-3, 14}, {0, 1000}, {Integer.MIN_VALUE, Integer.MAX_VALUE}, {-5, -4}};
        for (int[] range : ranges) {
            long width = (long) range[1] - range[0];
            for (long index = 0; index < 2000; index++) {
                long w0 = Integer.toUnsignedLong(Philox.block(seed, index)[0]);
                long expected = range[0]
                        + java.math.BigInteger.valueOf(w0).multiply(java.math.BigInteger.valueOf(width))
                                .shiftRight(32).longValueExact();
                int r = Philox.randint(seed, index, range[0], range[1]);
                assertEquals(expected, r, "randint in [" + range[0] + ", " + range[1] + ") at " + index);
                assertTrue(r >= range[0] && r < range[1]);
            }
        }
    }

    @Test
    void keepIsUniformAtLeastP() {
        long seed = 3;
        int kept = 0;
        for (long index = 0; index < 10000; index++) {
            // four decisions per block: word (index & 3) of block (index >> 2), its top 24 bits as the uniform
            float u = (Philox.block(seed, index >>> 2)[(int) (index & 3)] >>> 8) * (1.0f / 16777216.0f);
            assertEquals(u >= 0.25f, Philox.keep(seed, index, 0.25f));
            assertTrue(Philox.keep(seed, index, 0f), "p = 0 keeps everything");
            kept += Philox.keep(seed, index, 0.25f) ? 1 : 0;
        }
        assertTrue(Math.abs(kept / 10000.0 - 0.75) < 4 * Math.sqrt(0.75 * 0.25 / 10000), "kept " + kept);
    }

    @Test
    void differentSeedsAndIndicesGiveDifferentBlocks() {
        assertTrue(Philox.block(1, 0)[0] != Philox.block(2, 0)[0]);
        assertTrue(Philox.block(1, 0)[0] != Philox.block(1, 1)[0]);
        assertTrue(Philox.block(1, 0)[0] != Philox.block(1, 1L << 32)[0], "the counter's high word counts");
        assertTrue(Philox.block(1, 0)[0] != Philox.block(1 + (1L << 32), 0)[0], "the seed's high word counts");
    }

    private static String hex(int[] words) {
        StringBuilder s = new StringBuilder("{");
        for (int i = 0; i < words.length; i++) {
            s.append(i == 0 ? "" : ", ").append(String.format("0x%08x", words[i]));
        }
        return s.append('}').toString();
    }
}
