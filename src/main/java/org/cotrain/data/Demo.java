package org.cotrain.data;

import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One demonstration in the robomimic layout: the arrays under {@code /data/demo_N}. Every per-step array has the
 * same first dimension N (the number of steps, the demo's num_samples).
 *
 * @param actions (N, Da)
 * @param obs per observation key: (N, D) low-dim or (N, H, W, 3) uint8 images; insertion order is kept
 * @param nextObs the observation after each step, same keys and shapes (may be empty when read)
 * @param rewards (N), written as float64 as robomimic does; null when not read or not written
 * @param dones (N), written as int64; null when not read or not written
 * @param states (N, S) simulator states, or null (not written)
 */
public record Demo(FloatArray actions, Map<String, NdArray> obs, Map<String, NdArray> nextObs, float[] rewards,
        int[] dones, FloatArray states) {

    public Demo {
        Objects.requireNonNull(actions, "actions");
        obs = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(obs, "obs")));
        nextObs = Collections.unmodifiableMap(new LinkedHashMap<>(nextObs == null ? Map.of() : nextObs));
    }

    /**
     * A demo from its actions and observations, with the rest filled in the way robomimic's conversion scripts do:
     * next_obs[t] = obs[t+1] (the last step repeats its own observation), rewards 0, dones 1 at the last step only,
     * no states.
     */
    public static Demo of(FloatArray actions, Map<String, NdArray> obs) {
        Map<String, NdArray> next = new LinkedHashMap<>();
        for (Map.Entry<String, NdArray> e : obs.entrySet()) {
            next.put(e.getKey(), shiftedByOne(e.getValue()));
        }
        int n = actions.length();
        int[] dones = new int[n];
        if (n > 0) {
            dones[n - 1] = 1;
        }
        return new Demo(actions, obs, next, new float[n], dones, null);
    }

    /** The number of steps: the length of the actions. */
    public int numSamples() {
        return actions.length();
    }

    /** Row t of x becomes row t+1 of the result; the last row is repeated. */
    private static NdArray shiftedByOne(NdArray x) {
        int n = x.length();
        int row = x.rowSize();
        if (x instanceof FloatArray f) {
            float[] out = new float[f.data().length];
            for (int t = 0; t < n; t++) {
                System.arraycopy(f.data(), Math.min(t + 1, n - 1) * row, out, t * row, row);
            }
            return new FloatArray(f.shape(), out);
        }
        ByteArray b = (ByteArray) x;
        ByteBuffer out = ByteBuffer.allocateDirect(b.data().capacity());
        for (int t = 0; t < n; t++) {
            ByteBuffer src = b.data().duplicate();
            int from = Math.min(t + 1, n - 1) * row;
            src.limit(from + row).position(from);
            out.put(src);
        }
        out.clear();
        return new ByteArray(b.shape(), out);
    }
}
