package org.cotrain.ambient;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.cotrain.config.AmbientConfig;
import org.cotrain.config.NoiseClassifierConfig;
import org.cotrain.config.TrainConfig;
import org.cotrain.data.DemoDataset;
import org.cotrain.data.LinearNormalizer;
import org.cotrain.data.MixtureDataset;
import org.cotrain.io.AtomicFiles;
import org.cotrain.io.Json;
import org.cotrain.tensor.Backend;

/**
 * The per-window noise levels t_n of the datasets whose cotrain.ambient.t_n is "classifier", cached next to each
 * dataset: {@code <file>.noise_levels.<key>.json}, where the key is a SHA-256 over everything the annotation depends
 * on: the content of the corrupt dataset's training demos and of the clean datasets (with their weights), the
 * window sizes, the normaliser, the noise schedule, the classifier settings and the backend. A later run (a resumed
 * one, another seed of a sweep, {@code cotrain train} after {@code cotrain annotate}) with the same key reads the
 * file instead of training the classifier again; anything else gets a new file. The file also records the settings
 * in words, the mean P(corrupt) per step and a histogram of t_n, for people.
 */
public final class NoiseLevelAnnotations {
    static final String FORMAT = "cotrain noise levels v1";

    /** One corrupt dataset's annotation. */
    public record Annotation(int dataset, Path file, Path sidecar, int[] tn, boolean cached, double[] meanCorruptByStep) {

        /** "t_n quantiles 10%: 31, 50%: 47, 90%: 80; never usable: 2.0%" for the log. */
        public String summary(int numTimesteps) {
            int[] sorted = tn.clone();
            java.util.Arrays.sort(sorted);
            long never = java.util.Arrays.stream(tn).filter(v -> v >= numTimesteps).count();
            return String.format(Locale.ROOT, "%d windows, t_n 10%%: %d, 50%%: %d, 90%%: %d; never usable (t_n = %d):"
                    + " %.1f%%", tn.length, quantile(sorted, 0.1), quantile(sorted, 0.5), quantile(sorted, 0.9),
                    numTimesteps, 100.0 * never / Math.max(1, tn.length));
        }

        private static int quantile(int[] sorted, double q) {
            return sorted.length == 0 ? -1 : sorted[(int) Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
        }
    }

    private NoiseLevelAnnotations() {}

    /**
     * The annotation of every classifier dataset of the config (dataset index -> annotation; empty when none),
     * read from the sidecar files or computed and written there.
     *
     * @param mixture the training mixture built from the config (datasets, normaliser, windows)
     */
    public static Map<Integer, Annotation> forTraining(TrainConfig config, MixtureDataset mixture, Backend backend,
                                                       PrintStream log) {
        AmbientConfig ambient = config.cotrain().ambient();
        Map<Integer, Annotation> out = new LinkedHashMap<>();
        if (!ambient.usesClassifier()) {
            return out;
        }
        float[] abar = config.policy().noiseScheduler().schedule().alphasCumprod();
        double[] cleanWeights = cleanWeights(ambient, mixture.weights());
        for (int j = 0; j < ambient.datasets().size(); j++) {
            if (ambient.datasets().get(j).kind() == AmbientConfig.DatasetNoise.Kind.CLASSIFIER) {
                out.put(j, annotation(mixture, cleanWeights, j, ambient.classifier(), abar, backend, log));
            }
        }
        return out;
    }

    /**
     * The base weights of the clean datasets, normalised among them (0 for the corrupt ones): the classifier's clean
     * data. So points of a sweep that differ only in alpha share one annotation.
     */
    static double[] cleanWeights(AmbientConfig ambient, double[] weights) {
        double[] clean = new double[weights.length];
        double sum = 0;
        for (int j = 0; j < weights.length; j++) {
            if (ambient.datasets().get(j).clean()) {
                clean[j] = weights[j];
                sum += weights[j];
            }
        }
        if (!(sum > 0)) {
            throw new IllegalArgumentException("cotrain.ambient.t_n = classifier: the clean datasets (t_n null) have"
                    + " no weight in task.dataset.weights, so there is no clean data to train the classifier on");
        }
        for (int j = 0; j < clean.length; j++) {
            clean[j] /= sum; // normalised among the clean data: alpha itself does not change the classifier
        }
        return clean;
    }

