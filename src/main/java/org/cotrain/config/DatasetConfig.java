package org.cotrain.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * task.dataset: where the demonstrations are and how they are cut into training windows. DP reads a zarr file
 * (zarr_path); cotrain reads HDF5 in the robomimic layout, one file or several mixed by weight (cotraining).
 *
 * @param paths            the HDF5 files, at least one ("path" in the config: a text or a list of texts)
 * @param weights          sampling probability of each file, normalised to sum 1; null = natural (proportional to
 *                         each file's number of samples). For two files, [alpha, 1 - alpha].
 * @param obsKeys          low-dim arrays under /data/demo_N/obs/, flattened per step and concatenated in this order
 *                         (image configs: the low_dim keys of task.shape_meta.obs)
 * @param actionKey        the action array under /data/demo_N/
 * @param horizon          window length H
 * @param padBefore        steps of edge padding before a demo's first step (n_obs_steps - 1)
 * @param padAfter         steps of edge padding after its last step (n_action_steps - 1)
 * @param seed             seed of the train/validation split
 * @param valRatio         fraction of demos held out for validation, in [0, 1), where the file has no /mask/valid
 * @param maxTrainEpisodes use at most this many training demos (null = all)
 * @param cameras          image configs: the rgb keys of task.shape_meta.obs, uint8 frames (N, H, W, 3) under obs/;
 *                         empty for low-dim configs
 */
public record DatasetConfig(List<Path> paths, List<Double> weights, List<String> obsKeys, String actionKey,
                            int horizon, int padBefore, int padAfter, long seed, double valRatio,
                            Integer maxTrainEpisodes, List<ShapeMeta.ObsKey> cameras) {

    public DatasetConfig {
        cameras = List.copyOf(cameras);
    }

    /** The camera keys, in order (none for low-dim configs). */
    public List<String> cameraKeys() {
        return cameras.stream().map(ShapeMeta.ObsKey::key).toList();
    }

    /** shapeMeta: an image config's task.shape_meta (its keys replace task.dataset.obs_keys), null for low-dim. */
    static DatasetConfig read(ConfigReader r, int horizon, ShapeMeta shapeMeta) {
        String p = "task.dataset.";
        List<Path> paths = new ArrayList<>();
        for (String path : r.texts(p + "path", true)) {
            paths.add(Path.of(path));
        }
        List<Double> weights = r.numbers(p + "weights", -1, true, 0, true, Double.POSITIVE_INFINITY, false);
        if (weights != null) {
            double sum = weights.stream().mapToDouble(Double::doubleValue).sum();
            if (weights.size() != paths.size() || !(sum > 0)) {
                throw r.invalid(p + "weights", "null or one number >= 0 per file of " + p + "path (" + paths.size()
                        + "), not all 0", r.value(p + "weights"));
            }
            weights = weights.stream().map(w -> w / sum).toList();
        }
        List<String> obsKeys = shapeMeta == null ? r.texts(p + "obs_keys", false)
                : shapeMeta.lowdim().stream().map(ShapeMeta.ObsKey::key).toList();
        List<ShapeMeta.ObsKey> cameras = shapeMeta == null ? List.of() : shapeMeta.rgb();
        String actionKey = r.text(p + "action_key");
        int windowHorizon = r.integer(p + "horizon", 1);
        r.same(p + "horizon", windowHorizon, "horizon", horizon);
        int padBefore = r.integer(p + "pad_before", 0);
        int padAfter = r.integer(p + "pad_after", 0);
        long seed = r.anyInteger(p + "seed");
        double valRatio = r.number(p + "val_ratio", 0, true, 1, false);
        Integer maxTrainEpisodes = r.optionalInteger(p + "max_train_episodes", 1);
        return new DatasetConfig(List.copyOf(paths), weights, obsKeys, actionKey, windowHorizon, padBefore, padAfter,
                seed, valRatio, maxTrainEpisodes, cameras);
    }
}
