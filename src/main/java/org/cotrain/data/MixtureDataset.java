package org.cotrain.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.cotrain.random.Philox;
import org.cotrain.random.Streams;

/**
 * Training batches drawn from several datasets at once (cotraining: D_R "real" first, D_S "sim" second), each with a
 * sampling weight. Each sample of a batch independently picks a dataset with probability equal to its weight
 * (alpha for the first of two), then a training window of that dataset uniformly (DP samples windows uniformly),
 * and keeps the dataset's index.
 *
 * <p>Batch k is a pure function of (seed, k): sample i of batch k uses Philox block (key seed ^ {@link #DATA_STREAM},
 * counter k * batch_size + i), word 0 for the dataset and words 1-2 for the window. So a fixed seed gives the same
 * batches, and a resumed run asks for batch k directly without replaying the first k. Samples are drawn with
 * replacement (no epochs): an epoch's shuffle would tie batch k to all the batches before it.
 *
 * <p>With {@link #withNoiseAwareMixing} (ambient diffusion) sample i of batch k first takes its diffusion step t,
 * the very step the policy would draw for it ({@link Streams#TIMESTEPS} at (seed, k), index i), and then its dataset
 * and window among those allowed at t from the same Philox block as above; the batch carries the steps and each
 * sample's t_n for the loss. Where every window is allowed at every t, this gives the batches of vanilla mixing.
 *
 * <p>Windows come from {@link SequenceSampler} with pad_before = n_obs_steps - 1 and pad_after = n_action_steps - 1
 * over the train demos of each dataset; validation windows likewise over the valid demos. Actions (B, H, Da) and
 * obs (B, To, Do) (the first To steps of each window) are normalised with the given normaliser ("action" and "obs").
 * Image datasets add each camera's frames of the first To steps, (B, To, H, W, 3) uint8 as stored (the policy's crop
 * kernel normalises them); every dataset of a mixture has the same cameras.
 *
 * <p>With {@link #withConditionDropout} (classifier-free guidance) the obs of some samples become the null condition:
 * those of action-only datasets always, the others with probability p_uncond in training batches, drawn per batch k
 * ({@link ConditionDropout}); the domain labels ({@link #withDomainLabels}) follow and are never dropped.
 */
public final class MixtureDataset {
    /** Keys the data stream apart from the kernels' streams, which are keyed by the seed itself ("DATA"). */
    public static final long DATA_STREAM = 0x4441544100000000L;

    private final List<DemoDataset> datasets;
    private final SequenceSampler[] train;
    private final SequenceSampler[] valid;
    private final double[] weights;
    private final double[] cumulative;
    private final LinearNormalizer normalizer;
    private final int horizon;
    private final int nObsSteps;
    private final int nActionSteps;
    private final int batchSize;
    private final long seed;
    private final int obsDim;
    private final int actionDim;
    private int numDomains; // 0: no domain labels; else the one-hot dataset index is appended to obs
    private NoiseAwareMixing noiseAware; // null: vanilla mixing
    private float obsNoiseStd;           // 0: training observations as recorded
    private ConditionDropout dropout;    // null: every sample conditions on its observations (as DP)

