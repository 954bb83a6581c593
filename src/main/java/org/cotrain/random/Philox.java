package org.cotrain.random;

/**
 * Philox4x32-10, the Java twin of native/include/cotrain/philox.h, bit for bit: random number {@code index} of
 * stream {@code seed} is a pure function of the two, on the JVM, the CPU backend and the GPU alike. Used by host
 * code that needs the same numbers as the kernels (and by the tests' float64 references).
 */
public final class Philox {
    private static final long M0 = 0xD2511F53L;
    private static final long M1 = 0xCD9E8D57L;
    private static final int W0 = 0x9E3779B9;
    private static final int W1 = 0xBB67AE85;

    private Philox() {}

    /** The general block function: four 32-bit counter words and two key words in, four words out. */
    public static int[] philox4x32_10(int c0, int c1, int c2, int c3, int k0, int k1) {
        for (int round = 0; round < 10; round++) {
            long p0 = M0 * (c0 & 0xFFFFFFFFL);
            long p1 = M1 * (c2 & 0xFFFFFFFFL);
            int hi0 = (int) (p0 >>> 32);
            int lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32);
            int lo1 = (int) p1;
            c0 = hi1 ^ c1 ^ k0;
            c1 = lo1;
            c2 = hi0 ^ c3 ^ k1;
            c3 = lo0;
            k0 += W0;
            k1 += W1;
        }
        return new int[] {c0, c1, c2, c3};
    }

    /** The block for a 64-bit counter (upper counter words zero) and a 64-bit key, as cotrain uses it. */
    public static int[] block(long seed, long counter) {
        return philox4x32_10((int) counter, (int) (counter >>> 32), 0, 0, (int) seed, (int) (seed >>> 32));
    }

    /** Uniform in [0, 1): the top 24 bits of word 0. */
    public static float uniform(long seed, long index) {
        return (block(seed, index)[0] >>> 8) * (1.0f / 16777216.0f);
    }

    /** Standard normal by Box-Muller on words 0 and 1, in double, rounded to float. */
    public static float normal(long seed, long index) {
        int[] r = block(seed, index);
        double u1 = ((r[0] & 0xFFFFFFFFL) + 1.0) * (1.0 / 4294967296.0);
        double u2 = (r[1] & 0xFFFFFFFFL) * (1.0 / 4294967296.0);
        return (float) (Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(6.283185307179586 * u2));
    }

    /** Integer in [low, high), by multiply-shift of word 0. */
    public static int randint(long seed, long index, int low, int high) {
        long range = (long) high - (long) low;
        long word = block(seed, index)[0] & 0xFFFFFFFFL;
        return (int) (low + ((word * range) >>> 32));
    }

    /**
     * Dropout's keep decision (philox.h, ct_philox_keep): four per block, element index using word (index &amp; 3) of
     * block (index &gt;&gt;&gt; 2), kept when that word's top 24 bits as a uniform in [0, 1) are &gt;= p.
     */
    public static boolean keep(long seed, long index, float p) {
        int word = block(seed, index >>> 2)[(int) (index & 3)];
        return (word >>> 8) * (1.0f / 16777216.0f) >= p;
    }
}