    /** One dataset's annotation: its sidecar when it has the key, else a fresh one (written to the sidecar). */
    public static Annotation annotation(MixtureDataset mixture, double[] cleanWeights, int corrupt,
                                        NoiseClassifierConfig settings, float[] abar, Backend backend,
                                        PrintStream log) {
        Path file = mixture.dataset(corrupt).file();
        String description = describe(mixture, cleanWeights, corrupt, settings, abar, backend);
        String key = sha256Hex(description.getBytes(StandardCharsets.UTF_8));
        Path sidecar = sidecar(file, key);
        int windows = mixture.trainSampler(corrupt).size();
        if (Files.isRegularFile(sidecar)) {
            int[] tn = read(sidecar, key, windows, abar.length);
            log.printf(Locale.ROOT, "cotrain ambient: noise levels of %s from %s%n", file.getFileName(), sidecar);
            return new Annotation(corrupt, file, sidecar, tn, true, null);
        }
        log.printf(Locale.ROOT, "cotrain ambient: training the noise-level classifier of %s (%d steps of batch %d),"
                + " then annotating its %d training windows at %d steps x %d noise draws%n", file.getFileName(),
                settings.trainSteps(), settings.batchSize(), windows, abar.length, settings.noiseDraws());
        NoiseLevelAnnotator.Result r = NoiseLevelAnnotator.annotate(mixture, cleanWeights, corrupt, settings, abar,
                backend, log);
        log.printf(Locale.ROOT, "  classifier: final BCE %.4f, training accuracy %.3f%n", r.finalLoss(),
                r.finalAccuracy());
        Annotation a = new Annotation(corrupt, file, sidecar, r.tn(), false, r.meanCorruptByStep());
        try {
            AtomicFiles.writeString(sidecar, toJson(a, key, description, r, abar.length));
        } catch (IOException e) {
            // a read-only data directory must not stop training: the annotation is used, just not cached
            log.printf(Locale.ROOT, "cotrain ambient: could not cache the noise levels in %s (%s); they will be"
                    + " computed again next time%n", sidecar, e);
            return a;
        }
        return a;
    }

    /** The sidecar file of a dataset for a key. */
    public static Path sidecar(Path dataset, String key) {
        return dataset.resolveSibling(dataset.getFileName() + ".noise_levels." + key.substring(0, 16) + ".json");
    }

    /** A digest of annotations (dataset -> t_n), stored in checkpoints so that a resumed run can check it has them. */
    public static String digest(Map<Integer, Annotation> annotations) {
        ByteBuffer buf = ByteBuffer.allocate(4 + annotations.values().stream().mapToInt(a -> 8 + 4 * a.tn().length)
                .sum());
        buf.putInt(annotations.size());
        for (Annotation a : annotations.values()) {
            buf.putInt(a.dataset()).putInt(a.tn().length);
            for (int v : a.tn()) {
                buf.putInt(v);
            }
        }
        return sha256Hex(buf.array());
    }

    /** Everything the annotation depends on, one fact per line (hashed into the key). */
    static String describe(MixtureDataset mixture, double[] cleanWeights, int corrupt, NoiseClassifierConfig s,
                           float[] abar, Backend backend) {
        StringBuilder sb = new StringBuilder(FORMAT).append('\n');
        sb.append("corrupt ").append(corrupt).append(' ').append(contentHash(mixture.dataset(corrupt))).append('\n');
        for (int j = 0; j < cleanWeights.length; j++) {
            if (cleanWeights[j] > 0) {
                sb.append("clean ").append(j).append(' ').append(Double.toHexString(cleanWeights[j])).append(' ')
                        .append(contentHash(mixture.dataset(j))).append('\n');
            }
        }
        sb.append("windows horizon ").append(mixture.horizon()).append(" n_obs_steps ").append(mixture.nObsSteps())
                .append(" n_action_steps ").append(mixture.nActionSteps()).append('\n');
        LinearNormalizer n = mixture.normalizer();
        for (String field : List.of("action", "obs")) {
            sb.append("normalizer ").append(field).append(' ').append(floatsHash(n.field(field).scale())).append(' ')
                    .append(floatsHash(n.field(field).offset())).append('\n');
        }
        sb.append("alphas_cumprod ").append(floatsHash(abar)).append('\n');
        sb.append(String.format(Locale.ROOT, "classifier hidden %d train_steps %d batch_size %d learning_rate %s"
                        + " use_obs %b noise_draws %d epsilon %s seed %d%n", s.hidden(), s.trainSteps(), s.batchSize(),
                Double.toHexString(s.learningRate()), s.useObs(), s.noiseDraws(), Double.toHexString(s.epsilon()),
                s.seed()));
        sb.append("backend ").append(backend.name()).append('\n');
        return sb.toString();
    }

