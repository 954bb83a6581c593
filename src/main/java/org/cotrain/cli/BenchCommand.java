package org.cotrain.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.cotrain.backend.Backends;
import org.cotrain.backend.CpuBackend;
import org.cotrain.config.Config;
import org.cotrain.config.TrainConfig;
import org.cotrain.data.Batch;
import org.cotrain.data.LinearNormalizer;
import org.cotrain.nn.OpProfile;
import org.cotrain.ops.Ops;
import org.cotrain.optim.AdamW;
import org.cotrain.policy.BatchTensors;
import org.cotrain.policy.ImagePolicy;
import org.cotrain.policy.ImagePolicyConfig;
import org.cotrain.policy.LowdimPolicy;
import org.cotrain.policy.LowdimPolicyConfig;
import org.cotrain.policy.Sampling;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cotrain bench train|sample|sim}: end-to-end timings of the policy of a config, low-dim or image (and of the
 * sandbox, see {@link SimBench}), one JSON line each, in the format of tools/pytorch/bench_dp_lowdim.py and
 * bench_dp_image.py so that the two compare line by line. train: one optimizer step (zero grads, DP's compute_loss,
 * backward, AdamW; for an image policy the random crops and both encoders' passes too) on a random normalised batch
 * (uint8 frames for the cameras); sample: a whole DDPM (or DDIM) sampling loop at batch 1. Medians over the timed
 * repetitions, after warm-up. {@code --profile} adds the share of the step per op family ({@link OpProfile}) from as
 * many extra profiled steps.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Time a training step or a sampling loop of a config's policy (one JSON line), or the sandbox.")
final class BenchCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "train|sample|sim", description = "What to time.")
    String what;

    @Option(names = "--sim-seconds", defaultValue = "3", description = "sim: seconds per environment-step measurement.")
    double simSeconds;

    @Option(names = "--sim-demos", defaultValue = "20", description = "sim: demos to generate for demos/s.")
    int simDemos;

    @Option(names = "--config", paramLabel = "FILE|PRESET", defaultValue = "pusht_lowdim_transformer",
            description = "Model config (default: the full-size DP push-T low-dim transformer).")
    String config;

    @Option(names = "--batch", description = "Batch size (default: the config's dataloader.batch_size for an image"
            + " config's train, else 256 for train, 1 for sample).")
    Integer batch;

    @Option(names = "--steps", defaultValue = "100", description = "Denoising steps of a sampling loop.")
    int steps;

    @Option(names = "--ddim", description = "Sample with DDIM instead of DDPM.")
    boolean ddim;

    @Option(names = "--repeat", defaultValue = "10", description = "Timed repetitions.")
    int repeat;

    @Option(names = "--warmup", defaultValue = "3", description = "Untimed repetitions first.")
    int warmup;

    @Option(names = "--threads", defaultValue = "2", description = "CPU threads (0 = all cores).")
    int threads;

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu or cuda.")
    String device;

    @Option(names = "--profile", description = "train of an image config: also the time share of each op family"
            + " (conv, norm, attention, ...) over as many extra steps, in the JSON line.")
    boolean profile;

    @Parameters(index = "1..*", paramLabel = "key=value", description = "Config overrides.")
    List<String> overrides = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        if (what.equals("sim")) {
            SimBench.run(simSeconds, simDemos, threads == 0 ? Runtime.getRuntime().availableProcessors() : threads);
            return 0;
        }
        if (!what.equals("train") && !what.equals("sample")) {
            throw new IllegalArgumentException("bench: '" + what + "' is not a benchmark; use train, sample or sim");
        }
        TrainConfig tc = Config.load(config, overrides).toTrainConfig();
        Backend backend = Backends.forDevice(device, threads);
        if (tc.isImage()) {
            return benchImage(tc, backend);
        }
        LowdimPolicyConfig pc = LowdimPolicyConfig.from(tc);
        int b = batch != null ? batch : what.equals("train") ? 256 : 1;
        LinearNormalizer normalizer = new LinearNormalizer();
        normalizer.fit("obs", symmetric(pc.obsDim()), pc.obsDim());
        normalizer.fit("action", symmetric(pc.actionDim()), pc.actionDim());
        try (LowdimPolicy policy = new LowdimPolicy(backend, pc, normalizer, tc.training().seed())) {
            double[] ms = what.equals("train") ? benchTrain(policy, tc, b) : benchSample(policy, b);
            double median = median(ms);
            String common = common(backend, b, policy.denoiser().parameterCount());
            if (what.equals("train")) {
                System.out.printf(Locale.ROOT, "{\"bench\": \"train\", %s, \"ms_per_step\": %.3f,"
                        + " \"samples_per_s\": %.1f, \"min_ms\": %.3f}%n", common, median, b * 1000.0 / median,
                        Arrays.stream(ms).min().orElse(0));
            } else {
                System.out.printf(Locale.ROOT, "{\"bench\": \"sample\", %s, \"sampler\": \"%s\", \"steps\": %d,"
                        + " \"ms_per_sampling\": %.3f, \"ms_per_denoising_step\": %.4f, \"min_ms\": %.3f}%n", common,
                        ddim ? "ddim" : "ddpm", steps, median, median / steps, Arrays.stream(ms).min().orElse(0));
            }
        }
        return 0;
    }

    private String common(Backend backend, int b, long params) {
        return String.format(Locale.ROOT, "\"impl\": \"cotrain\", \"backend\": \"%s\", \"threads\": %d,"
                + " \"batch\": %d, \"params\": %d, \"repeat\": %d, \"blas\": \"%s\"", backend.name(),
                backend instanceof CpuBackend c ? c.threads() : 0, b, params, repeat,
                backend instanceof CpuBackend c ? "OpenBLAS " + c.blasCore() : "cuBLAS");
    }

    /** The image policy's training step or sampling loop, on random frames and low-dim values. */
    private Integer benchImage(TrainConfig tc, Backend backend) {
        ImagePolicyConfig pc = ImagePolicyConfig.from(tc);
        int b = batch != null ? batch : what.equals("train") ? tc.dataloader().batchSize() : 1;
        LinearNormalizer data = new LinearNormalizer();
        data.put("obs", symmetricField(pc.lowdimDim()));
        data.put("action", symmetricField(pc.actionDim()));
        String cameras = String.join(", ", pc.cameras().stream().map(c -> String.format(Locale.ROOT,
                "\"%s %dx%d crop %dx%d\"", c.key(), c.height(), c.width(), pc.crop(c)[0], pc.crop(c)[1])).toList());
        try (ImagePolicy policy = new ImagePolicy(backend, pc, ImagePolicy.normalizerFor(pc, data),
                tc.training().seed())) {
            String common = common(backend, b, policy.parameterCount()) + String.format(Locale.ROOT,
                    ", \"n_obs_steps\": %d, \"cameras\": [%s]", pc.nObsSteps(), cameras);
            if (what.equals("train")) {
                Batch batchData = randomImageBatch(pc, b);
                try (BatchTensors t = BatchTensors.of(backend, batchData);
                     AdamW optimizer = new AdamW(policy.parameters(), policy.weightDecays(tc.optimizer()),
                             (float) tc.optimizer().beta1(), (float) tc.optimizer().beta2(), 1e-8f)) {
                    double[] ms = new double[repeat];
                    for (int i = -warmup; i < repeat; i++) {
                        long t0 = System.nanoTime();
                        imageStep(policy, optimizer, t, tc, i + warmup);
                        if (i >= 0) {
                            ms[i] = (System.nanoTime() - t0) * 1e-6;
                        }
                    }
                    String shares = "";
                    if (profile) {
                        OpProfile.start();
                        long t0 = System.nanoTime();
                        for (int i = 0; i < repeat; i++) {
                            imageStep(policy, optimizer, t, tc, warmup + repeat + i);
                        }
                        double total = (System.nanoTime() - t0) * 1e-9;
                        OpProfile.stop();
                        shares = ", \"profile\": " + profileJson(OpProfile.seconds(), total);
                    }
                    double median = median(ms);
                    System.out.printf(Locale.ROOT, "{\"bench\": \"train\", %s, \"ms_per_step\": %.3f,"
                            + " \"samples_per_s\": %.1f, \"min_ms\": %.3f%s}%n", common, median, b * 1000.0 / median,
                            Arrays.stream(ms).min().orElse(0), shares);
                }
            } else {
                policy.setSampling(ddim ? Sampling.ddim(steps) : Sampling.ddpm(steps));
                policy.setSeed(0);
                Batch batchData = randomImageBatch(pc, b);
                List<byte[]> frames = batchData.images().stream().map(Batch.Frames::data).toList();
                float[] lowdim = new float[b * pc.nObsSteps() * pc.lowdimDim()];
                double[] ms = new double[repeat];
                for (int i = -warmup; i < repeat; i++) {
                    long t0 = System.nanoTime();
                    policy.predictActionChunk(frames, lowdim, b);
                    if (i >= 0) {
                        ms[i] = (System.nanoTime() - t0) * 1e-6;
                    }
                }
                double median = median(ms);
                System.out.printf(Locale.ROOT, "{\"bench\": \"sample\", %s, \"sampler\": \"%s\", \"steps\": %d,"
                        + " \"ms_per_sampling\": %.3f, \"ms_per_denoising_step\": %.4f, \"min_ms\": %.3f}%n",
                        common, ddim ? "ddim" : "ddpm", steps, median, median / steps,
                        Arrays.stream(ms).min().orElse(0));
            }
        }
        return 0;
    }

    /** One optimizer step of the image policy: zero grads, loss (crops, encoders, denoiser), backward, AdamW. */
    private static void imageStep(ImagePolicy policy, AdamW optimizer, BatchTensors t, TrainConfig tc, long step) {
        policy.zeroGrad();
        policy.loss(t, tc.training().seed(), step, true, false);
        policy.backward(1f);
        optimizer.step((float) tc.optimizer().learningRate());
        policy.backend().synchronize();
    }

    /** {"conv": 0.61, ..., "other": 0.05, "profiled_ms_per_step": ...}: each family's share of the profiled steps. */
    private String profileJson(Map<OpProfile.Family, Double> seconds, double total) {
        StringBuilder s = new StringBuilder("{");
        double claimed = 0;
        for (Map.Entry<OpProfile.Family, Double> e : seconds.entrySet()) {
            s.append(String.format(Locale.ROOT, "\"%s\": %.4f, ", e.getKey().label(), e.getValue() / total));
            claimed += e.getValue();
        }
        s.append(String.format(Locale.ROOT, "\"other\": %.4f, \"profiled_ms_per_step\": %.3f}",
                Math.max(0, total - claimed) / total, total * 1000 / repeat));
        return s.toString();
    }

    /** Random uint8 frames per camera, low-dim values and actions in [-1, 1]. */
    private static Batch randomImageBatch(ImagePolicyConfig pc, int b) {
        java.util.Random r = new java.util.Random(1);
        int to = pc.nObsSteps();
        float[] actions = new float[b * pc.horizon() * pc.actionDim()];
        float[] obs = new float[b * to * pc.obsWidth()];
        for (int i = 0; i < actions.length; i++) actions[i] = 2 * r.nextFloat() - 1;
        for (int i = 0; i < obs.length; i++) obs[i] = 2 * r.nextFloat() - 1;
        List<Batch.Frames> frames = new ArrayList<>();
        for (var c : pc.cameras()) {
            byte[] bytes = new byte[b * to * c.height() * c.width() * 3];
            r.nextBytes(bytes);
            frames.add(new Batch.Frames(c.key(), c.height(), c.width(), bytes));
        }
        return new Batch(0, b, pc.horizon(), to, pc.actionDim(), pc.obsWidth(), actions, obs, new int[b], new int[b],
                null, null, frames);
    }

    /** The normaliser field mapping [-1, 1] to itself, of width d (0 allowed). */
    private static LinearNormalizer.Field symmetricField(int d) {
        float[] ones = new float[d];
        float[] zeros = new float[d];
        float[] lo = new float[d];
        Arrays.fill(ones, 1f);
        Arrays.fill(lo, -1f);
        return new LinearNormalizer.Field(ones, zeros, lo, ones.clone(), zeros.clone(), ones.clone());
    }

    private double[] benchTrain(LowdimPolicy policy, TrainConfig tc, int b) {
        LowdimPolicyConfig pc = policy.config();
        try (Tensor actions = policy.backend().empty(b, pc.horizon(), pc.actionDim());
                Tensor obs = policy.backend().empty(b, pc.nObsSteps(), pc.obsDim());
                AdamW optimizer = new AdamW(policy.denoiser().parameters(), (float) tc.optimizer().beta1(),
                        (float) tc.optimizer().beta2(), 1e-8f, (float) tc.optimizer().weightDecay())) {
            Ops.randUniform(actions, 1, 0);
            Ops.randUniform(obs, 2, 0);
            double[] ms = new double[repeat];
            for (int i = -warmup; i < repeat; i++) {
                long t0 = System.nanoTime();
                policy.denoiser().zeroGrad();
                policy.loss(actions, obs, tc.training().seed(), i + warmup, true);
                policy.backward(1f);
                optimizer.step((float) tc.optimizer().learningRate());
                policy.backend().synchronize();
                if (i >= 0) {
                    ms[i] = (System.nanoTime() - t0) * 1e-6;
                }
            }
            return ms;
        }
    }

    private double[] benchSample(LowdimPolicy policy, int b) {
        LowdimPolicyConfig pc = policy.config();
        policy.setSampling(ddim ? Sampling.ddim(steps) : Sampling.ddpm(steps));
        policy.setSeed(0);
        float[] obs = new float[b * pc.nObsSteps() * pc.obsDim()];
        double[] ms = new double[repeat];
        for (int i = -warmup; i < repeat; i++) {
            long t0 = System.nanoTime();
            policy.predictActionChunk(obs, b);
            if (i >= 0) {
                ms[i] = (System.nanoTime() - t0) * 1e-6;
            }
        }
        return ms;
    }

    /** Two rows, -1 and 1 in every dimension: a normaliser that maps [-1, 1] to itself. */
    private static float[] symmetric(int d) {
        float[] v = new float[2 * d];
        Arrays.fill(v, 0, d, -1f);
        Arrays.fill(v, d, 2 * d, 1f);
        return v;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
    }
}
