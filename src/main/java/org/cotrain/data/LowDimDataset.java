package org.cotrain.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The low-dim training data of one HDF5 file in memory, laid out like Diffusion Policy's replay buffer: every step of
 * every demo one after the other, with {@code episodeEnds} marking where each demo stops.
 * <ul>
 *   <li>obs (total_steps, obs_dim): the chosen obs keys concatenated per step, in the order given (as DP's
 *       robomimic low-dim dataset does);</li>
 *   <li>actions (total_steps, action_dim);</li>
 *   <li>the train and valid demo masks: /mask/train and /mask/valid where present; without /mask/train every demo
 *       not in /mask/valid trains; without /mask/valid nothing is held out.</li>
 * </ul>
 * Loading checks the shapes against the config (obs_dim, action_dim) and everything {@link RobomimicReader#readDemo}
 * checks. The arrays are shared, not copied: treat them as read-only.
 */
public final class LowDimDataset {
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

    /**
     * @param file where the data came from (for messages; any name for data made in memory)
     * @param episodeEnds cumulative step counts, one per demo (DP's replay_buffer.episode_ends)
     * @param obs (episodeEnds[last], obsDim)
     * @param actions (episodeEnds[last], actionDim)
     */
    public LowDimDataset(Path file, List<String> obsKeys, List<String> demoNames, int[] episodeEnds, float[] obs,
            int obsDim, float[] actions, int actionDim, boolean[] trainMask, boolean[] validMask) {
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
        if (obsDim <= 0 || actionDim <= 0 || (long) previous * obsDim != obs.length
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
    }

    /**
     * Reads the chosen obs keys and the actions of every demo of a robomimic file.
     *
     * @param obsDim the config's observation dimension (the sum over the keys), or -1 not to check it
     * @param actionDim the config's action dimension, or -1 not to check it
     */
    public static LowDimDataset load(Path file, List<String> obsKeys, int obsDim, int actionDim) {
        if (obsKeys.isEmpty()) {
            throw new IllegalArgumentException(file + ": no obs keys chosen");
        }
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
                Demo data = reader.readDemo(demo, obsKeys);
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
            return new LowDimDataset(file, obsKeys, demos, ends, obs, fileObsDim, actions, fileActionDim, train,
                    valid);
        }
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
    public LowDimDataset withFirstTrainDemos(int n) {
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
    public LowDimDataset withValidationSplit(double valRatio, long seed) {
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
    public LowDimDataset withMasks(boolean[] train, boolean[] valid) {
        return new LowDimDataset(file, obsKeys, demoNames, episodeEnds, obs, obsDim, actions, actionDim, train, valid);
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
        return "LowDimDataset(" + file + ", " + numDemos() + " demos (" + numTrainDemos() + " train, "
                + numValidDemos() + " valid), " + numSteps() + " steps, obs " + obsDim + " " + obsKeys + ", action "
                + actionDim + ")";
    }
}