    /** SHA-256 of what training reads from a dataset: its steps, obs, actions and training demos. */
    static String contentHash(DemoDataset d) {
        MessageDigest md = sha256();
        ByteBuffer buf = ByteBuffer.allocate(4 * 1024);
        update(md, buf, d.episodeEnds());
        boolean[] train = d.trainMask();
        int[] mask = new int[train.length];
        for (int i = 0; i < train.length; i++) {
            mask[i] = train[i] ? 1 : 0;
        }
        update(md, buf, mask);
        update(md, buf, d.obs());
        update(md, buf, d.actions());
        return HexFormat.of().formatHex(md.digest());
    }

    private static String floatsHash(float[] values) {
        MessageDigest md = sha256();
        update(md, ByteBuffer.allocate(4 * 1024), values);
        return HexFormat.of().formatHex(md.digest());
    }

    private static void update(MessageDigest md, ByteBuffer buf, int[] values) {
        buf.clear();
        for (int v : values) {
            if (!buf.hasRemaining()) {
                md.update(buf.array(), 0, buf.position());
                buf.clear();
            }
            buf.putInt(v);
        }
        md.update(buf.array(), 0, buf.position());
    }

    private static void update(MessageDigest md, ByteBuffer buf, float[] values) {
        buf.clear();
        for (float v : values) {
            if (!buf.hasRemaining()) {
                md.update(buf.array(), 0, buf.position());
                buf.clear();
            }
            buf.putFloat(v);
        }
        md.update(buf.array(), 0, buf.position());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    static String sha256Hex(byte[] bytes) {
        return HexFormat.of().formatHex(sha256().digest(bytes));
    }

    private static String toJson(Annotation a, String key, String description, NoiseLevelAnnotator.Result r,
                                 int numTimesteps) {
        StringBuilder sb = new StringBuilder("{\n");
        sb.append("  \"format\": ").append(Json.quote(FORMAT)).append(",\n");
        sb.append("  \"key\": ").append(Json.quote(key)).append(",\n");
        sb.append("  \"dataset\": ").append(Json.quote(a.file().toString())).append(",\n");
        sb.append("  \"settings\": ").append(Json.quote(description)).append(",\n");
        sb.append("  \"summary\": ").append(Json.quote(a.summary(numTimesteps))).append(",\n");
        sb.append(String.format(Locale.ROOT, "  \"classifier_final_bce\": %.6f,%n", r.finalLoss()));
        sb.append(String.format(Locale.ROOT, "  \"classifier_train_accuracy\": %.6f,%n", r.finalAccuracy()));
        sb.append("  \"mean_p_corrupt_by_step\": [");
        for (int t = 0; t < r.meanCorruptByStep().length; t++) {
            sb.append(t == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.4f", r.meanCorruptByStep()[t]));
        }
        sb.append("],\n  \"windows\": ").append(a.tn().length).append(",\n  \"t_n\": [");
        for (int i = 0; i < a.tn().length; i++) {
            sb.append(i == 0 ? "" : i % 32 == 0 ? ",\n    " : ", ").append(a.tn()[i]);
        }
        return sb.append("]\n}\n").toString();
    }

    /** The t_n of a sidecar, checked against the key and the window count. */
    static int[] read(Path sidecar, String key, int windows, int numTimesteps) {
        Object parsed;
        try {
            parsed = Json.parse(Files.readString(sidecar, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the noise levels " + sidecar + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(sidecar + ": not a noise-level file (" + e.getMessage() + "); delete it"
                    + " to annotate again", e);
        }
        if (!(parsed instanceof Map<?, ?> m) || !FORMAT.equals(m.get("format")) || !key.equals(m.get("key"))
                || !(m.get("t_n") instanceof List<?> list) || list.size() != windows) {
            throw new IllegalArgumentException(sidecar + ": not the noise levels of this dataset and these settings"
                    + " (format, key or window count differ; expected " + windows + " windows); delete it to annotate"
                    + " again");
        }
        int[] tn = new int[windows];
        for (int i = 0; i < windows; i++) {
            if (!(list.get(i) instanceof Long v) || v < 0 || v > numTimesteps) {
                throw new IllegalArgumentException(sidecar + ": t_n[" + i + "] = " + list.get(i) + " is not a step"
                        + " in [0, " + numTimesteps + "]; delete the file to annotate again");
            }
            tn[i] = (int) (long) v;
        }
        return tn;
    }
}
