package org.cotrain.analysis;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ForkJoinPool;
import java.util.function.BiConsumer;
import org.cotrain.config.Config;
import org.cotrain.config.TrainConfig;
import org.cotrain.data.Batch;
import org.cotrain.data.Datasets;
import org.cotrain.data.DemoDataset;
import org.cotrain.data.DomainLabels;
import org.cotrain.data.LinearNormalizer;
import org.cotrain.data.MixtureDataset;
import org.cotrain.io.Checkpoint;
import org.cotrain.io.Json;
import org.cotrain.io.Safetensors;
import org.cotrain.policy.BatchTensors;
import org.cotrain.policy.EmbeddingCapture;
import org.cotrain.policy.ImagePolicy;
import org.cotrain.policy.ImageSimPolicy;
import org.cotrain.policy.LowdimPolicy;
import org.cotrain.policy.LowdimSimPolicy;
import org.cotrain.policy.Sampling;
import org.cotrain.random.Streams;
import org.cotrain.sim.BatchPolicy;
import org.cotrain.sim.EnvConfig;
import org.cotrain.sim.Evaluator;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * What a trained policy makes of real and sim data (MISSION.md, "Analysis"). The first dataset is "real" (the
 * target data), every other one "sim".
 * <ul>
 *   <li>Probes: equal numbers of training windows of real and sim data are fed to the policy as in training (their
 *       normalised observations, with the domain label when the policy is domain conditioned); the policy samples
 *       an action chunk for each (DDIM), and at its last denoising step the denoiser's two embeddings are read
 *       ({@link EmbeddingCapture}): the observation embeddings and the final activations. DP-T: the observation
 *       tokens after the condition encoder, (To, C), and the decoder's output before its last LayerNorm and head,
 *       (H, C). DP-C: the first down block's cond encoder output (its FiLM scale and bias from [step | obs]), (2 C0),
 *       and final_conv's Conv1dBlock output before the 1x1 conv, (C0, H). A {@link LogisticProbe} on each tells how
 *       well sim and real can be separated there, on held-out windows.</li>
 *   <li>kNN attribution (with rollouts): the policy runs episodes in a sandbox environment; every action chunk it
 *       predicts is compared (normalised, Euclidean) with all the training chunks of real and sim data, and the
 *       share of real chunks among its k nearest is averaged ({@link NearestNeighbours}). The pool's own share of
 *       real chunks is the level of no preference.</li>
 *   <li>t-SNE (with {@code tsnePoints > 0}): both embeddings of the probes' windows (at most tsnePoints of them, a
 *       seeded subsample) mapped to 2-D by {@link Tsne}, real and sim coloured ({@link TsnePlots}); the report gives
 *       each map's KL divergence and the share of windows whose nearest neighbour in the map is of their own
 *       domain (near 0.5 with balanced domains that mix, near 1 where they separate).</li>
 * </ul>
 * Everything goes through the policy's condition pipeline and the denoiser's activations: for an image policy the
 * windows' frames go through its encoders (centre crops), its rollouts see the rendered frames.
 */
public final class PolicyAnalysis {

    /**
     * @param samplesPerDataset windows per dataset for the probes (fewer when a dataset has fewer)
     * @param ddimSteps         DDIM steps of the sampling whose last step the embeddings come from
     * @param testFraction      held-out share of the probes
     * @param l2                the probes' weight penalty
     * @param rollouts          episodes for kNN attribution (0: none)
     * @param env               where they run
     * @param k                 neighbours per predicted chunk
     * @param seed              seed of the window choice, the split, the sampling noise and the initial conditions
     * @param batch             episodes stepped together
     * @param tsnePoints        windows in the t-SNE maps (0: no maps; else at least 4)
     * @param tsnePerplexity    their perplexity (lowered to (N - 1) / 3 for N windows when that is smaller)
     */
    public record Options(int samplesPerDataset, int ddimSteps, double testFraction, double l2, int rollouts,
                          EnvConfig env, int k, long seed, int batch, int tsnePoints, double tsnePerplexity) {

        /** Without t-SNE maps. */
        public Options(int samplesPerDataset, int ddimSteps, double testFraction, double l2, int rollouts,
                       EnvConfig env, int k, long seed, int batch) {
            this(samplesPerDataset, ddimSteps, testFraction, l2, rollouts, env, k, seed, batch, 0, 30);
        }
    }

