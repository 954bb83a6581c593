package org.cotrain.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.cotrain.backend.Backend;
import org.cotrain.backend.Backends;
import org.cotrain.backend.CpuBackend;
import org.cotrain.config.Config;
import org.cotrain.config.TrainConfig;
import org.cotrain.data.LinearNormalizer;
import org.cotrain.ops.Ops;
import org.cotrain.policy.LowdimPolicy;
import org.cotrain.policy.Sampling;
import org.cotrain.policy.LowdimPolicyConfig;
import org.cotrain.tensor.Tensor;
import org.cotrain.train.AdamW;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cotrain bench train|sample|sim}: end-to-end timings of the low-dim policy (and of the sandbox, see
 * {@link SimBench}), one JSON line each, in the format of
 * tools/pytorch/bench_dp_lowdim.py so that the two compare line by line. train: one optimizer step (zero grads,
 * DP's compute_loss, backward, AdamW) on a random normalised batch; sample: a whole DDPM (or DDIM) sampling loop at
 * batch 1. Medians over the timed repetitions, after warm-up.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Time a training step or a sampling loop of the low-dim policy (one JSON line), or the sandbox.")
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

    @Option(names = "--batch", description = "Batch size (default: 256 for train, 1 for sample).")
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
        LowdimPolicyConfig pc = LowdimPolicyConfig.from(tc);
        Backend backend = Backends.forDevice(device, threads);
        int b = batch != null ? batch : what.equals("train") ? 256 : 1;
        LinearNormalizer normalizer = new LinearNormalizer();
        normalizer.fit("obs", symmetric(pc.obsDim()), pc.obsDim());
        normalizer.fit("action", symmetric(pc.actionDim()), pc.actionDim());
        try (LowdimPolicy policy = new LowdimPolicy(backend, pc, normalizer, tc.training().seed())) {
            double[] ms = what.equals("train") ? benchTrain(policy, tc, b) : benchSample(policy, b);
            double median = median(ms);
            String common = String.format(Locale.ROOT, "\"impl\": \"cotrain\", \"backend\": \"%s\", \"threads\": %d,"
                    + " \"batch\": %d, \"params\": %d, \"repeat\": %d, \"blas\": \"%s\"", backend.name(),
                    backend instanceof CpuBackend c ? c.threads() : 0, b, policy.model().parameterCount(), repeat,
                    backend instanceof CpuBackend c ? "OpenBLAS " + c.blasCore() : "cuBLAS");
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

    private double[] benchTrain(LowdimPolicy policy, TrainConfig tc, int b) {
        LowdimPolicyConfig pc = policy.config();
        try (Tensor actions = policy.backend().empty(b, pc.horizon(), pc.actionDim());
                Tensor obs = policy.backend().empty(b, pc.nObsSteps(), pc.obsDim());
                AdamW optimizer = new AdamW(policy.model().parameters(), (float) tc.optimizer().beta1(),
                        (float) tc.optimizer().beta2(), 1e-8f, (float) tc.optimizer().weightDecay())) {
            Ops.randUniform(actions, 1, 0);
            Ops.randUniform(obs, 2, 0);
            double[] ms = new double[repeat];
            for (int i = -warmup; i < repeat; i++) {
                long t0 = System.nanoTime();
                policy.model().zeroGrad();
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
