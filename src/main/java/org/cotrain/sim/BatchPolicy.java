package org.cotrain.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.function.IntFunction;
import java.util.stream.IntStream;

/**
 * A controller for many episodes stepped together, so a neural policy can denoise one batch for all of them.
 * Episodes are numbered 0..n-1 for the whole run; {@link #act} gets the ones that are still running.
 */
public interface BatchPolicy {

    /** How many recent observations each history holds. */
    int historyLength();

    /** Starts a run of {@code episodes} episodes; seeds[i] seeds episode i. */
    void reset(long[] seeds);

    /** One action chunk (n_i, 2) per listed episode; histories.get(k) belongs to episode episodes[k]. */
    double[][][] act(int[] episodes, List<List<Observation>> histories);

    /** Independent per-episode policies (e.g. the experts), asked in parallel on {@code pool}. */
    static BatchPolicy perEpisode(IntFunction<Policy> factory, ForkJoinPool pool) {
        return new BatchPolicy() {
            private final List<Policy> policies = new ArrayList<>();
            private final int history = factory.apply(0).historyLength();

            @Override
            public int historyLength() {
                return history;
            }

            @Override
            public void reset(long[] seeds) {
                policies.clear();
                for (int i = 0; i < seeds.length; i++) {
                    Policy p = factory.apply(i);
                    p.reset(seeds[i]);
                    policies.add(p);
                }
            }

            @Override
            public double[][][] act(int[] episodes, List<List<Observation>> histories) {
                double[][][] out = new double[episodes.length][][];
                pool.submit(() -> IntStream.range(0, episodes.length).parallel()
                        .forEach(k -> out[k] = policies.get(episodes[k]).act(histories.get(k)))).join();
                return out;
            }
        };
    }
}
