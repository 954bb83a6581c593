package org.cotrain.train;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.cotrain.ambient.AmbientMixing;
import org.cotrain.ambient.NoiseLevelAnnotations;
import org.cotrain.config.Config;
import org.cotrain.config.GuidanceConfig;
import org.cotrain.config.TrainConfig;
import org.cotrain.data.Batch;
import org.cotrain.data.Datasets;
import org.cotrain.data.DemoDataset;
import org.cotrain.data.LinearNormalizer;
import org.cotrain.data.MixtureDataset;
import org.cotrain.data.NoiseAwareMixing;
import org.cotrain.data.Prefetcher;
import org.cotrain.io.AtomicFiles;
import org.cotrain.io.Checkpoint;
import org.cotrain.io.DirectoryLock;
import org.cotrain.io.Safetensors;
import org.cotrain.nn.Parameter;
import org.cotrain.ops.Ops;
import org.cotrain.optim.AdamW;
import org.cotrain.optim.EmaDecay;
import org.cotrain.optim.EmaModel;
import org.cotrain.optim.LrSchedule;
import org.cotrain.policy.BatchTensors;
import org.cotrain.policy.Policies;
import org.cotrain.policy.TrainablePolicy;
import org.cotrain.random.Streams;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * Diffusion Policy's training workspace for the transformer policies, low-dim or image (the config's kind; both are
 * {@link TrainablePolicy}s, made by {@link Policies}): batches from one or several datasets
 * (weights per dataset), AdamW with DP's groups, the LR schedule stepped per optimizer step, EMA after each step,
 * optional gradient-norm clipping, validation loss every val_every epochs, checkpoints every checkpoint_every epochs
 * and at the end, metrics as JSON lines and a loss-curve PNG in the run directory.
 *
 * <p>Step k (a global batch index) draws batch k of the mixture, and its timesteps, noise and dropout masks from
 * (seed, k): nothing depends on the steps before it except the weights and the optimizer state, which the checkpoint
 * holds. So a run stopped at any step (a stop request writes a checkpoint at that step) and resumed produces the same
 * losses as an uninterrupted one on the same backend. An "epoch" is ceil(training windows / batch_size) batches
 * (capped by training.max_train_steps), as DP's dataloader length; batches are drawn with replacement.
 *
 * <p>Run directory: {@code checkpoints/latest.safetensors} (policy + EMA + optimizer + step; the config in the
 * metadata), {@code metrics.jsonl}, {@code loss.png}, {@code config.yaml}.
 */
public final class Trainer {

    /** The config keys a resumed run may change: how long it runs, how often it checkpoints, how many threads. */
    public static final List<String> RESUMABLE_CHANGES = List.of("training.resume", "training.num_epochs",
            "cotrain.total_train_steps", "training.checkpoint_every", "cotrain.threads", "dataloader.num_workers");

    /** What a finished (or stopped) run reached; trainSeconds: wall-clock training over every resumed part. */
    public record Result(long steps, long totalSteps, double lastTrainLoss, double lastValLoss, Path checkpoint,
                         boolean stopped, double trainSeconds) {}

    private final Config rawConfig;
    private final TrainConfig config;
    private final Path runDir;
    private final Backend backend;
    private final PrintStream log;
    private volatile boolean stopRequested;
    private long stopAfterStep = Long.MAX_VALUE;
    private boolean showProgress = true;
    private final CountDownLatch finished = new CountDownLatch(1);
    private String noiseLevelsDigest; // null unless the run uses classifier noise levels

    public Trainer(Config rawConfig, Path runDir, Backend backend, PrintStream log) {
        this.rawConfig = rawConfig;
        this.config = rawConfig.toTrainConfig();
        this.runDir = runDir;
        this.backend = backend;
        this.log = log;
    }

    /** Asks the loop to stop after the current step, writing a checkpoint there (e.g. on Ctrl-C). */
    public void requestStop() {
        stopRequested = true;
    }

