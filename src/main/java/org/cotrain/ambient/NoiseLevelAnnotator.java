package org.cotrain.ambient;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.cotrain.config.NoiseClassifierConfig;
import org.cotrain.data.Batch;
import org.cotrain.data.DemoDataset;
import org.cotrain.data.MixtureDataset;
import org.cotrain.nn.Buffer;
import org.cotrain.ops.Ops;
import org.cotrain.optim.AdamW;
import org.cotrain.random.Philox;
import org.cotrain.random.Streams;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;

/**
 * Ambient diffusion (c): gives every training window of a corrupt dataset its minimum noise level t_n. A
 * {@link NoiseLevelClassifier} learns to tell noisy clean chunks (label 0) from noisy chunks of the corrupt dataset
 * (label 1) at every diffusion step; a window's t_n is then the lowest step t at which its predicted probability of
 * "corrupt", averaged over {@code noise_draws} draws of the noise, falls below 0.5 + epsilon: from t_n on the
 * classifier can no longer tell it from clean data. A window it can tell apart at every step gets t_n = T (never
 * used for training).
 *
 * <p>Everything is a pure function of the data, the normaliser, the settings and the backend: training batch k and
 * its steps and noise come from Philox keys of (classifier seed, corrupt dataset, k), and the annotation noise of
 * row (window w, step t, draw d) is element ((w T + t) K + d) * (H * Da) of one stream, whatever the grouping.
 */
public final class NoiseLevelAnnotator {
    /** Rows (window x step x draw) classified per forward pass while annotating. */
    static final int ROWS_PER_PASS = 8192;

    private static final long CLEAN_DATA = 1;
    private static final long CORRUPT_DATA = 2;

    /**
     * The annotation of one corrupt dataset.
     *
     * @param tn                  per training window (its sampler's order): t_n in [0, T], T meaning never
     * @param meanCorruptByStep   (T) the mean predicted P(corrupt) of the dataset's windows at each step
     * @param finalLoss           the classifier's mean training loss over its last 10% of steps
     * @param finalAccuracy       its training accuracy over the same steps
     */
    public record Result(int[] tn, double[] meanCorruptByStep, double finalLoss, double finalAccuracy) {}

    private NoiseLevelAnnotator() {}

    /**
     * Trains a classifier of clean against corrupt and annotates the corrupt dataset's training windows.
     *
     * @param mixture      the training mixture (its datasets, training windows and normaliser)
     * @param cleanWeights sampling weights of the clean data, one per dataset of the mixture (0 for the others)
     * @param corrupt      the index of the dataset to annotate
     * @param abar         (T) the training noise schedule's alphas_cumprod
     */
    public static Result annotate(MixtureDataset mixture, double[] cleanWeights, int corrupt,
                                  NoiseClassifierConfig settings, float[] abar, Backend backend, PrintStream log) {
        long base = Streams.key(settings.seed(), Streams.NOISE_CLASSIFIER, corrupt);
        int chunkDim = mixture.horizon() * mixture.actionDim();
        int obsDim = settings.useObs() ? mixture.nObsSteps() * mixture.obsDim() : 0;
        try (NoiseLevelClassifier classifier = new NoiseLevelClassifier(backend, chunkDim, obsDim, settings.hidden());
             Tensor table = backend.of(abar, abar.length)) {
            classifier.initialize(Streams.key(base, Streams.INIT, 0));
            double[] last = train(classifier, mixture, cleanWeights, corrupt, settings, table, base, log);
            Labels labels = label(classifier, mixture, corrupt, settings, table, base);
            return new Result(labels.tn, labels.meanCorruptByStep, last[0], last[1]);
        }
    }