    /**
     * @param weights one per dataset, >= 0, not all 0; normalised to sum to 1 (see {@link #alpha},
     *     {@link #naturalWeights})
     * @param normalizer with fields "obs" (obsDim) and "action" (actionDim), e.g. from {@link #fitNormalizer}
     */
    public MixtureDataset(List<DemoDataset> datasets, double[] weights, LinearNormalizer normalizer, int horizon,
            int nObsSteps, int nActionSteps, int batchSize, long seed) {
        if (datasets.isEmpty() || weights.length != datasets.size()) {
            throw new IllegalArgumentException(datasets.size() + " datasets but " + weights.length + " weights");
        }
        if (horizon < 1 || nObsSteps < 1 || nObsSteps > horizon || nActionSteps < 1 || batchSize < 1) {
            throw new IllegalArgumentException("need 1 <= n_obs_steps <= horizon, n_action_steps >= 1 and batch size"
                    + " >= 1; got horizon " + horizon + ", n_obs_steps " + nObsSteps + ", n_action_steps "
                    + nActionSteps + ", batch size " + batchSize);
        }
        this.datasets = List.copyOf(datasets);
        this.obsDim = datasets.get(0).obsDim();
        this.actionDim = datasets.get(0).actionDim();
        for (DemoDataset d : datasets) {
            if (d.obsDim() != obsDim || d.actionDim() != actionDim) {
                throw new IllegalArgumentException("datasets differ in shape: " + datasets.get(0).file() + " has obs "
                        + obsDim + ", action " + actionDim + "; " + d.file() + " has obs " + d.obsDim() + ", action "
                        + d.actionDim());
            }
            if (!cameraShapes(d).equals(cameraShapes(datasets.get(0)))) {
                throw new IllegalArgumentException("datasets differ in cameras: " + datasets.get(0).file() + " has "
                        + cameraShapes(datasets.get(0)) + "; " + d.file() + " has " + cameraShapes(d));
            }
        }
        if (normalizer.field("obs").dim() != obsDim || normalizer.field("action").dim() != actionDim) {
            throw new IllegalArgumentException("normalizer is for obs " + normalizer.field("obs").dim() + ", action "
                    + normalizer.field("action").dim() + "; the data has obs " + obsDim + ", action " + actionDim);
        }
        this.weights = normalise(weights);
        this.cumulative = new double[weights.length];
        double sum = 0;
        int lastUsed = -1;
        for (int j = 0; j < weights.length; j++) {
            sum += this.weights[j];
            cumulative[j] = sum;
            if (this.weights[j] > 0) {
                lastUsed = j;
            }
        }
        for (int j = lastUsed; j < weights.length; j++) {
            cumulative[j] = 1.0; // rounding must not leave u in [sum, 1) unassigned
        }
        this.normalizer = normalizer;
        this.horizon = horizon;
        this.nObsSteps = nObsSteps;
        this.nActionSteps = nActionSteps;
        this.batchSize = batchSize;
        this.seed = seed;
        this.train = new SequenceSampler[datasets.size()];
        this.valid = new SequenceSampler[datasets.size()];
        for (int j = 0; j < datasets.size(); j++) {
            DemoDataset d = datasets.get(j);
            train[j] = new SequenceSampler(d.episodeEnds(), horizon, nObsSteps - 1, nActionSteps - 1, d.trainMask());
            valid[j] = new SequenceSampler(d.episodeEnds(), horizon, nObsSteps - 1, nActionSteps - 1, d.validMask());
            if (this.weights[j] > 0 && train[j].size() == 0) {
                throw new IllegalArgumentException(d.file() + " has weight " + this.weights[j] + " but no training"
                        + " windows (" + d.numTrainDemos() + " train demos, horizon " + horizon + ")");
            }
        }
    }

    private static List<String> cameraShapes(DemoDataset d) {
        return d.cameras().stream().map(c -> c.key() + " " + c.height() + "x" + c.width()).toList();
    }

    private static double[] normalise(double[] weights) {
        double sum = 0;
        for (double w : weights) {
            if (!(w >= 0) || Double.isInfinite(w)) {
                throw new IllegalArgumentException("dataset weights must be finite and >= 0: "
                        + Arrays.toString(weights));
            }
            sum += w;
        }
        if (sum <= 0) {
            throw new IllegalArgumentException("dataset weights are all 0: " + Arrays.toString(weights));
        }
        double[] out = new double[weights.length];
        for (int j = 0; j < weights.length; j++) {
            out[j] = weights[j] / sum;
        }
        return out;
    }

