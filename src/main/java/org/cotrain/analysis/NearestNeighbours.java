package org.cotrain.analysis;

import java.util.stream.IntStream;

/**
 * kNN attribution: for each query (a predicted action chunk), the share of "real" among its k nearest points of a
 * labelled pool (the training chunks of real and sim data), by Euclidean distance over the flattened chunk. Brute
 * force over the pool, the queries in parallel; ties are broken by pool index, so the result is deterministic.
 */
public final class NearestNeighbours {

    private NearestNeighbours() {}

    /**
     * @param pool    (N, d) flattened
     * @param real    (N) the pool's labels
     * @param queries (Q, d) flattened
     * @return (Q) the share of real points among each query's k nearest
     */
    public static double[] realFractions(float[] pool, boolean[] real, float[] queries, int d, int k) {
        int n = real.length;
        if (d < 1 || k < 1 || k > n || pool.length != (long) n * d || queries.length % d != 0) {
            throw new IllegalArgumentException("kNN: pool of " + pool.length + " values with " + n + " labels, "
                    + queries.length + " query values, d " + d + ", k " + k + " (need 1 <= k <= pool size)");
        }
        int q = queries.length / d;
        double[] out = new double[q];
        IntStream.range(0, q).parallel().forEach(i -> out[i] = realFraction(pool, real, queries, i, d, k));
        return out;
    }

    private static double realFraction(float[] pool, boolean[] real, float[] queries, int query, int d, int k) {
        // the k best so far, sorted by (distance, index), worst last
        double[] bestDist = new double[k];
        int[] bestIndex = new int[k];
        int count = 0;
        int base = query * d;
        for (int p = 0; p < real.length; p++) {
            double dist = 0;
            int at = p * d;
            for (int j = 0; j < d; j++) {
                double diff = (double) pool[at + j] - queries[base + j];
                dist += diff * diff;
            }
            if (count == k && dist >= bestDist[k - 1]) {
                continue; // not better than the worst kept (an equal distance keeps the earlier index)
            }
            int pos = count < k ? count++ : k - 1;
            while (pos > 0 && bestDist[pos - 1] > dist) {
                bestDist[pos] = bestDist[pos - 1];
                bestIndex[pos] = bestIndex[pos - 1];
                pos--;
            }
            bestDist[pos] = dist;
            bestIndex[pos] = p;
        }
        int realCount = 0;
        for (int i = 0; i < k; i++) {
            realCount += real[bestIndex[i]] ? 1 : 0;
        }
        return realCount / (double) k;
    }
}