    /** AdamW on the BCE of balanced batches; returns the mean loss and accuracy of the last 10% of steps. */
    private static double[] train(NoiseLevelClassifier classifier, MixtureDataset mixture, double[] cleanWeights,
                                  int corrupt, NoiseClassifierConfig s, Tensor abar, long base, PrintStream log) {
        int b = s.batchSize();
        int nClean = b / 2;
        int nCorrupt = b - nClean;
        double[] corruptWeights = new double[mixture.numDatasets()];
        corruptWeights[corrupt] = 1;
        List<DemoDataset> datasets = new ArrayList<>();
        for (int j = 0; j < mixture.numDatasets(); j++) {
            datasets.add(mixture.dataset(j));
        }
        MixtureDataset clean = new MixtureDataset(datasets, cleanWeights, mixture.normalizer(), mixture.horizon(),
                mixture.nObsSteps(), mixture.nActionSteps(), nClean, Streams.key(base, CLEAN_DATA, 0));
        MixtureDataset dirty = new MixtureDataset(datasets, corruptWeights, mixture.normalizer(), mixture.horizon(),
                mixture.nObsSteps(), mixture.nActionSteps(), nCorrupt, Streams.key(base, CORRUPT_DATA, 0));
        int chunkDim = mixture.horizon() * mixture.actionDim();
        int obsDim = mixture.nObsSteps() * mixture.obsDim();
        int numSteps = abar.dim(0);
        float[] labels = new float[b];
        for (int i = nClean; i < b; i++) {
            labels[i] = 1f;
        }
        int tail = Math.max(1, s.trainSteps() / 10);
        double tailLoss = 0;
        double tailCorrect = 0;
        double windowLoss = 0;
        int windowSteps = 0;
        int reportEvery = Math.max(1, s.trainSteps() / 5);
        try (AdamW optimizer = new AdamW(classifier.parameters(), 0.9f, 0.999f, 1e-8f, 0f);
             Tensor x0 = backend(abar).empty(b, chunkDim);
             Tensor obs = backend(abar).empty(b, obsDim);
             Tensor eps = backend(abar).empty(b, chunkDim);
             Tensor xt = backend(abar).empty(b, chunkDim);
             Tensor t = backend(abar).empty(DType.I32, b);
             Tensor tf = backend(abar).empty(b);
             Tensor y = backend(abar).of(labels, b);
             Tensor elems = backend(abar).empty(b);
             Tensor loss = backend(abar).empty(1);
             Tensor one = backend(abar).of(new float[] {1f}, 1);
             Tensor dlogits = backend(abar).empty(b, 1)) {
            for (int k = 0; k < s.trainSteps(); k++) {
                Batch c = clean.batch(k);
                Batch d = dirty.batch(k);
                x0.copyFrom(concat(c.actions(), d.actions()));
                obs.copyFrom(concat(c.obs(), d.obs()));
                int[] steps = new int[b];
                float[] stepsAsFloat = new float[b];
                long stepKey = Streams.key(base, Streams.TIMESTEPS, k);
                for (int i = 0; i < b; i++) {
                    steps[i] = Philox.randint(stepKey, i, 0, numSteps);
                    stepsAsFloat[i] = steps[i];
                }
                t.copyFrom(steps);
                tf.copyFrom(stepsAsFloat);
                Ops.randNormal(eps, Streams.key(base, Streams.NOISE, k), 0);
                Ops.ddpmAddNoise(x0, eps, t, abar, xt);
                Tensor logits = classifier.forward(xt, tf, s.useObs() ? obs : null);
                Ops.bceLogitsForward(logits.view(b), y, elems);
                Ops.sum(elems, loss, 1f / b);
                classifier.zeroGrad();
                backend(abar).zero(dlogits);
                Ops.bceLogitsBackward(logits.view(b), y, one, dlogits.view(b), 1f / b);
                classifier.backward(dlogits);
                optimizer.step((float) s.learningRate());
                double l = loss.item();
                if (!Double.isFinite(l)) {
                    throw new IllegalStateException("noise-level classifier: the loss is " + l + " at step " + k
                            + "; lower cotrain.ambient.classifier.learning_rate");
                }
                windowLoss += l;
                windowSteps++;
                if (k >= s.trainSteps() - tail) {
                    tailLoss += l;
                    float[] z = logits.toFloatArray();
                    for (int i = 0; i < b; i++) {
                        tailCorrect += (z[i] > 0) == (labels[i] > 0.5f) ? 1 : 0;
                    }
                }
                if (log != null && ((k + 1) % reportEvery == 0 || k + 1 == s.trainSteps())) {
                    log.printf(Locale.ROOT, "  noise-level classifier of %s: step %d/%d, BCE %.4f%n",
                            mixture.dataset(corrupt).file().getFileName(), k + 1, s.trainSteps(),
                            windowLoss / windowSteps);
                    windowLoss = 0;
                    windowSteps = 0;
                }
            }
        }
        return new double[] {tailLoss / tail, tailCorrect / ((double) tail * b)};
    }