    /** Two datasets: the first (real) with probability alpha, the second (sim) with 1 - alpha. */
    public static double[] alpha(double alpha) {
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException("alpha must be in [0, 1], got " + alpha);
        }
        return new double[] {alpha, 1 - alpha};
    }

    /**
     * The "natural" weights: proportional to each dataset's number of training demos, |D_R| / (|D_R| + |D_S|) for
     * the first of two. Demos, not windows or steps, because that is the ratio the cotraining studies sweep (MISSION.md)
     * and it does not move when one simulator's episodes run longer than the other's.
     */
    public static double[] naturalWeights(List<DemoDataset> datasets) {
        double[] w = new double[datasets.size()];
        for (int j = 0; j < w.length; j++) {
            w[j] = datasets.get(j).numTrainDemos();
        }
        return w;
    }

    /**
     * A normaliser ("obs", "action") fit on the training demos of all the datasets together, so that real and sim
     * samples share one scale; the obs statistics leave out action-only datasets ({@link DemoDataset#actionOnly}).
     * (DP fits on its one dataset's whole replay buffer; here validation demos are left out.)
     */
    public static LinearNormalizer fitNormalizer(List<DemoDataset> datasets) {
        List<float[]> obs = new ArrayList<>();
        List<float[]> actions = new ArrayList<>();
        for (DemoDataset d : datasets) {
            if (!d.actionOnly()) { // its obs are zeros, not observations
                obs.add(d.trainObs());
            }
            actions.add(d.trainActions());
        }
        if (obs.isEmpty()) {
            throw new IllegalArgumentException("every dataset is action-only (" + datasets.stream().map(
                    DemoDataset::file).toList() + "): the observation normaliser needs one with observations");
        }
        LinearNormalizer n = new LinearNormalizer();
        int dobs = datasets.get(0).obsDim();
        if (dobs == 0) { // an image policy without low-dim keys: nothing to fit
            n.put("obs", new LinearNormalizer.Field(new float[0], new float[0], new float[0], new float[0],
                    new float[0], new float[0]));
        } else {
            n.fit("obs", concat(obs), dobs);
        }
        n.fit("action", concat(actions), datasets.get(0).actionDim());
        return n;
    }

    private static float[] concat(List<float[]> parts) {
        int n = 0;
        for (float[] p : parts) {
            n = Math.addExact(n, p.length);
        }
        float[] out = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    /** Training batch {@code k}: the same for the same seed, whatever was drawn before. */
    public Batch batch(long k) {
        if (k < 0) {
            throw new IllegalArgumentException("batch index must be >= 0, got " + k);
        }
        int b = batchSize;
        float[] actions = new float[b * horizon * actionDim]; // (B, H, Da)
        float[] obs = new float[b * nObsSteps * obsDim]; // (B, To, Do)
        int[] datasetIndex = new int[b];
        int[] windowIndex = new int[b];
        long key = seed ^ DATA_STREAM;
        int[] timesteps = noiseAware == null ? null : new int[b];
        int[] minNoiseSteps = noiseAware == null ? null : new int[b];
        List<Batch.Frames> frames = newFrames(b);
        long timestepKey = Streams.key(seed, Streams.TIMESTEPS, k);
        for (int i = 0; i < b; i++) {
            int[] r = Philox.block(key, k * b + i);
            double u = (r[0] & 0xFFFFFFFFL) * 0x1p-32; // [0, 1)
            long bits = ((long) r[1] << 32) | (r[2] & 0xFFFFFFFFL);
            int j;
            int w;
            if (noiseAware == null) {
                j = 0;
                while (u >= cumulative[j]) {
                    j++;
                }
                w = (int) unsignedMultiplyHigh(bits, train[j].size()); // uniform in [0, windows)
            } else {
                int t = Philox.randint(timestepKey, i, 0, noiseAware.numTimesteps());
                j = noiseAware.dataset(t, u);
                w = noiseAware.window(j, t, bits);
                timesteps[i] = t;
                minNoiseSteps[i] = noiseAware.lossTn(j, w);
            }
            datasetIndex[i] = j;
            windowIndex[i] = w;
            fill(train[j], datasets.get(j), w, actions, obs, i);
            fillFrames(train[j], datasets.get(j), w, frames, i);
        }
        normalizer.normalize("action", actions, actions);
        normalizer.normalize("obs", obs, obs);
        addObsNoise(k, obs);
        if (dropout != null) {
            obs = dropout.apply(obs, b, nObsSteps, obsDim, dropout.mask(seed, k, actionOnly(datasetIndex)));
        } else {
            requireNoActionOnly();
        }
        Batch batch = batchOf(k, b, actions, obs, datasetIndex, windowIndex, frames);
        if (noiseAware == null) {
            return batch;
        }
        return batch.withTimesteps(timesteps, minNoiseSteps);
    }

    /** Empty frame arrays of each camera for a batch of b: (b, To, H, W, 3). */
    private List<Batch.Frames> newFrames(int b) {
        List<Batch.Frames> out = new ArrayList<>();
        for (CameraFrames c : datasets.get(0).cameras()) {
            out.add(new Batch.Frames(c.key(), c.height(), c.width(),
                    new byte[Math.toIntExact((long) b * nObsSteps * c.frameBytes())]));
        }
        return out;
    }

    /** Sample i's first To frames of window w of each camera, edge padded as the low-dim steps. */
    private void fillFrames(SequenceSampler sampler, DemoDataset d, int window, List<Batch.Frames> frames, int i) {
        for (int c = 0; c < frames.size(); c++) {
            CameraFrames camera = d.cameras().get(c);
            int n = camera.frameBytes();
            byte[] out = frames.get(c).data();
            for (int t = 0; t < nObsSteps; t++) {
                camera.copyFrame(sampler.row(window, t), out, (i * nObsSteps + t) * n);
            }
        }
    }

    /** Whether the batches carry camera frames (an image dataset). */
    public boolean hasImages() {
        return !datasets.get(0).cameras().isEmpty();
    }

    /** The cameras of the data (none for low-dim data). */
    public List<CameraFrames> cameras() {
        return datasets.get(0).cameras();
    }

    /**
     * Draws each training sample's diffusion step before its dataset and window (ambient diffusion), see the class
     * comment; the mixing's datasets, weights and window counts must be this mixture's.
     */
    public MixtureDataset withNoiseAwareMixing(NoiseAwareMixing mixing) {
        if (mixing.numDatasets() != datasets.size()) {
            throw new IllegalArgumentException("noise-aware mixing for " + mixing.numDatasets() + " datasets, the"
                    + " mixture has " + datasets.size());
        }
        for (int j = 0; j < datasets.size(); j++) {
            if (mixing.windows(j) != train[j].size()) {
                throw new IllegalArgumentException("noise-aware mixing counts " + mixing.windows(j) + " windows of "
                        + datasets.get(j).file() + ", which has " + train[j].size() + " training windows");
            }
        }
        this.noiseAware = mixing;
        return this;
    }

    /** The noise-aware mixing of the training batches, or null (vanilla). */
    public NoiseAwareMixing noiseAwareMixing() {
        return noiseAware;
    }

    /**
     * Training windows [first, first + count) of dataset j in its sampler's order (the order of the window indices
     * of batches), normalised, without domain labels: what the noise-level classifier annotates.
     */
    public Batch trainWindows(int j, int first, int count) {
        if (j < 0 || j >= datasets.size() || first < 0 || count < 1 || first + count > train[j].size()) {
            throw new IllegalArgumentException("training windows [" + first + ", " + first + " + " + count + ") of"
                    + " dataset " + j + ": it has " + (j >= 0 && j < datasets.size() ? train[j].size() : 0));
        }
        float[] actions = new float[count * horizon * actionDim];
        float[] obs = new float[count * nObsSteps * obsDim];
        int[] datasetIndex = new int[count];
        int[] windowIndex = new int[count];
        for (int i = 0; i < count; i++) {
            datasetIndex[i] = j;
            windowIndex[i] = first + i;
            fill(train[j], datasets.get(j), first + i, actions, obs, i);
        }
        normalizer.normalize("action", actions, actions);
        normalizer.normalize("obs", obs, obs);
        return new Batch(-1, count, horizon, nObsSteps, actionDim, obsDim, actions, obs, datasetIndex, windowIndex);
    }

    /**
     * Training windows of dataset j by their indices (its sampler's order), normalised, without domain labels; with
     * each camera's frames of the first To steps when {@code frames} (image data).
     */
    public Batch trainWindows(int j, int[] windows, boolean frames) {
        int count = windows.length;
        float[] actions = new float[count * horizon * actionDim];
        float[] obs = new float[count * nObsSteps * obsDim];
        int[] datasetIndex = new int[count];
        List<Batch.Frames> f = frames ? newFrames(count) : List.of();
        for (int i = 0; i < count; i++) {
            if (windows[i] < 0 || windows[i] >= train[j].size()) {
                throw new IllegalArgumentException("training window " + windows[i] + " of dataset " + j + ": it has "
                        + train[j].size());
            }
            datasetIndex[i] = j;
            fill(train[j], datasets.get(j), windows[i], actions, obs, i);
            fillFrames(train[j], datasets.get(j), windows[i], f, i);
        }
        normalizer.normalize("action", actions, actions);
        normalizer.normalize("obs", obs, obs);
        return new Batch(-1, count, horizon, nObsSteps, actionDim, obsDim, actions, obs, datasetIndex,
                windows.clone(), null, null, f);
    }

    /** floor(x * n / 2^64) for x read as unsigned and 0 <= n. */
    static long unsignedMultiplyHigh(long x, long n) {
        return Math.multiplyHigh(x, n) + ((x >> 63) & n);
    }

    private void fill(SequenceSampler sampler, DemoDataset d, int window, float[] actions, float[] obs, int i) {
        sampler.sampleSequence(window, d.actions(), actionDim, horizon, actions, i * horizon * actionDim);
        sampler.sampleSequence(window, d.obs(), obsDim, nObsSteps, obs, i * nObsSteps * obsDim);
    }

    /**
     * Appends each sample's one-hot dataset index to its observation steps (domain conditioning, see
     * {@link DomainLabels}): batches then have obs (B, To, Do + number of datasets).
     */
    public MixtureDataset withDomainLabels(boolean on) {
        this.numDomains = on ? datasets.size() : 0;
        return this;
    }

    /**
     * Adds Gaussian noise of this standard deviation, in normalised units, to every observation value of the
     * training batches ({@link #batch}; validation and analysis batches stay clean): x + std N(0, 1), independently
     * per sample, step and dimension, drawn from Philox at ({@link Streams#OBS_NOISE} of (seed, k), element index),
     * so batch k stays a pure function of (seed, k). A regulariser against the compounding error of closed-loop
     * rollouts: the condition is blurred over a neighbourhood of the demonstrated states while the target actions
     * stay the demonstrated ones. std 0 leaves the batches bit for bit as without it.
     */
    public MixtureDataset withObsNoise(double std) {
        if (!(std >= 0) || !Double.isFinite(std)) {
            throw new IllegalArgumentException("observation noise std must be finite and >= 0, got " + std);
        }
        this.obsNoiseStd = (float) std;
        return this;
    }

    /** obs (B, To, Do), normalised, += std N(0, 1) (see {@link #withObsNoise}). */
    private void addObsNoise(long k, float[] obs) {
        if (obsNoiseStd == 0f) {
            return;
        }
        long key = Streams.key(seed, Streams.OBS_NOISE, k);
        for (int i = 0; i < obs.length; i++) {
            obs[i] += obsNoiseStd * Philox.normal(key, i);
        }
    }

    /**
     * Replaces the observations of some training samples by the null condition of classifier-free guidance (see
     * {@link ConditionDropout}): those of action-only datasets always (in validation batches too), the others with
     * probability p_uncond in training batches. With the learned null condition every batch's observation steps get
     * the "has observation" column (before the domain labels).
     */
    public MixtureDataset withConditionDropout(ConditionDropout d) {
        this.dropout = d;
        return this;
    }

    /** The condition dropout of the batches, or null (none). */
    public ConditionDropout conditionDropout() {
        return dropout;
    }

    /** Per sample: whether its dataset is action-only. */
    private boolean[] actionOnly(int[] datasetIndex) {
        boolean[] out = new boolean[datasetIndex.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = datasets.get(datasetIndex[i]).actionOnly();
        }
        return out;
    }

    private void requireNoActionOnly() {
        for (DemoDataset d : datasets) {
            if (d.actionOnly()) {
                throw new IllegalStateException(d.file() + " is action-only: its windows need the null condition"
                        + " (withConditionDropout)");
            }
        }
    }

    /**
     * Width of a batch's observation step: Do, plus the "has observation" column of a learned null condition, plus
     * the number of datasets with domain labels.
     */
    public int conditionDim() {
        return obsDim + extraColumns() + numDomains;
    }

    private int extraColumns() {
        return dropout == null ? 0 : dropout.extraColumns();
    }

    /** The number of validation windows of all datasets together. */
    public int validationSize() {
        int n = 0;
        for (SequenceSampler v : valid) {
            n += v.size();
        }
        return n;
    }

    /**
     * Validation windows [first, first + count) in a fixed order: every valid window of dataset 0, then of
     * dataset 1, ...; the last batch of a pass may be shorter (count is clamped to what is left).
     */
    public Batch validationBatch(int first, int count) {
        int total = validationSize();
        if (first < 0 || first >= total || count < 1) {
            throw new IllegalArgumentException("validation windows [" + first + ", " + first + " + " + count
                    + ") outside the " + total + " there are");
        }
        int b = Math.min(count, total - first);
        float[] actions = new float[b * horizon * actionDim];
        float[] obs = new float[b * nObsSteps * obsDim];
        int[] datasetIndex = new int[b];
        int[] windowIndex = new int[b];
        List<Batch.Frames> frames = newFrames(b);
        int j = 0;
        int w = first;
        while (w >= valid[j].size()) {
            w -= valid[j].size();
            j++;
        }
        for (int i = 0; i < b; i++) {
            while (w >= valid[j].size()) {
                w = 0;
                j++;
            }
            datasetIndex[i] = j;
            windowIndex[i] = w;
            fill(valid[j], datasets.get(j), w, actions, obs, i);
            fillFrames(valid[j], datasets.get(j), w, frames, i);
            w++;
        }
        normalizer.normalize("action", actions, actions);
        normalizer.normalize("obs", obs, obs);
        if (dropout != null) { // validation drops no observation at random: only those of action-only data
            obs = dropout.apply(obs, b, nObsSteps, obsDim, actionOnly(datasetIndex));
        } else {
            requireNoActionOnly();
        }
        return batchOf(-1, b, actions, obs, datasetIndex, windowIndex, frames);
    }

    private Batch batchOf(long k, int b, float[] actions, float[] obs, int[] datasetIndex, int[] windowIndex,
                          List<Batch.Frames> frames) {
        int width = obsDim + extraColumns();
        if (numDomains > 0) {
            obs = DomainLabels.append(obs, b, nObsSteps, width, datasetIndex, numDomains);
        }
        return new Batch(k, b, horizon, nObsSteps, actionDim, width + numDomains, actions, obs, datasetIndex,
                windowIndex, null, null, frames);
    }

    public int numDatasets() {
        return datasets.size();
    }

    public DemoDataset dataset(int j) {
        return datasets.get(j);
    }

    /** The normalised sampling weights (a copy). */
    public double[] weights() {
        return weights.clone();
    }

    public SequenceSampler trainSampler(int j) {
        return train[j];
    }

    public SequenceSampler validSampler(int j) {
        return valid[j];
    }

    public LinearNormalizer normalizer() {
        return normalizer;
    }

    public int batchSize() {
        return batchSize;
    }

    public int horizon() {
        return horizon;
    }

    public int nObsSteps() {
        return nObsSteps;
    }

    public int nActionSteps() {
        return nActionSteps;
    }

    public int obsDim() {
        return obsDim;
    }

    public int actionDim() {
        return actionDim;
    }

    public long seed() {
        return seed;
    }
}
