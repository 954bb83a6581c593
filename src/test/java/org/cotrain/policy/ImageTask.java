package org.cotrain.policy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.cotrain.config.Config;
import org.cotrain.data.ByteArray;
import org.cotrain.data.Demo;
import org.cotrain.data.FloatArray;
import org.cotrain.data.NdArray;
import org.cotrain.data.RobomimicWriter;

/**
 * A small synthetic image task for tests, in the layout of the sandbox's datasets: obs/image uint8 (N, S, S, 3),
 * obs/agent_pos (N, 2) and actions (N, 2). The pusher moves from a start that depends on the demo towards a goal
 * drawn as a red square whose place differs between even and odd demos (so the frames say where to go); each frame
 * shows the goal and the pusher as a white square at agent_pos.
 */
public final class ImageTask {
    public static final int LENGTH = 12;

    private ImageTask() {}

    /** Writes {@code demos} demos with S x S frames to a robomimic file. */
    public static Path write(Path file, int demos, int size) {
        try (RobomimicWriter w = RobomimicWriter.create(file)) {
            for (int d = 0; d < demos; d++) {
                float goalX = d % 2 == 0 ? 0.8f : 0.2f;
                float goalY = 0.5f;
                float x = 0.1f + 0.8f * (d % 5) / 4f;
                float y = d % 3 == 0 ? 0.2f : 0.8f;
                float[] pos = new float[LENGTH * 2];
                float[] actions = new float[LENGTH * 2];
                byte[] frames = new byte[LENGTH * size * size * 3];
                for (int t = 0; t < LENGTH; t++) {
                    pos[2 * t] = x;
                    pos[2 * t + 1] = y;
                    x += (goalX - x) * 0.3f;
                    y += (goalY - y) * 0.3f;
                    actions[2 * t] = x;
                    actions[2 * t + 1] = y;
                    int base = t * size * size * 3;
                    square(frames, base, size, goalX, goalY, 255, 0, 0);
                    square(frames, base, size, pos[2 * t], pos[2 * t + 1], 255, 255, 255);
                }
                Map<String, NdArray> obs = new LinkedHashMap<>();
                obs.put("image", ByteArray.of(frames, LENGTH, size, size, 3));
                obs.put("agent_pos", new FloatArray(new int[] {LENGTH, 2}, pos));
                w.writeDemo("demo_" + d, Demo.of(new FloatArray(new int[] {LENGTH, 2}, actions), obs));
            }
        }
        return file;
    }

    private static void square(byte[] frames, int base, int size, float cx, float cy, int r, int g, int b) {
        int half = Math.max(1, size / 16);
        int px = Math.round(cx * (size - 1));
        int py = Math.round(cy * (size - 1));
        for (int row = Math.max(0, py - half); row <= Math.min(size - 1, py + half); row++) {
            for (int col = Math.max(0, px - half); col <= Math.min(size - 1, px + half); col++) {
                int at = base + (row * size + col) * 3;
                frames[at] = (byte) r;
                frames[at + 1] = (byte) g;
                frames[at + 2] = (byte) b;
            }
        }
    }

    /**
     * The small CPU image preset on this task's file with S x S frames and crops of S - 8 (the full encoder; a tiny
     * denoiser, batch 2), plus the given overrides.
     */
    public static Config config(Path data, int size, String... overrides) {
        List<String> all = new ArrayList<>(List.of("task.dataset.path=" + data,
                "task.shape_meta.obs.image.shape=[3," + size + "," + size + "]",
                "policy.crop_shape=[" + (size - 8) + "," + (size - 8) + "]", "task.dataset.max_train_episodes=null",
                "task.dataset.val_ratio=0.25", "training.device=cpu", "dataloader.batch_size=2",
                "val_dataloader.batch_size=2", "policy.n_layer=1", "policy.n_emb=16", "policy.p_drop_attn=0.1"));
        all.addAll(List.of(overrides));
        return Config.fromPreset("small_cpu_image").withOverrides(all);
    }
}
