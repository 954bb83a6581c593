package org.cotrain.train;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.cotrain.config.Config;
import org.cotrain.data.Demo;
import org.cotrain.data.FloatArray;
import org.cotrain.data.NdArray;
import org.cotrain.data.RobomimicWriter;

/**
 * A synthetic task with a bimodal action distribution: every demo starts at the origin and moves diagonally, up in
 * half of the demos and down in the other half (a_t = (0.05 (t + 1), +-0.05 (t + 1)), agent_pos_t = a_{t-1}). From the
 * first observation the two modes are equally likely; their average (straight right) is never demonstrated.
 */
final class BimodalTask {
    static final int LENGTH = 24;
    static final float STEP = 0.05f;

    private BimodalTask() {}

    /** Writes {@code demos} demos (even: up, odd: down) to a robomimic file. */
    static Path write(Path file, int demos) {
        try (RobomimicWriter w = RobomimicWriter.create(file)) {
            for (int d = 0; d < demos; d++) {
                float sign = d % 2 == 0 ? 1f : -1f;
                float[] actions = new float[LENGTH * 2];
                float[] pos = new float[LENGTH * 2];
                for (int t = 0; t < LENGTH; t++) {
                    actions[2 * t] = STEP * (t + 1);
                    actions[2 * t + 1] = sign * STEP * (t + 1);
                    if (t > 0) {
                        pos[2 * t] = actions[2 * (t - 1)];
                        pos[2 * t + 1] = actions[2 * (t - 1) + 1];
                    }
                }
                Map<String, NdArray> obs = new LinkedHashMap<>();
                obs.put("agent_pos", new FloatArray(new int[] {LENGTH, 2}, pos));
                w.writeDemo("demo_" + d, Demo.of(new FloatArray(new int[] {LENGTH, 2}, actions), obs));
            }
        }
        return file;
    }

    /** The small CPU preset on this task's file, with the given extra overrides. */
    static Config config(Path data, String... overrides) {
        List<String> all = new java.util.ArrayList<>(List.of("task.dataset.path=" + data, "task.obs_dim=2",
                "task.action_dim=2", "task.dataset.obs_keys=[agent_pos]", "task.dataset.max_train_episodes=null",
                "task.dataset.val_ratio=0.1", "training.device=cpu"));
        all.addAll(List.of(overrides));
        return Config.fromPreset("small_cpu").withOverrides(all);
    }
}
