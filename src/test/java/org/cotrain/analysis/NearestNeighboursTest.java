package org.cotrain.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** kNN attribution: known answers, and the brute-force heap against a full sort. */
class NearestNeighboursTest {

    @Test
    void queriesNearRealChunksAreAttributedToRealData() {
        // real chunks around +1, sim around -1 in every coordinate, five times as many sim as real
        Random r = new Random(1);
        int d = 6;
        int nReal = 40;
        int nSim = 200;
        float[] pool = new float[(nReal + nSim) * d];
        boolean[] real = new boolean[nReal + nSim];
        for (int i = 0; i < nReal + nSim; i++) {
            real[i] = i < nReal;
            for (int j = 0; j < d; j++) {
                pool[i * d + j] = (float) ((real[i] ? 1 : -1) + 0.2 * r.nextGaussian());
            }
        }
        float[] queries = new float[2 * d];
        for (int j = 0; j < d; j++) {
            queries[j] = 0.9f;           // near the real chunks
            queries[d + j] = -1.1f;      // near the sim chunks
        }
        double[] f = NearestNeighbours.realFractions(pool, real, queries, d, 10);
        assertEquals(1.0, f[0]);
        assertEquals(0.0, f[1]);
        // with k = the pool size every query sees the pool's share
        double[] all = NearestNeighbours.realFractions(pool, real, queries, d, nReal + nSim);
        for (double v : all) {
            assertEquals(nReal / (double) (nReal + nSim), v, 1e-12);
        }
    }

    @Test
    void matchesAFullSortOnRandomData() {
        Random r = new Random(2);
        int d = 5;
        int n = 300;
        float[] pool = new float[n * d];
        boolean[] real = new boolean[n];
        for (int i = 0; i < pool.length; i++) {
            pool[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < n; i++) {
            real[i] = r.nextBoolean();
        }
        // a duplicate of point 7 at index 8: ties go to the lower index
        System.arraycopy(pool, 7 * d, pool, 8 * d, d);
        float[] queries = new float[20 * d];
        for (int i = 0; i < queries.length; i++) {
            queries[i] = (float) r.nextGaussian();
        }
        System.arraycopy(pool, 7 * d, queries, 0, d);
        for (int k : new int[] {1, 7, 30}) {
            double[] got = NearestNeighbours.realFractions(pool, real, queries, d, k);
            double[] expected = new double[20];
            for (int q = 0; q < 20; q++) {
                int query = q;
                int[] order = IntStream.range(0, n).boxed().sorted(Comparator.comparingDouble((Integer p) -> {
                    double s = 0;
                    for (int j = 0; j < d; j++) {
                        double diff = (double) pool[p * d + j] - queries[query * d + j];
                        s += diff * diff;
                    }
                    return s;
                }).thenComparingInt(p -> p)).mapToInt(Integer::intValue).limit(k).toArray();
                expected[q] = IntStream.of(order).filter(p -> real[p]).count() / (double) k;
            }
            assertArrayEquals(expected, got, 1e-12, "k = " + k);
        }
    }

    @Test
    void badArgumentsAreErrors() {
        assertThrows(IllegalArgumentException.class,
                () -> NearestNeighbours.realFractions(new float[4], new boolean[2], new float[2], 2, 3));
        assertThrows(IllegalArgumentException.class,
                () -> NearestNeighbours.realFractions(new float[4], new boolean[2], new float[3], 2, 1));
    }
}