    /** Waits (up to the given milliseconds) for {@link #run} to return after a stop request. */
    public boolean awaitFinished(long millis) throws InterruptedException {
        return finished.await(millis, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** Stops (with a checkpoint) once this many steps are done: tests of resumption, and time-boxed runs. */
    public Trainer stopAfter(long steps) {
        this.stopAfterStep = steps;
        return this;
    }

    public Trainer showProgress(boolean show) {
        this.showProgress = show;
        return this;
    }

    public Path checkpointPath() {
        return Checkpoint.in(runDir);
    }

    /**
     * Trains in the run directory, which it claims for the duration ({@link DirectoryLock}: a second run there is
     * refused, naming this one). The rule for an existing run directory: without training.resume it is an error; with
     * it, the run continues from its checkpoint (or starts, when it was stopped before the first one) provided the
     * config equals the run's stored config.yaml except for {@link #RESUMABLE_CHANGES}. A run directory this call
     * created and left empty (a failure before anything was written) is removed again.
     */
    public Result run() throws IOException {
        try {
            boolean created = RunDirectories.create(runDir);
            try (DirectoryLock lock = DirectoryLock.claim(runDir, "cotrain train " + config.name())) {
                // a killed checkpoint or metrics write leaves its temporary file: ours to delete now we own the dir
                AtomicFiles.removeLeftovers(runDir);
                AtomicFiles.removeLeftovers(checkpointPath().getParent());
                return train();
            } catch (IOException | RuntimeException | Error e) {
                if (created) {
                    RunDirectories.deleteIfEmpty(runDir);
                }
                throw e;
            }
        } finally {
            finished.countDown();
        }
    }

    private Result train() throws IOException {
        Path checkpoint = checkpointPath();
        Path storedConfig = runDir.resolve("config.yaml");
        boolean holdsRun = Files.exists(checkpoint) || Files.exists(storedConfig);
        if (holdsRun && !config.training().resume()) {
            throw new IllegalArgumentException(runDir + " already holds a run (" + (Files.exists(checkpoint)
                    ? "checkpoint at step " + Checkpoint.step(checkpoint) : "its config.yaml, no checkpoint yet")
                    + "): continue it with --resume (training.resume=true), or give another run directory");
        }
        if (holdsRun) {
            RunDirectories.checkResumable(storedConfig, rawConfig, RESUMABLE_CHANGES);
        }
        boolean resume = config.training().resume() && Files.exists(checkpoint);
        Safetensors resumeFrom = resume ? Safetensors.read(checkpoint) : null;

        List<DemoDataset> datasets = Datasets.load(config.task().dataset(), config.cotrain(), config.isImage());
        // a resumed run keeps the normaliser it was trained with
        LinearNormalizer normalizer = resume ? LinearNormalizer.read(resumeFrom)
                : Policies.normalizerFromData(config, MixtureDataset.fitNormalizer(datasets));
        long seed = config.training().seed();
        int batchSize = config.dataloader().batchSize();
        int accumulate = config.training().gradientAccumulateEvery();

        try (TrainablePolicy policy = Policies.create(backend, config, normalizer, seed)) {
            long startStep = 0;
            if (resume) {
                policy.load(resumeFrom, false);
                startStep = Long.parseLong(Checkpoint.require(resumeFrom, Checkpoint.STEP));
                long savedSeed = Long.parseLong(Checkpoint.require(resumeFrom, Checkpoint.SEED));
                if (savedSeed != seed) {
                    throw new IllegalArgumentException(checkpoint + " was written by a run with training.seed="
                            + savedSeed + ", this config has " + seed + "; resuming would not continue that run");
                }
            }
            MixtureDataset mixture = Datasets.trainingMixture(config, datasets, policy.dataNormalizer());
            String ambientLine = "";
            if (config.cotrain().ambient().enabled()) {
                ambientLine = "; " + setUpAmbient(mixture, resumeFrom);
            }
            long windows = 0;
            for (int j = 0; j < mixture.numDatasets(); j++) {
                windows += mixture.trainSampler(j).size();
            }
            if (windows == 0) {
                throw new IllegalArgumentException(config.task().dataset().paths() + ": no training windows (no"
                        + " training demos, or every demo is shorter than the window)");
            }
            long stepsPerEpoch = (windows + batchSize - 1) / batchSize;
            if (config.training().maxTrainSteps() != null) {
                stepsPerEpoch = Math.min(stepsPerEpoch, config.training().maxTrainSteps());
            }
            long totalSteps = config.cotrain().totalTrainSteps() != null ? config.cotrain().totalTrainSteps()
                    : stepsPerEpoch * config.training().numEpochs();
            if (startStep > totalSteps) {
                throw new IllegalArgumentException(runDir + " has trained " + startStep + " steps, and this config asks"
                        + " for " + totalSteps + " in all (" + (config.cotrain().totalTrainSteps() != null
                        ? "cotrain.total_train_steps=" + totalSteps : "training.num_epochs="
                        + config.training().numEpochs() + " epochs of " + stepsPerEpoch + " steps") + "): ask for at"
                        + " least " + startStep + " to continue it");
            }
            double trainSecondsBefore = resume && resumeFrom.metadata().containsKey(Checkpoint.TRAIN_SECONDS)
                    ? Double.parseDouble(resumeFrom.metadata().get(Checkpoint.TRAIN_SECONDS)) : 0;
            if (resume && startStep == totalSteps) {
                double[] last = lastValues(runDir.resolve("metrics.jsonl"));
                log.printf(Locale.ROOT, "cotrain train: %s is complete (%d of %d steps); nothing to do. Checkpoint %s"
                        + "%n", runDir, startStep, totalSteps, checkpoint);
                return new Result(startStep, totalSteps, last[0], last[1], checkpoint, false, trainSecondsBefore);
            }
            LrSchedule schedule = new LrSchedule(config.training().lrScheduler().configName(),
                    config.optimizer().learningRate(), config.training().lrWarmupSteps(), totalSteps / accumulate);
            List<Parameter> params = policy.parameters();
            AtomicFiles.writeString(storedConfig, rawConfig.toYaml());
            log.printf(Locale.ROOT, "cotrain train: %s on %s; %d parameters%s; %d datasets (%s), %d training windows,"
                            + " %d validation windows; %d steps (epochs of %d) of batch %d%s%s%s%s%s%n", config.name(),
                    backend.description(), policy.parameterCount(), describeCameras(mixture), datasets.size(),
                    describeWeights(mixture), windows, mixture.validationSize(), totalSteps, stepsPerEpoch, batchSize,
                    config.cotrain().domainConditioning() ? "; domain-conditioned" : "",
                    config.cotrain().obsNoiseStd() > 0 ? "; observation noise " + config.cotrain().obsNoiseStd() : "",
                    describeGuidance(config.cotrain().guidance()), ambientLine,
                    resume ? "; resuming at step " + startStep : "");

            try (AdamW optimizer = new AdamW(params, policy.weightDecays(config.optimizer()),
                    (float) config.optimizer().beta1(), (float) config.optimizer().beta2(), 1e-8f);
                    EmaModel ema = config.training().useEma() ? new EmaModel(params, emaDecay()) : null;
                    Tensor scratch = backend.zeros(1)) {
                if (resume) {
                    optimizer.load(resumeFrom);
                    if (ema != null) {
                        ema.load(resumeFrom);
                    }
                }
                Path metricsPath = runDir.resolve("metrics.jsonl");
                truncateMetrics(metricsPath, startStep);
                return loop(policy, mixture, optimizer, ema, schedule, scratch, metricsPath, startStep,
                        stepsPerEpoch, totalSteps, seed, accumulate, trainSecondsBefore);
            }
        }
    }

    private Result loop(TrainablePolicy policy, MixtureDataset mixture, AdamW optimizer, EmaModel ema,
                        LrSchedule schedule, Tensor scratch, Path metricsPath, long startStep, long stepsPerEpoch,
                        long totalSteps, long seed, int accumulate, double trainSecondsBefore) throws IOException {
        long start = System.nanoTime();
        double trainSeconds = trainSecondsBefore; // as of the last checkpoint: what a resume continues from
        List<Parameter> params = policy.parameters();
        Double maxGradNorm = config.cotrain().maxGradNorm();
        double lastLoss = Double.NaN;
        double lastVal = Double.NaN;
        int workers = Math.max(1, config.dataloader().numWorkers());
        BatchTensors tensors = null; // the batch on the backend, allocated for the first batch's shapes
        try (MetricsLog metrics = new MetricsLog(metricsPath);
                Prefetcher<Batch> batches = new Prefetcher<>(mixture::batch, startStep, totalSteps, 2 * workers);
                TrainProgress progress = showProgress ? new TrainProgress(config.name(), totalSteps, startStep)
                        : null) {
            long step = startStep;
            while (step < totalSteps) {
                Batch batch = batches.next();
                tensors = tensors == null ? BatchTensors.of(backend, batch) : tensors.copyFrom(batch);
                if (step % accumulate == 0) {
                    policy.zeroGrad();
                }
                // ambient diffusion: the mixture drew each sample's step with its dataset; else the policy draws it
                float loss = policy.loss(tensors, seed, step, true, config.cotrain().ambient().lossWeighting());
                if (!Float.isFinite(loss)) {
                    throw diverged(step, "loss", loss, batch, policy);
                }
                policy.backward(1f / accumulate);
                long epoch = step / stepsPerEpoch;
                Map<String, Object> entry = MetricsLog.entries("step", step, "epoch", epoch, "train_loss", loss);
                if ((step + 1) % accumulate == 0) {
                    long optStep = optimizer.steps();
                    double gradNorm = gradNorm(params, scratch);
                    if (!Double.isFinite(gradNorm)) {
                        throw diverged(step, "gradient norm", gradNorm, batch, policy);
                    }
                    float gradScale = maxGradNorm != null && gradNorm > maxGradNorm
                            ? (float) (maxGradNorm / (gradNorm + 1e-6)) : 1f;
                    double lr = schedule.lr(optStep);
                    optimizer.step((float) lr, gradScale);
                    if (ema != null) {
                        ema.update();
                    }
                    entry.put("lr", lr);
                    entry.put("grad_norm", gradNorm);
                }
                lastLoss = loss;
                step++;
                boolean epochEnd = step % stepsPerEpoch == 0;
                long epochsDone = step / stepsPerEpoch;
                if (epochEnd && (epochsDone % config.training().valEvery() == 0 || step == totalSteps)
                        && mixture.validationSize() > 0) {
                    lastVal = validate(policy, mixture, seed);
                    entry.put("val_loss", lastVal);
                }
                metrics.log(entry);
                if (progress != null) {
                    progress.step(loss, schedule.lr(Math.max(0, optimizer.steps() - 1)));
                }
                boolean stopping = stopRequested || step >= stopAfterStep;
                if (step == totalSteps || stopping
                        || (epochEnd && epochsDone % config.training().checkpointEvery() == 0)) {
                    trainSeconds = trainSecondsBefore + (System.nanoTime() - start) / 1e9;
                    writeCheckpoint(policy, optimizer, ema, step, seed, trainSeconds);
                }
                if (stopping && step < totalSteps) {
                    log.printf(Locale.ROOT, "cotrain train: stopped at step %d of %d; checkpoint %s (continue with"
                            + " --resume --run-dir %s)%n", step, totalSteps, checkpointPath(), runDir);
                    return new Result(step, totalSteps, lastLoss, lastVal, checkpointPath(), true, trainSeconds);
                }
            }
        } finally {
            if (tensors != null) {
                tensors.close();
            }
        }
        LossPlot.write(runDir.resolve("loss.png"), config.name(), curve(metricsPath, "train_loss", 0),
                curve(metricsPath, "val_loss", 1));
        log.printf(Locale.ROOT, "cotrain train: done, %d steps; train loss %.5f%s; checkpoint %s%n", totalSteps,
                lastLoss, Double.isNaN(lastVal) ? "" : String.format(Locale.ROOT, ", val loss %.5f", lastVal),
                checkpointPath());
        return new Result(totalSteps, totalSteps, lastLoss, lastVal, checkpointPath(), false, trainSeconds);
    }

    /** Mean loss over the validation windows (at most max_val_steps batches), eval mode, fixed noise. */
    private double validate(TrainablePolicy policy, MixtureDataset mixture, long seed) {
        int b = config.valDataloader().batchSize();
        int total = mixture.validationSize();
        int maxBatches = config.training().maxValSteps() == null ? Integer.MAX_VALUE
                : config.training().maxValSteps();
        long valSeed = Streams.key(seed, Streams.VALIDATION, 0);
        double sum = 0;
        long count = 0;
        int k = 0;
        for (int first = 0; first < total && k < maxBatches; first += b, k++) {
            Batch batch = mixture.validationBatch(first, b);
            try (BatchTensors tensors = BatchTensors.of(backend, batch)) {
                float loss = policy.loss(tensors, valSeed, k, false, false);
                sum += (double) loss * batch.size();
                count += batch.size();
            }
        }
        return sum / count;
    }

    /** sqrt(sum over parameters of sum(grad^2)), in double on the host. */
    static double gradNorm(List<Parameter> params, Tensor scratch) {
        double sum = 0;
        for (Parameter p : params) {
            Ops.sumSquares(p.grad(), scratch);
            sum += scratch.item();
        }
        return Math.sqrt(sum);
    }

    private TrainingDivergedException diverged(long step, String what, double value, Batch batch,
                                               TrainablePolicy policy) {
        String culprit = firstNonFinite(batch, policy);
        return new TrainingDivergedException(step, String.format(Locale.ROOT, "step %d: the %s is %s; %s. Stopped"
                + " before the optimizer step; the last good checkpoint is %s", step, what, value, culprit,
                Files.exists(checkpointPath()) ? checkpointPath() : "(none written yet)"));
    }

    /**
     * Names the first non-finite tensor in the order the step computes them: the batch, each weight (state_dict
     * order), each gradient, then the prediction.
     */
    static String firstNonFinite(Batch batch, TrainablePolicy policy) {
        int bad = firstNonFinite(batch.obs());
        if (bad >= 0) {
            return "non-finite input: the batch's normalised obs, element " + bad;
        }
        bad = firstNonFinite(batch.actions());
        if (bad >= 0) {
            return "non-finite input: the batch's normalised actions, element " + bad;
        }
        for (Parameter p : policy.parameters()) {
            bad = firstNonFinite(p.value().toFloatArray());
            if (bad >= 0) {
                return "first non-finite weight: " + p.name() + " " + p.value().shapeString() + ", element "
                        + bad;
            }
        }
        for (Parameter p : policy.parameters()) {
            if (p.hasGrad()) {
                bad = firstNonFinite(p.grad().toFloatArray());
                if (bad >= 0) {
                    return "first non-finite gradient: " + p.name() + " " + p.grad().shapeString()
                            + ", element " + bad;
                }
            }
        }
        if (policy.lastPrediction() != null) {
            bad = firstNonFinite(policy.lastPrediction().toFloatArray());
            if (bad >= 0) {
                return "inputs and weights are finite, the denoiser's prediction " + policy.lastPrediction()
                        .shapeString() + " is not (element " + bad + "): an activation overflowed";
            }
        }
        return "inputs, weights and gradients are finite (the overflow is inside the loss)";
    }

    private static int firstNonFinite(float[] values) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                return i;
            }
        }
        return -1;
    }

    private void writeCheckpoint(TrainablePolicy policy, AdamW optimizer, EmaModel ema, long step, long seed,
                                 double trainSeconds) throws IOException {
        Safetensors.Writer w = Checkpoint.writer(rawConfig.toYaml())
                .metadata(Checkpoint.STEP, Long.toString(step)).metadata(Checkpoint.SEED, Long.toString(seed))
                .metadata(Checkpoint.TRAIN_SECONDS, Double.toString(trainSeconds));
        if (noiseLevelsDigest != null) {
            w.metadata(Checkpoint.NOISE_LEVELS, noiseLevelsDigest);
        }
        policy.addTo(w);
        if (ema != null) {
            ema.addTo(w);
        }
        optimizer.addTo(w);
        AtomicFiles.write(checkpointPath(), w::write);
    }

    /**
     * Ambient diffusion: the classifier's noise levels (from their sidecar files, or annotated now), then the mixing
     * that draws each sample's step before its dataset. A resumed run checks that it has the noise levels the
     * checkpoint was trained with (the classifier is deterministic on one backend, so a lost sidecar is recomputed
     * identically; a changed dataset or setting is an error). Returns a line for the log.
     */
    private String setUpAmbient(MixtureDataset mixture, Safetensors resumeFrom) {
        var ambient = config.cotrain().ambient();
        int numTimesteps = config.policy().noiseScheduler().numTrainTimesteps();
        Map<Integer, NoiseLevelAnnotations.Annotation> annotations = NoiseLevelAnnotations.forTraining(config,
                mixture, backend, log);
        Map<Integer, int[]> tn = new LinkedHashMap<>();
        annotations.forEach((j, a) -> {
            tn.put(j, a.tn());
            log.printf(Locale.ROOT, "cotrain ambient: %s: %s%n", a.file().getFileName(), a.summary(numTimesteps));
        });
        if (!annotations.isEmpty()) {
            noiseLevelsDigest = NoiseLevelAnnotations.digest(annotations);
            String saved = resumeFrom == null ? null : resumeFrom.metadata().get(Checkpoint.NOISE_LEVELS);
            if (resumeFrom != null && !noiseLevelsDigest.equals(saved)) {
                throw new IllegalArgumentException(checkpointPath() + " was trained with other noise levels than the"
                        + " classifier gives now (" + (saved == null ? "none recorded" : "digest " + saved) + ", now "
                        + noiseLevelsDigest + "): the data, cotrain.ambient.classifier.* or the backend changed;"
                        + " resuming would not continue that run");
            }
        }
        NoiseAwareMixing mixing = AmbientMixing.of(ambient, numTimesteps, mixture, tn);
        mixture.withNoiseAwareMixing(mixing);
        return AmbientMixing.describe(ambient, mixing);
    }

    private EmaDecay emaDecay() {
        var e = config.ema();
        return new EmaDecay(e.updateAfterStep(), e.invGamma(), e.power(), e.minValue(), e.maxValue());
    }

    /** "; null condition (learned) p_uncond 0.1, action-only datasets [1]" when training drops observations. */
    private static String describeGuidance(GuidanceConfig g) {
        if (!g.trainsNullCondition()) {
            return "";
        }
        List<Integer> actionOnly = new ArrayList<>();
        for (int j = 0; g.actionOnly() != null && j < g.actionOnly().size(); j++) {
            if (g.actionOnly(j)) {
                actionOnly.add(j);
            }
        }
        return String.format(Locale.ROOT, "; null condition (%s) p_uncond %s%s", g.nullCondition().name()
                .toLowerCase(Locale.ROOT), g.pUncond(), actionOnly.isEmpty() ? "" : ", action-only datasets "
                + actionOnly);
    }

    /** "; cameras image 96x96 (1.7 GiB of frames)" for an image mixture, else "". */
    private static String describeCameras(MixtureDataset m) {
        if (!m.hasImages()) {
            return "";
        }
        long bytes = 0;
        for (int j = 0; j < m.numDatasets(); j++) {
            for (var c : m.dataset(j).cameras()) {
                bytes += c.bytes();
            }
        }
        return String.format(Locale.ROOT, "; cameras %s (%.2f GiB of uint8 frames)", String.join(", ",
                m.cameras().stream().map(c -> c.key() + " " + c.height() + "x" + c.width()).toList()),
                bytes / (double) (1L << 30));
    }

    private static String describeWeights(MixtureDataset m) {
        StringBuilder s = new StringBuilder();
        double[] w = m.weights();
        for (int j = 0; j < w.length; j++) {
            s.append(j == 0 ? "" : ", ").append(m.dataset(j).file().getFileName()).append(String.format(Locale.ROOT,
                    " %.3f", w[j]));
        }
        return s.toString();
    }
    private static final Pattern STEP = Pattern.compile("\"step\": ?(\\d+)");

    /** Drops the metrics lines of steps >= step (written after the checkpoint a resumed run continues from). */
    static void truncateMetrics(Path path, long step) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        List<String> kept = new ArrayList<>();
        for (String line : Files.readAllLines(path, StandardCharsets.UTF_8)) {
            Matcher m = STEP.matcher(line);
            if (m.find() && Long.parseLong(m.group(1)) < step) {
                kept.add(line);
            }
        }
        AtomicFiles.write(path, out -> {
            for (String line : kept) {
                out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            }
        });
    }
    /** The last train_loss and val_loss of a metrics file (NaN where there is none). */
    private static double[] lastValues(Path metrics) {
        if (!Files.exists(metrics)) {
            return new double[] {Double.NaN, Double.NaN};
        }
        List<double[]> train = curve(metrics, "train_loss", 0);
        List<double[]> val = curve(metrics, "val_loss", 0);
        return new double[] {train.isEmpty() ? Double.NaN : train.get(train.size() - 1)[1],
                val.isEmpty() ? Double.NaN : val.get(val.size() - 1)[1]};
    }

    /** (step + shift, value) pairs of one key of the metrics file, for the plot. */
    private static List<double[]> curve(Path path, String key, int shift) {
        Pattern value = Pattern.compile("\"" + key + "\": ?([-+0-9.eE]+)");
        List<double[]> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(path, StandardCharsets.UTF_8)) {
                Matcher s = STEP.matcher(line);
                Matcher v = value.matcher(line);
                if (s.find() && v.find()) {
                    out.add(new double[] {Long.parseLong(s.group(1)) + shift, Double.parseDouble(v.group(1))});
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }
}
