package org.cotrain.data;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Small robomimic files and in-memory datasets for the data tests. */
final class DataTesting {
    private DataTesting() {}

    /** Action value of demo d, step t, dimension j: recognisable in failures. */
    static float action(int d, int t, int j) {
        return 100f * d + t + 0.25f * j;
    }

    /** agent_pos value of demo d, step t, dimension j. */
    static float pos(int d, int t, int j) {
        return -1000f * d - 10f * t - j;
    }

    /** A demo with actions (n, 2), obs agent_pos (n, 2) and keypoint (n, 3) (as float32). */
    static Demo demo(int d, int n) {
        float[] actions = new float[n * 2];
        float[] pos = new float[n * 2];
        float[] keypoint = new float[n * 3];
        for (int t = 0; t < n; t++) {
            for (int j = 0; j < 2; j++) {
                actions[t * 2 + j] = action(d, t, j);
                pos[t * 2 + j] = pos(d, t, j);
            }
            for (int j = 0; j < 3; j++) {
                keypoint[t * 3 + j] = 0.5f * d + 0.125f * t * (j + 1);
            }
        }
        Map<String, NdArray> obs = new LinkedHashMap<>();
        obs.put("agent_pos", new FloatArray(new int[] {n, 2}, pos));
        obs.put("keypoint", new FloatArray(new int[] {n, 3}, keypoint));
        return Demo.of(new FloatArray(new int[] {n, 2}, actions), obs);
    }

    /** A file of demos demo_0 .. demo_{lengths.length - 1} with the given lengths, and optional masks. */
    static Path writeFile(Path file, int[] lengths, List<String> train, List<String> valid) {
        try (RobomimicWriter w = RobomimicWriter.create(file)) {
            for (int d = 0; d < lengths.length; d++) {
                w.writeDemo("demo_" + d, demo(d, lengths[d]));
            }
            if (train != null) {
                w.writeMask("train", train);
            }
            if (valid != null) {
                w.writeMask("valid", valid);
            }
        }
        return file;
    }

    /**
     * An in-memory dataset of {@code demos} demos of {@code length} steps each: obs (.., obsDim) and actions
     * (.., actionDim) with values offset by {@code base}, so that samples of different datasets can be told apart.
     * The last {@code validDemos} demos are held out.
     */
    static DemoDataset dataset(String name, int demos, int length, int obsDim, int actionDim, float base,
            int validDemos) {
        int steps = demos * length;
        int[] ends = new int[demos];
        float[] obs = new float[steps * obsDim];
        float[] actions = new float[steps * actionDim];
        java.util.ArrayList<String> names = new java.util.ArrayList<>();
        boolean[] train = new boolean[demos];
        boolean[] valid = new boolean[demos];
        for (int d = 0; d < demos; d++) {
            ends[d] = (d + 1) * length;
            names.add("demo_" + d);
            valid[d] = d >= demos - validDemos;
            train[d] = !valid[d];
        }
        for (int s = 0; s < steps; s++) {
            for (int j = 0; j < obsDim; j++) {
                obs[s * obsDim + j] = base + s + 0.5f * j;
            }
            for (int j = 0; j < actionDim; j++) {
                actions[s * actionDim + j] = base - s - 0.25f * j;
            }
        }
        return new DemoDataset(Path.of(name), List.of("x"), names, ends, obs, obsDim, actions, actionDim, train,
                valid);
    }
}