    private static Backend backend(Tensor t) {
        return t.backend();
    }

    private static float[] concat(float[] a, float[] b) {
        float[] out = new float[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private record Labels(int[] tn, double[] meanCorruptByStep) {}

    /** The t_n of every training window of the corrupt dataset. */
    private static Labels label(NoiseLevelClassifier classifier, MixtureDataset mixture, int corrupt,
                                NoiseClassifierConfig s, Tensor abar, long base) {
        Backend backend = abar.backend();
        int numSteps = abar.dim(0);
        int draws = s.noiseDraws();
        int chunkDim = mixture.horizon() * mixture.actionDim();
        int obsDim = mixture.nObsSteps() * mixture.obsDim();
        int windows = mixture.trainSampler(corrupt).size();
        int perWindow = numSteps * draws;
        int group = Math.max(1, ROWS_PER_PASS / perWindow);
        double threshold = 0.5 + s.epsilon();
        long noiseKey = Streams.key(base, Streams.SAMPLING, 0);
        int[] tn = new int[windows];
        double[] meanByStep = new double[numSteps];
        try (Buffer x0 = new Buffer(backend); Buffer obs = new Buffer(backend); Buffer eps = new Buffer(backend);
             Buffer xt = new Buffer(backend); Buffer t = new Buffer(backend); Buffer tf = new Buffer(backend)) {
            for (int first = 0; first < windows; first += group) {
                int g = Math.min(group, windows - first);
                int rows = g * perWindow;
                Batch w = mixture.trainWindows(corrupt, first, g);
                float[] x0Rows = new float[rows * chunkDim];
                float[] obsRows = s.useObs() ? new float[rows * obsDim] : null;
                int[] steps = new int[rows];
                float[] stepsAsFloat = new float[rows];
                for (int i = 0; i < g; i++) {
                    for (int step = 0; step < numSteps; step++) {
                        for (int d = 0; d < draws; d++) {
                            int r = (i * numSteps + step) * draws + d;
                            System.arraycopy(w.actions(), i * chunkDim, x0Rows, r * chunkDim, chunkDim);
                            if (obsRows != null) {
                                System.arraycopy(w.obs(), i * obsDim, obsRows, r * obsDim, obsDim);
                            }
                            steps[r] = step;
                            stepsAsFloat[r] = step;
                        }
                    }
                }
                Tensor x0t = x0.get(rows, chunkDim).copyFrom(x0Rows);
                Tensor epst = eps.get(rows, chunkDim);
                Ops.randNormal(epst, noiseKey, (long) first * perWindow * chunkDim);
                Tensor tt = t.get(DType.I32, rows).copyFrom(steps);
                Tensor xtt = xt.get(rows, chunkDim);
                Ops.ddpmAddNoise(x0t, epst, tt, abar, xtt);
                Tensor obst = obsRows == null ? null : obs.get(rows, obsDim).copyFrom(obsRows);
                float[] logits = classifier.forward(xtt, tf.get(rows).copyFrom(stepsAsFloat), obst).toFloatArray();
                for (int i = 0; i < g; i++) {
                    int found = numSteps;
                    for (int step = 0; step < numSteps; step++) {
                        double p = 0;
                        for (int d = 0; d < draws; d++) {
                            p += sigmoid(logits[(i * numSteps + step) * draws + d]);
                        }
                        p /= draws;
                        meanByStep[step] += p / windows;
                        if (found == numSteps && p < threshold) {
                            found = step;
                        }
                    }
                    tn[first + i] = found;
                }
            }
        }
        return new Labels(tn, meanByStep);
    }

    static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }
}
