package org.cotrain.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The demos of one HDF5 file in memory (low-dim observations, actions and, for image policies, camera frames), laid
 * out like Diffusion Policy's replay buffer: every step of every demo one after the other, with {@code episodeEnds}
 * marking where each demo stops.
 * <ul>
 *   <li>obs (total_steps, obs_dim): the chosen obs keys concatenated per step, in the order given (as DP's
 *       robomimic low-dim dataset does);</li>
 *   <li>actions (total_steps, action_dim);</li>
 *   <li>the train and valid demo masks: /mask/train and /mask/valid where present; without /mask/train every demo
 *       not in /mask/valid trains; without /mask/valid nothing is held out.</li>
 * </ul>
 * Loading checks the shapes against the config (obs_dim, action_dim) and everything {@link RobomimicReader#readDemo}
 * checks. The arrays are shared, not copied: treat them as read-only.
 *
 * <p>For image policies the same rows also have camera frames ({@link CameraFrames}: uint8, per demo, as the file
 * holds them), loaded with {@link #load(Path, List, List, int, int)}; the low-dim part may then be empty (obs dim 0,
 * an image policy without low-dim keys).
 */
public final class DemoDataset {
    private final Path file;
    private final List<String> obsKeys;
    private final List<String> demoNames;
    private final int[] episodeEnds;
    private final float[] obs;
    private final float[] actions;
    private final int obsDim;
    private final int actionDim;
    private final boolean[] trainMask;
    private final boolean[] validMask;
    private final List<CameraFrames> cameras;
    private final boolean actionOnly;

    /**
     * @param file where the data came from (for messages; any name for data made in memory)
     * @param episodeEnds cumulative step counts, one per demo (DP's replay_buffer.episode_ends)
     * @param obs (episodeEnds[last], obsDim)
     * @param actions (episodeEnds[last], actionDim)
     */
    public DemoDataset(Path file, List<String> obsKeys, List<String> demoNames, int[] episodeEnds, float[] obs,
            int obsDim, float[] actions, int actionDim, boolean[] trainMask, boolean[] validMask) {
        this(file, obsKeys, demoNames, episodeEnds, obs, obsDim, actions, actionDim, trainMask, validMask, List.of());
    }

    /** The same with camera frames (for image policies), whose rows are those of obs and actions. */
    public DemoDataset(Path file, List<String> obsKeys, List<String> demoNames, int[] episodeEnds, float[] obs,
            int obsDim, float[] actions, int actionDim, boolean[] trainMask, boolean[] validMask,
            List<CameraFrames> cameras) {
        this(file, obsKeys, demoNames, episodeEnds, obs, obsDim, actions, actionDim, trainMask, validMask, cameras,
                false);
    }

    private DemoDataset(Path file, List<String> obsKeys, List<String> demoNames, int[] episodeEnds, float[] obs,
            int obsDim, float[] actions, int actionDim, boolean[] trainMask, boolean[] validMask,
            List<CameraFrames> cameras, boolean actionOnly) {
        int demos = demoNames.size();
        if (episodeEnds.length != demos || trainMask.length != demos || validMask.length != demos) {
            throw new IllegalArgumentException(file + ": " + demos + " demo names, " + episodeEnds.length
                    + " episode ends, masks of " + trainMask.length + " and " + validMask.length);
        }
        int previous = 0;
        for (int end : episodeEnds) {
            if (end < previous) {
                throw new IllegalArgumentException(file + ": episode ends must not decrease: "
                        + Arrays.toString(episodeEnds));
            }
            previous = end;
        }
        if (obsDim < 0 || actionDim <= 0
                || (long) previous * obsDim != obs.length
                || (long) previous * actionDim != actions.length) {
            throw new IllegalArgumentException(file + ": " + previous + " steps need obs of " + previous + " x "
                    + obsDim + " and actions of " + previous + " x " + actionDim + ", got " + obs.length + " and "
                    + actions.length + " values");
        }
        this.file = file;
        this.obsKeys = List.copyOf(obsKeys);
        this.demoNames = List.copyOf(demoNames);
        this.episodeEnds = episodeEnds.clone();
        this.obs = obs;
        this.obsDim = obsDim;
        this.actions = actions;
        this.actionDim = actionDim;
        this.trainMask = trainMask.clone();
        this.validMask = validMask.clone();
        this.cameras = List.copyOf(cameras);
        this.actionOnly = actionOnly;
    }

    /**
     * Reads the chosen obs keys and the actions of every demo of a robomimic file.
     *
     * @param obsDim the config's observation dimension (the sum over the keys), or -1 not to check it
     * @param actionDim the config's action dimension, or -1 not to check it
     */
    public static DemoDataset load(Path file, List<String> obsKeys, int obsDim, int actionDim) {
        return load(file, obsKeys, List.of(), obsDim, actionDim);
    }

    /**
     * Reads the chosen low-dim obs keys, the camera frames and the actions of every demo of a robomimic file.
     * Each camera's frames must be uint8 (N, H, W, 3) of its shape (task.shape_meta.obs.&lt;key&gt;.shape [3, H, W]).
     *
     * @param obsKeys the low-dim keys (may be empty: an image policy without low-dim keys)
     * @param cameras the camera keys with their frame shapes, or none
     */
    public static DemoDataset load(Path file, List<String> obsKeys, List<org.cotrain.config.ShapeMeta.ObsKey> cameras,
                                     int obsDim, int actionDim) {
        List<String> readKeys = new ArrayList<>(obsKeys);
        cameras.forEach(c -> readKeys.add(c.key()));
        List<List<java.nio.ByteBuffer>> frames = new ArrayList<>();
        cameras.forEach(c -> frames.add(new ArrayList<>()));
        try (RobomimicReader reader = RobomimicReader.open(file)) {
            List<String> demos = reader.demos();
            if (demos.isEmpty()) {
                throw new DatasetException(file, "/data", "has no demos (no demo_N groups)");
            }
            int[] ends = new int[demos.size()];
            List<float[]> obsParts = new ArrayList<>();
            List<float[]> actionParts = new ArrayList<>();
            int total = 0;
            int fileObsDim = -1;
            int fileActionDim = -1;
            for (int d = 0; d < demos.size(); d++) {
                String demo = demos.get(d);
                Demo data = reader.readDemo(demo, readKeys);
                for (int c = 0; c < cameras.size(); c++) {
                    frames.get(c).add(checkedFrames(file, demo, data, cameras.get(c)));
                }
                int n = data.numSamples();
                FloatArray a = data.actions();
                int da = a.shape().length == 1 ? 1 : a.rowSize();
                if (a.shape().length > 2) {
                    throw new DatasetException(file, "/data/" + demo + "/actions", "is " + a.describe()
                            + "; expected (N, action_dim)");
                }
                if (actionDim > 0 && da != actionDim) {
                    throw new DatasetException(file, "/data/" + demo + "/actions", "wrong shape for the config:"
                            + " expected action dim " + actionDim + ", got " + da + " (" + a.describe() + ")");
                }
                if (fileActionDim >= 0 && da != fileActionDim) {
                    throw new DatasetException(file, "/data/" + demo + "/actions", "action dim " + da
                            + " differs from the earlier demos' " + fileActionDim);
                }
                fileActionDim = da;

                List<String> parts = new ArrayList<>();
                int dobs = 0;
                for (String key : obsKeys) {
                    NdArray x = data.obs().get(key);
                    if (!(x instanceof FloatArray) || x.shape().length > 2) {
                        throw new DatasetException(file, "/data/" + demo + "/obs/" + key, "is " + x.describe()
                                + "; low-dim obs keys must be float arrays (N, D)"
                                + (x instanceof ByteArray ? " (this looks like an image)" : ""));
                    }
                    int dk = x.shape().length == 1 ? 1 : x.rowSize();
                    parts.add(key + " (" + dk + ")");
                    dobs += dk;
                }
                if (obsDim > 0 && dobs != obsDim) {
                    throw new DatasetException(file, "/data/" + demo + "/obs", "wrong shape for the config: expected"
                            + " obs dim " + obsDim + ", got " + dobs + " from the obs keys " + String.join(", ", parts));
                }
                if (fileObsDim >= 0 && dobs != fileObsDim) {
                    throw new DatasetException(file, "/data/" + demo + "/obs", "obs dim " + dobs + " ("
                            + String.join(", ", parts) + ") differs from the earlier demos' " + fileObsDim);
                }
                fileObsDim = dobs;

                float[] o = new float[n * dobs];
                int col = 0;
                for (String key : obsKeys) {
                    FloatArray x = (FloatArray) data.obs().get(key);
                    int dk = x.shape().length == 1 ? 1 : x.rowSize();
                    for (int t = 0; t < n; t++) {
                        System.arraycopy(x.data(), t * dk, o, t * dobs + col, dk);
                    }
                    col += dk;
                }
                obsParts.add(o);
                actionParts.add(a.data());
                total = Math.addExact(total, n);
                ends[d] = total;
            }
            float[] obs = concat(obsParts, (long) total * fileObsDim);
            float[] actions = concat(actionParts, (long) total * fileActionDim);

            boolean[] train = new boolean[demos.size()];
            boolean[] valid = new boolean[demos.size()];
            Optional<List<String>> validNames = reader.validMask();
            Optional<List<String>> trainNames = reader.trainMask();
            validNames.ifPresent(names -> mark(file, "/mask/valid", names, demos, valid));
            if (trainNames.isPresent()) {
                mark(file, "/mask/train", trainNames.get(), demos, train);
            } else {
                for (int d = 0; d < demos.size(); d++) {
                    train[d] = !valid[d];
                }
            }
            List<CameraFrames> cams = new ArrayList<>();
            for (int c = 0; c < cameras.size(); c++) {
                cams.add(new CameraFrames(cameras.get(c).key(), cameras.get(c).height(), cameras.get(c).width(), ends,
                        frames.get(c)));
            }
            return new DemoDataset(file, obsKeys, demos, ends, obs, Math.max(fileObsDim, 0), actions, fileActionDim,
                    train, valid, cams);
        }
    }

    /**
     * Reads the actions of every demo of an action-only robomimic file (no /obs groups, as written by {@code ./cotrain
     * generate --actions-only}; cotrain.guidance.action_only marks it): its obs are zeros of {@code obsDim} per step
     * under the config's obsKeys, so that it mixes with observed data, and {@link #actionOnly} is true, so that its
     * windows train with the null condition of classifier-free guidance and the normaliser's obs statistics leave it
     * out.
     *
     * @param actionDim the config's action dimension, or -1 not to check it
     */
    public static DemoDataset loadActionsOnly(Path file, List<String> obsKeys, int obsDim, int actionDim) {
        if (obsDim < 0) {
            throw new IllegalArgumentException(file + ": obs dim must be >= 0, got " + obsDim);
        }
        DemoDataset a = load(file, List.of(), List.of(), -1, actionDim);
        return new DemoDataset(file, obsKeys, a.demoNames, a.episodeEnds, new float[a.numSteps() * obsDim], obsDim,
                a.actions, a.actionDim, a.trainMask, a.validMask, List.of(), true);
    }

    /** Whether the file has actions only ({@link #loadActionsOnly}): its obs are zeros, never observations. */
    public boolean actionOnly() {
        return actionOnly;
    }

    /** A demo's frames of one camera: uint8 (N, H, W, 3) with the config's H and W, as a direct buffer. */
    private static java.nio.ByteBuffer checkedFrames(Path file, String demo, Demo data,
                                                     org.cotrain.config.ShapeMeta.ObsKey camera) {
        String path = "/data/" + demo + "/obs/" + camera.key();
        NdArray x = data.obs().get(camera.key());
        String wanted = "(N, " + camera.height() + ", " + camera.width() + ", 3)";
        if (!(x instanceof ByteArray b)) {
            throw new DatasetException(file, path, "is " + x.describe() + "; camera key '" + camera.key()
                    + "' needs uint8 frames " + wanted + " (task.shape_meta.obs." + camera.key() + ".shape "
                    + camera.shape() + ")");
        }
        int[] s = b.shape();
        if (s.length != 4 || s[1] != camera.height() || s[2] != camera.width() || s[3] != 3) {
            throw new DatasetException(file, path, "wrong image shape for the config: is " + b.describe()
                    + ", task.shape_meta.obs." + camera.key() + ".shape " + camera.shape() + " wants " + wanted);
        }
        java.nio.ByteBuffer buffer = b.data();
        if (!buffer.isDirect()) {
            java.nio.ByteBuffer direct = java.nio.ByteBuffer.allocateDirect(buffer.capacity());
            direct.put(buffer.duplicate().clear()).clear();
            buffer = direct;
        }
        return buffer;
    }

    private static void mark(Path file, String maskPath, List<String> names, List<String> demos, boolean[] mask) {
        Map<String, Integer> index = new HashMap<>();
        for (int d = 0; d < demos.size(); d++) {
            index.put(demos.get(d), d);
        }
        for (String name : names) {
            Integer d = index.get(name);
            if (d == null) {
                throw new DatasetException(file, maskPath, "names " + name + ", which is not a demo under /data"
                        + " (demos: " + RobomimicReader.summary(demos) + ")");
            }
            mask[d] = true;
        }
    }

    private static float[] concat(List<float[]> parts, long total) {
        float[] out = new float[Math.toIntExact(total)];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    /** The same data training on the first {@code n} training demos only (numeric order), e.g. |D_R| = 10 of 200. */
    public DemoDataset withFirstTrainDemos(int n) {
        if (n < 0 || n > numTrainDemos()) {
            throw new IllegalArgumentException(file + ": asked for " + n + " training demos, it has "
                    + numTrainDemos());
        }
        boolean[] train = new boolean[trainMask.length];
        int kept = 0;
        for (int d = 0; d < train.length && kept < n; d++) {
            if (trainMask[d]) {
                train[d] = true;
                kept++;
            }
        }
        return withMasks(train, validMask);
    }

    /**
     * Holds out demos for validation when the file named none (no /mask/valid), as DP's get_val_mask:
     * n_val = min(max(1, round(n * valRatio)), n - 1) demos chosen at random from {@code seed} (a Philox-keyed
     * partial shuffle; DP uses numpy's generator, so the chosen demos differ from DP's), none when valRatio is 0 or
     * there is one demo. A file with a /mask/valid keeps its own split.
     */
    public DemoDataset withValidationSplit(double valRatio, long seed) {
        int n = numDemos();
        if (!(valRatio >= 0 && valRatio < 1)) {
            throw new IllegalArgumentException("val_ratio must be in [0, 1), got " + valRatio);
        }
        if (numValidDemos() > 0 || valRatio == 0 || n < 2) {
            return this;
        }
        int nVal = (int) Math.min(Math.max(1, Math.round(n * valRatio)), n - 1);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        long key = org.cotrain.random.Streams.key(seed, org.cotrain.random.Streams.SPLIT, 0);
        boolean[] valid = new boolean[n];
        for (int i = 0; i < nVal; i++) { // Fisher-Yates, first nVal positions
            int j = org.cotrain.random.Philox.randint(key, i, i, n);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
            valid[order[i]] = true;
        }
        boolean[] train = trainMask.clone();
        for (int d = 0; d < n; d++) {
            train[d] &= !valid[d];
        }
        return withMasks(train, valid);
    }

    /** The same data with other train/valid demo masks (one flag per demo). */
    public DemoDataset withMasks(boolean[] train, boolean[] valid) {
        return new DemoDataset(file, obsKeys, demoNames, episodeEnds, obs, obsDim, actions, actionDim, train, valid,
                cameras, actionOnly);
    }

    /** The camera frames of the rows (image datasets), in the config's order; none for low-dim data. */
    public List<CameraFrames> cameras() {
        return cameras;
    }

    public Path file() {
        return file;
    }

    public List<String> obsKeys() {
        return obsKeys;
    }

    public List<String> demoNames() {
        return demoNames;
    }

    public int numDemos() {
        return demoNames.size();
    }

    public int numSteps() {
        return episodeEnds.length == 0 ? 0 : episodeEnds[episodeEnds.length - 1];
    }

    /** Cumulative step counts (a copy). */
    public int[] episodeEnds() {
        return episodeEnds.clone();
    }

    /** (numSteps, obsDim), shared. */
    public float[] obs() {
        return obs;
    }

    /** (numSteps, actionDim), shared. */
    public float[] actions() {
        return actions;
    }

    public int obsDim() {
        return obsDim;
    }

    public int actionDim() {
        return actionDim;
    }

    public boolean[] trainMask() {
        return trainMask.clone();
    }

    public boolean[] validMask() {
        return validMask.clone();
    }

    public int numTrainDemos() {
        return count(trainMask);
    }

    public int numValidDemos() {
        return count(validMask);
    }

    private static int count(boolean[] mask) {
        int n = 0;
        for (boolean b : mask) {
            n += b ? 1 : 0;
        }
        return n;
    }

    /** The obs of the training demos' steps, (steps, obsDim): what the normaliser is fit on. */
    public float[] trainObs() {
        return trainRows(obs, obsDim);
    }

    /** The actions of the training demos' steps, (steps, actionDim). */
    public float[] trainActions() {
        return trainRows(actions, actionDim);
    }

    private float[] trainRows(float[] data, int dim) {
        int rows = 0;
        for (int d = 0; d < episodeEnds.length; d++) {
            rows += trainMask[d] ? episodeEnds[d] - start(d) : 0;
        }
        float[] out = new float[Math.multiplyExact(rows, dim)];
        int at = 0;
        for (int d = 0; d < episodeEnds.length; d++) {
            if (trainMask[d]) {
                int length = (episodeEnds[d] - start(d)) * dim;
                System.arraycopy(data, start(d) * dim, out, at, length);
                at += length;
            }
        }
        return out;
    }

    private int start(int demo) {
        return demo == 0 ? 0 : episodeEnds[demo - 1];
    }

    @Override
    public String toString() {
        return "DemoDataset(" + file + ", " + numDemos() + " demos (" + numTrainDemos() + " train, "
                + numValidDemos() + " valid), " + numSteps() + " steps, obs " + obsDim + " " + obsKeys + ", action "
                + actionDim + ")";
    }
}