    /**
     * The t-SNE maps of both embeddings of the same windows: window i is training window {@code window[i]} of
     * dataset {@code dataset[i]} (0: real); {@code *NearestSameDomain} is the share of windows whose nearest
     * neighbour in that map is of their own domain (real or sim), {@code domainBaseline} that share for a map that
     * ignores the domain (the chance that another window, drawn at random, is of the same domain).
     */
    public record TsneMaps(int[] window, int[] dataset, Tsne.Result observation, Tsne.Result finalActivations,
                           double observationNearestSameDomain, double finalNearestSameDomain,
                           double domainBaseline) {

        public int real() {
            int r = 0;
            for (int d : dataset) {
                r += d == 0 ? 1 : 0;
            }
            return r;
        }
    }

    /** The t-SNE maps' stream key (with the analysis seed): their subsample and initial maps. */
    private static final long TSNE_STREAM = 0x54534E45L;   // "TSNE"

    /** The kNN attribution of a policy's rollouts. */
    public record Attribution(String env, int episodes, double successRate, int queries, int k, double realFraction,
                              double poolRealShare, int poolReal, int poolSim) {}

    /** What {@link #run} measured; attribution is null without rollouts. */
    public record Report(Path checkpoint, List<Path> data, int samplesPerDataset, int ddimSteps, double l2,
                         LogisticProbe.Result observationProbe, LogisticProbe.Result finalActivationProbe,
                         Attribution attribution, TsneMaps tsne) {

        /**
         * Writes the t-SNE maps as {@code <stem>_tsne_observation_embeddings.png}, {@code
         * <stem>_tsne_final_activations.png} and their coordinates as {@code <stem>_tsne.csv} in dir; returns them.
         */
        public List<Path> writeTsne(Path dir, String stem) {
            if (tsne == null) {
                throw new IllegalStateException("no t-SNE maps in this report: run with Options.tsnePoints > 0");
            }
            return TsnePlots.write(dir, stem, tsne);
        }

        /** A few lines for people. */
        public String summary() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(Locale.ROOT, "sim-vs-real probe (logistic regression, %d windows per dataset,"
                    + " held-out accuracy; majority baseline %.3f):%n", samplesPerDataset,
                    observationProbe.majorityBaseline()));
            sb.append(String.format(Locale.ROOT, "  observation embeddings (%d dims): %.3f (train %.3f)%n",
                    observationProbe.dims(), observationProbe.testAccuracy(), observationProbe.trainAccuracy()));
            sb.append(String.format(Locale.ROOT, "  final activations (%d dims): %.3f (train %.3f)%n",
                    finalActivationProbe.dims(), finalActivationProbe.testAccuracy(),
                    finalActivationProbe.trainAccuracy()));
            if (attribution != null) {
                Attribution a = attribution;
                sb.append(String.format(Locale.ROOT, "kNN attribution (%d episodes on %s, success %.3f): %d predicted"
                        + " chunks, %.3f of their %d nearest training chunks are real (the pool is %.3f real: %d"
                        + " real, %d sim)%n", a.episodes(), a.env(), a.successRate(), a.queries(), a.realFraction(),
                        a.k(), a.poolRealShare(), a.poolReal(), a.poolSim()));
            }
            if (tsne != null) {
                TsneMaps t = tsne;
                sb.append(String.format(Locale.ROOT, "t-SNE (%d windows: %d real, %d sim; perplexity %.3g): nearest"
                        + " neighbour of the same domain for %.3f (observation embeddings, KL %.3f) and %.3f (final"
                        + " activations, KL %.3f) of them; %.3f for a map blind to the domain%n", t.dataset().length,
                        t.real(), t.dataset().length - t.real(), t.observation().perplexity(),
                        t.observationNearestSameDomain(), t.observation().kl(), t.finalNearestSameDomain(),
                        t.finalActivations().kl(), t.domainBaseline()));
            }
            return sb.toString();
        }

        public String toJson() {
            StringBuilder sb = new StringBuilder("{\n");
            sb.append("  \"checkpoint\": ").append(Json.quote(checkpoint.toString())).append(",\n");
            sb.append("  \"data\": [");
            for (int i = 0; i < data.size(); i++) {
                sb.append(i == 0 ? "" : ", ").append(Json.quote(data.get(i).toString()));
            }
            sb.append("],\n");
            sb.append(String.format(Locale.ROOT, "  \"probe\": {\"samples_per_dataset\": %d, \"ddim_steps\": %d,"
                    + " \"l2\": %s,%n", samplesPerDataset, ddimSteps, num(l2)));
            sb.append("    \"observation_embeddings\": ").append(json(observationProbe)).append(",\n");
            sb.append("    \"final_activations\": ").append(json(finalActivationProbe)).append("},\n");
            if (tsne == null) {
                sb.append("  \"tsne\": null,\n");
            } else {
                TsneMaps t = tsne;
                sb.append(String.format(Locale.ROOT, "  \"tsne\": {\"windows\": %d, \"real\": %d, \"sim\": %d,"
                        + " \"perplexity\": %s, \"iterations\": %d, \"domain_baseline\": %s,%n",
                        t.dataset().length, t.real(), t.dataset().length - t.real(), num(t.observation().perplexity()),
                        t.observation().iterations(), num(t.domainBaseline())));
                sb.append(String.format(Locale.ROOT, "    \"observation_embeddings\": {\"kl\": %s,"
                        + " \"nearest_same_domain\": %s},%n", num(t.observation().kl()),
                        num(t.observationNearestSameDomain())));
                sb.append(String.format(Locale.ROOT, "    \"final_activations\": {\"kl\": %s,"
                        + " \"nearest_same_domain\": %s}},%n", num(t.finalActivations().kl()),
                        num(t.finalNearestSameDomain())));
            }
            if (attribution == null) {
                sb.append("  \"knn\": null\n");
            } else {
                Attribution a = attribution;
                sb.append(String.format(Locale.ROOT, "  \"knn\": {\"env\": %s, \"episodes\": %d, \"success_rate\": %s,"
                        + " \"queries\": %d, \"k\": %d, \"real_fraction\": %s, \"pool_real_share\": %s,"
                        + " \"pool_real\": %d, \"pool_sim\": %d}%n", Json.quote(a.env()), a.episodes(),
                        num(a.successRate()), a.queries(), a.k(), num(a.realFraction()), num(a.poolRealShare()),
                        a.poolReal(), a.poolSim()));
            }
            return sb.append("}\n").toString();
        }

        private static String json(LogisticProbe.Result r) {
            return String.format(Locale.ROOT, "{\"dims\": %d, \"n_train\": %d, \"n_test\": %d, \"train_accuracy\": %s,"
                    + " \"test_accuracy\": %s, \"majority_baseline\": %s}", r.dims(), r.trainSize(), r.testSize(),
                    num(r.trainAccuracy()), num(r.testAccuracy()), num(r.majorityBaseline()));
        }

        private static String num(double v) {
            return String.format(Locale.ROOT, "%.6g", v);
        }
    }

    private PolicyAnalysis() {}

    /**
     * The policy under analysis, low-dim or image: what the probes and the rollouts need of it. Windows are batches of
     * normalised training windows without domain labels (the subject adds its label), with frames for an image policy.
     */
    private interface Subject extends AutoCloseable {
        /** The denoiser's embeddings of its last forward (after {@link #sample}: of the last denoising step). */
        EmbeddingCapture embeddings();

        Backend backend();

        LinearNormalizer dataNormalizer();

        boolean images();

        void setSampling(Sampling s);

        void setSeed(long seed);

        /** Samples normalised chunks out (B, H, Da) for the windows, conditioned on domain label {@code domain}. */
        void sample(Batch windows, int domain, Tensor out);

        /** The policy in the sandbox, telling every predicted chunk (data units) to the listener. */
        BatchPolicy sim(TrainConfig tc, long seed, BiConsumer<float[], Integer> onChunks);

        @Override
        void close();
    }

    private static Subject lowdim(LowdimPolicy policy) {
        return new Subject() {
            public EmbeddingCapture embeddings() {
                return policy.denoiser();
            }

            public Backend backend() {
                return policy.backend();
            }

            public LinearNormalizer dataNormalizer() {
                return policy.normalizer();
            }

            public boolean images() {
                return false;
            }

            public void setSampling(Sampling s) {
                policy.setSampling(s);
            }

            public void setSeed(long seed) {
                policy.setSeed(seed);
            }

            public void sample(Batch w, int domain, Tensor out) {
                float[] obs = policy.condition(w.obs(), w.size(), domain);
                try (Tensor cond = policy.backend().of(obs, w.size(), w.nObsSteps(), policy.config().conditionDim())) {
                    policy.sampleNormalized(cond, out);
                }
            }

            public BatchPolicy sim(TrainConfig tc, long seed, BiConsumer<float[], Integer> onChunks) {
                return new LowdimSimPolicy(policy, tc.task().dataset().obsKeys(), seed).onChunks(onChunks);
            }

            public void close() {
                policy.close();
            }
        };
    }

    private static Subject image(ImagePolicy policy) {
        return new Subject() {
            public EmbeddingCapture embeddings() {
                return policy.model();
            }

            public Backend backend() {
                return policy.backend();
            }

            public LinearNormalizer dataNormalizer() {
                return policy.dataNormalizer();
            }

            public boolean images() {
                return true;
            }

            public void setSampling(Sampling s) {
                policy.setSampling(s);
            }

            public void setSeed(long seed) {
                policy.setSeed(seed);
            }

            public void sample(Batch w, int domain, Tensor out) {
                int domains = policy.config().numDomains();
                Batch labelled = new Batch(w.index(), w.size(), w.horizon(), w.nObsSteps(), w.actionDim(),
                        w.obsDim() + domains, w.actions(), labelled(w, domain, domains), w.datasetIndex(),
                        w.windowIndex(), null, null, w.images());
                try (BatchTensors t = BatchTensors.of(policy.backend(), labelled)) {
                    policy.sampleNormalized(t, out);
                }
            }

            public BatchPolicy sim(TrainConfig tc, long seed, BiConsumer<float[], Integer> onChunks) {
                return new ImageSimPolicy(policy, seed).onChunks(onChunks);
            }

            public void close() {
                policy.close();
            }
        };
    }

    /** The windows' obs (B, To, Do) with the one-hot label of {@code domain} appended when there are domains. */
    private static float[] labelled(Batch w, int domain, int numDomains) {
        if (numDomains == 0) {
            return w.obs();
        }
        int[] labels = new int[w.size()];
        java.util.Arrays.fill(labels, domain);
        return DomainLabels.append(w.obs(), w.size(), w.nObsSteps(), w.obsDim(), labels, numDomains);
    }

    /**
     * @param data the files to analyse (real first), or null for the checkpoint's own training data (its
     *             task.dataset.path with the same subsets)
     */
    public static Report run(Path checkpoint, List<Path> data, Options o, Backend backend, ForkJoinPool pool,
                             PrintStream log) throws IOException {
        String yaml = Safetensors.read(checkpoint).metadata().get(Checkpoint.CONFIG);
        if (yaml == null) {
            throw new IllegalArgumentException(checkpoint + ": no " + Checkpoint.CONFIG + " metadata; not a"
                    + " cotrain policy or checkpoint");
        }
        if (o.tsnePoints() != 0 && (o.tsnePoints() < 4 || !(o.tsnePerplexity() >= 1))) {
            throw new IllegalArgumentException("t-SNE: tsnePoints " + o.tsnePoints() + " must be 0 (no maps) or at"
                    + " least 4, and the perplexity " + o.tsnePerplexity() + " at least 1");
        }
        Config config = Config.fromYaml(yaml, checkpoint + " metadata");
        TrainConfig trained = config.toTrainConfig();
        if (data != null) {
            if (trained.cotrain().domainConditioning() && data.size() != trained.task().dataset().paths().size()) {
                throw new IllegalArgumentException("--data lists " + data.size() + " files, but the policy is domain"
                        + " conditioned on " + trained.task().dataset().paths().size() + " datasets: list as many, in"
                        + " the training order");
            }
            List<String> names = data.stream().map(Path::toString).toList();
            // all training demos of the given files; ambient settings are about training, not analysis
            config = config.withOverrides("task.dataset.path=[" + String.join(",", names) + "]",
                    "task.dataset.weights=null", "cotrain.dataset_max_train_episodes=null", "cotrain.ambient.t_n=null");
        }
        TrainConfig tc = config.toTrainConfig();
        List<DemoDataset> datasets = Datasets.load(tc.task().dataset(), tc.cotrain(), tc.isImage());
        if (datasets.size() < 2) {
            throw new IllegalArgumentException("analysis needs real and sim data (two or more files), got "
                    + tc.task().dataset().paths());
        }
        try (Subject policy = tc.isImage() ? image(ImagePolicy.load(checkpoint, backend))
                : lowdim(LowdimPolicy.load(checkpoint, backend))) {
            MixtureDataset mixture = Datasets.trainingMixture(tc, datasets, policy.dataNormalizer());
            policy.setSampling(Sampling.ddim(o.ddimSteps()));
            policy.setSeed(Streams.key(o.seed(), Streams.SAMPLING, 1));
            int n = o.samplesPerDataset();
            for (int j = 0; j < datasets.size(); j++) {
                n = Math.min(n, mixture.trainSampler(j).size());
            }
            if (n < 2) {
                throw new IllegalArgumentException("a dataset has fewer than 2 training windows: nothing to probe");
            }
            log.printf(Locale.ROOT, "cotrain analyze: %s; probes on %d windows of each of %d datasets, embeddings at"
                    + " the last of %d DDIM steps%n", checkpoint, n, datasets.size(), o.ddimSteps());
            Features f = features(policy, mixture, n, o.seed());
            LogisticProbe.Result obsProbe = LogisticProbe.evaluate(f.observation, f.label, o.testFraction(), o.l2(),
                    Streams.key(o.seed(), Streams.SPLIT, 1));
            LogisticProbe.Result finalProbe = LogisticProbe.evaluate(f.finalActivations, f.label, o.testFraction(),
                    o.l2(), Streams.key(o.seed(), Streams.SPLIT, 2));
            TsneMaps maps = o.tsnePoints() > 0 ? tsne(f, o, pool, log) : null;
            Attribution attribution = o.rollouts() > 0 ? attribute(policy, mixture, tc, o, pool, log) : null;
            return new Report(checkpoint, tc.task().dataset().paths(), n, o.ddimSteps(), o.l2(), obsProbe, finalProbe,
                    attribution, maps);
        }
    }

    private record Features(double[][] observation, double[][] finalActivations, int[] label, int[] dataset,
                            int[] window) {}

    /** t-SNE maps of both embeddings of at most o.tsnePoints() of the windows (a seeded subsample, in row order). */
    private static TsneMaps tsne(Features f, Options o, ForkJoinPool pool, PrintStream log) {
        int total = f.label().length;
        int m = Math.min(total, o.tsnePoints());
        int[] rows = java.util.Arrays.copyOf(LogisticProbe.permutation(total, Streams.key(o.seed(), TSNE_STREAM, 0)),
                m);
        java.util.Arrays.sort(rows);
        double[][] obs = new double[m][];
        double[][] fin = new double[m][];
        int[] window = new int[m];
        int[] dataset = new int[m];
        int[] label = new int[m];
        for (int i = 0; i < m; i++) {
            obs[i] = f.observation()[rows[i]];
            fin[i] = f.finalActivations()[rows[i]];
            window[i] = f.window()[rows[i]];
            dataset[i] = f.dataset()[rows[i]];
            label[i] = f.label()[rows[i]];
        }
        double perplexity = Math.min(o.tsnePerplexity(), (m - 1) / 3.0);
        log.printf(Locale.ROOT, "cotrain analyze: t-SNE of %d windows (perplexity %.3g%s), observation embeddings"
                + " (%d dims) and final activations (%d dims)%n", m, perplexity, perplexity < o.tsnePerplexity()
                ? ", lowered from " + o.tsnePerplexity() + " for so few" : "", obs[0].length, fin[0].length);
        Tsne.Result a = pool.submit(() -> Tsne.embed(obs, Tsne.Options.defaults(Streams.key(o.seed(), TSNE_STREAM,
                1)).withPerplexity(perplexity))).join();
        Tsne.Result b = pool.submit(() -> Tsne.embed(fin, Tsne.Options.defaults(Streams.key(o.seed(), TSNE_STREAM,
                2)).withPerplexity(perplexity))).join();
        int real = 0;
        for (int l : label) {
            real += l == 0 ? 1 : 0;
        }
        double baseline = (real * (real - 1.0) + (m - real) * (m - real - 1.0)) / (m * (m - 1.0));
        return new TsneMaps(window, dataset, a, b, nearestSameLabel(a.embedding(), label),
                nearestSameLabel(b.embedding(), label), baseline);
    }

    /** The share of points whose nearest other point (ties: the first) has their label. */
    static double nearestSameLabel(double[][] y, int[] label) {
        int same = 0;
        for (int i = 0; i < y.length; i++) {
            int best = -1;
            double bd = Double.POSITIVE_INFINITY;
            for (int j = 0; j < y.length; j++) {
                double dx = y[i][0] - y[j][0], dy = y[i][1] - y[j][1], dd = dx * dx + dy * dy;
                if (j != i && dd < bd) {
                    bd = dd;
                    best = j;
                }
            }
            same += label[best] == label[i] ? 1 : 0;
        }
        return same / (double) y.length;
    }

    /** The two embeddings of n random training windows per dataset (label 0: the first dataset, 1: the others). */
    private static Features features(Subject policy, MixtureDataset mixture, int n, long seed) {
        int datasets = mixture.numDatasets();
        int h = mixture.horizon();
        int total = n * datasets;
        double[][] obsFeatures = new double[total][];
        double[][] finalFeatures = new double[total][];
        int[] label = new int[total];
        int[] dataset = new int[total];
        int[] window = new int[total];
        int row = 0;
        int chunk = policy.images() ? 32 : 256; // windows per sampling batch (an image window has To frames)
        Backend backend = policy.backend();
        for (int j = 0; j < datasets; j++) {
            int[] chosen = LogisticProbe.permutation(mixture.trainSampler(j).size(), Streams.key(seed, Streams.SPLIT,
                    100 + j));
            for (int first = 0; first < n; first += chunk) {
                int b = Math.min(chunk, n - first);
                Batch w = mixture.trainWindows(j, java.util.Arrays.copyOfRange(chosen, first, first + b),
                        policy.images());
                try (Tensor out = backend.empty(b, h, mixture.actionDim())) {
                    policy.sample(w, j, out);
                    float[][] obs;
                    try {
                        obs = policy.embeddings().observationEmbeddings();
                    } catch (IllegalStateException e) {
                        throw new IllegalArgumentException("nothing to probe: " + e.getMessage(), e);
                    }
                    float[][] fin = policy.embeddings().finalActivations();
                    for (int i = 0; i < b; i++) {
                        obsFeatures[row] = toDouble(obs[i]);
                        finalFeatures[row] = toDouble(fin[i]);
                        label[row] = j == 0 ? 0 : 1;
                        dataset[row] = j;
                        window[row] = chosen[first + i];
                        row++;
                    }
                }
            }
        }
        return new Features(obsFeatures, finalFeatures, label, dataset, window);
    }

    private static double[] toDouble(float[] v) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = v[i];
        }
        return r;
    }

    /** Rollouts in the environment, then the kNN attribution of every predicted chunk to the training chunks. */
    private static Attribution attribute(Subject policy, MixtureDataset mixture, TrainConfig tc, Options o,
                                         ForkJoinPool pool, PrintStream log) throws IOException {
        List<float[]> predicted = new ArrayList<>();
        BatchPolicy sim = policy.sim(tc, o.seed(), (chunk, b) -> predicted.add(policy.dataNormalizer()
                .normalize("action", chunk)));
        log.printf(Locale.ROOT, "cotrain analyze: %d episodes on %s for kNN attribution%n", o.rollouts(),
                o.env().name());
        Evaluator.Result r = Evaluator.evaluate("analysis", o.env(), sim, o.rollouts(), o.seed(), o.batch(),
                policy.images(), 0, null, pool, null);
        int d = mixture.horizon() * mixture.actionDim();
        int queries = 0;
        for (float[] p : predicted) {
            queries += p.length / d;
        }
        float[] q = new float[queries * d];
        int at = 0;
        for (float[] p : predicted) {
            System.arraycopy(p, 0, q, at, p.length);
            at += p.length;
        }
        int poolSize = 0;
        for (int j = 0; j < mixture.numDatasets(); j++) {
            poolSize += mixture.trainSampler(j).size();
        }
        float[] chunks = new float[poolSize * d];
        boolean[] real = new boolean[poolSize];
        int row = 0;
        int realCount = 0;
        for (int j = 0; j < mixture.numDatasets(); j++) {
            int size = mixture.trainSampler(j).size();
            if (size == 0) {
                continue;
            }
            Batch all = mixture.trainWindows(j, 0, size);
            System.arraycopy(all.actions(), 0, chunks, row * d, size * d);
            for (int i = 0; i < size; i++) {
                real[row + i] = j == 0;
            }
            realCount += j == 0 ? size : 0;
            row += size;
        }
        int k = Math.min(o.k(), poolSize);
        double[] fractions = NearestNeighbours.realFractions(chunks, real, q, d, k);
        double mean = 0;
        for (double v : fractions) {
            mean += v / fractions.length;
        }
        return new Attribution(o.env().name(), r.trials(), r.successRate(), queries, k, mean,
                realCount / (double) poolSize, realCount, poolSize - realCount);
    }
}
