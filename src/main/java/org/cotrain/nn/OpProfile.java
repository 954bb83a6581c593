package org.cotrain.nn;

import java.util.EnumMap;
import java.util.Map;
import org.cotrain.tensor.Backend;

/**
 * A layer-level profile of where a step's time goes, by op family (conv, norm, attention, ...), for the benchmark
 * reports: the layers time their forward and backward passes when profiling is on; the time of the outermost timed
 * layer counts (a Linear inside MultiheadAttention is attention), and what no layer claims (activations, dropout,
 * embeddings, the loss, the diffusion ops, copies) is the rest of the step. The backend is synchronised at each scope's
 * start and end, so GPU times are real (and profiled steps slower). Off by default, when a scope costs one check.
 * Profiling is for one thread (the training loop's).
 */
public final class OpProfile {
    /** The op families of the report. */
    public enum Family {
        CONV("conv"),
        NORM("norm"),
        POOL("max pool"),
        CROP("crop + normalise"),
        ATTENTION("attention"),
        LINEAR("linear"),
        OPTIMIZER("optimizer");

        private final String label;

        Family(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** A timed region; close it (try-with-resources). */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    private static final Scope NONE = () -> {};
    private static boolean enabled;
    private static int depth;
    private static final long[] nanos = new long[Family.values().length];

    private OpProfile() {}

    /** Starts timing (clearing the totals). */
    public static void start() {
        java.util.Arrays.fill(nanos, 0);
        depth = 0;
        enabled = true;
    }

    /** Stops timing; the totals stay readable. */
    public static void stop() {
        enabled = false;
    }

    /** Seconds per family since {@link #start}. */
    public static Map<Family, Double> seconds() {
        Map<Family, Double> out = new EnumMap<>(Family.class);
        for (Family f : Family.values()) {
            out.put(f, nanos[f.ordinal()] * 1e-9);
        }
        return out;
    }

    /** Times a layer's pass as family f (nothing when off, or inside another timed layer). */
    public static Scope scope(Family f, Backend backend) {
        if (!enabled || depth > 0) {
            return NONE;
        }
        depth++;
        backend.synchronize();
        long start = System.nanoTime();
        return () -> {
            backend.synchronize();
            nanos[f.ordinal()] += System.nanoTime() - start;
            depth--;
        };
    }
}
