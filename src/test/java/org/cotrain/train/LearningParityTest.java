package org.cotrain.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;
import org.cotrain.backend.Backends;
import org.cotrain.config.Config;
import org.cotrain.config.TrainConfig;
import org.cotrain.data.Batch;
import org.cotrain.data.Datasets;
import org.cotrain.data.DemoDataset;
import org.cotrain.data.MixtureDataset;
import org.cotrain.io.Checkpoint;
import org.cotrain.io.Safetensors;
import org.cotrain.policy.BatchTensors;
import org.cotrain.policy.LowdimPolicy;
import org.cotrain.sim.DemoGenerator;
import org.cotrain.sim.EnvConfig;
import org.cotrain.sim.EnvPresets;
import org.cotrain.sim.expert.Experts;
import org.cotrain.tensor.Backend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * Learning parity with PyTorch (issue 17): cotrain's trainer and a PyTorch implementation of Diffusion Policy's
 * (tools/pytorch/train_dp_lowdim.py) train small_cpu's model with small_cpu's recipe for 400 steps on the same 20
 * expert demos of the easier push-T variant, and their held-out denoising losses must agree within the runs' noise.
 * The PyTorch side is a committed fixture (learning_parity.json: 8 seeds, the command that made it); the demos are
 * generated here, and the test first checks that they are the fixture's, byte for byte (a SHA-256 of every demo's
 * float32 observations and actions), that cotrain's validation split holds out the same demos and that both sides
 * cut the same number of training and held-out windows.
 *
 * <p>The statistic, the same on both sides: the training weights' (not the EMA's) mean epsilon-MSE over every
 * held-out window, averaged over 8 draws of (t, noise) per window, in eval mode. Its spread over PyTorch's n = 8
 * seeds, s, holds everything a run varies in: initialisation, batch order, dropout, the timesteps and noise of
 * training and of the evaluation. If the two trainers agree, cotrain's one run is one more draw from the same
 * distribution, so (cotrain - PyTorch mean) / (s sqrt(1 + 1/n)) is Student-t with n - 1 = 7 degrees of freedom. The
 * test allows 8 of those units: a false failure about once in 10,000 runs (P(|t_7| > 8) = 9e-5; the t, not the
 * normal, because s itself comes from 8 runs). float32 rounding differences between the two implementations, some
 * 1e-6 of the loss, are far below it. It would catch a trainer that learns differently: the fixture's loss falls
 * from step 0 by more than 20 times the allowance (asserted, so that the check keeps its power if it is remade).
 */
class LearningParityTest {
    private static final String FIXTURE = "learning_parity.json";
    /** The fixture's data: `./cotrain generate --env target --demos 20 --seed 7 --no-images` + the easier variant. */
    static final List<String> EASY = List.of("reset.angle_range_deg=30", "reset.block_min=176", "reset.block_max=336");
    static final int DEMOS = 20;
    static final long DATA_SEED = 7;
    static final int STEPS = 400;

    @Test
    void heldOutLossMatchesPyTorchWithinNoise(@TempDir Path tmp) throws Exception {
        Map<String, Object> fx = fixture();
        Path data = tmp.resolve("parity.hdf5");
        EnvConfig env = EnvPresets.get("target").withOverrides(EASY);
        ForkJoinPool pool = new ForkJoinPool(2);
        try {
            DemoGenerator.generate(env, "target", i -> Experts.create("target", env), DEMOS, data,
                    new DemoGenerator.Options(DATA_SEED, false, false, i -> {}, w -> {}), pool);
        } finally {
            pool.shutdown();
        }
        Config config = Config.fromPreset("small_cpu").withOverrides(List.of("task.dataset.path=" + data,
                "task.dataset.max_train_episodes=null", "task.dataset.val_ratio=0.2", "cotrain.total_train_steps="
                + STEPS, "training.val_every=1", "training.max_val_steps=100", "training.checkpoint_every=1000"));

        DemoDataset demos = Datasets.load(config.toTrainConfig().task().dataset(),
                config.toTrainConfig().cotrain()).get(0);
        assertEquals(fx.get("data_sha256"), digest(demos), "the generated demos differ from the fixture's: the"
                + " expert, the sandbox or the generator changed; remake " + FIXTURE + " with the command in it");
        List<String> valid = new ArrayList<>();
        for (int d = 0; d < demos.numDemos(); d++) {
            if (demos.validMask()[d]) valid.add(demos.demoNames().get(d));
        }
        assertEquals(fx.get("valid"), valid, "cotrain's validation split");

        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Path run = tmp.resolve("run");
        Trainer.Result r = new Trainer(config, run, Backends.cpu(), new PrintStream(log, true, StandardCharsets.UTF_8))
                .showProgress(false).run();
        assertEquals(STEPS, r.steps());
        String printed = log.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains(fx.get("train_windows") + " training windows, " + fx.get("held_out_windows")
                + " validation windows"), "the sampler's windows differ from DP's: " + printed);

        double cotrain = heldOutLoss(config, run);
        List<Double> mean = numbers(fx, "mean");
        List<Double> sd = numbers(fx, "sd_over_seeds");
        int last = mean.size() - 1;
        int n = ((List<?>) fx.get("seeds")).size();
        assertEquals(STEPS, ((Number) ((List<?>) fx.get("steps")).get(last)).intValue());
        assertEquals(DRAWS, ((Number) fx.get("val_draws")).intValue());
        double allowance = 8 * sd.get(last) * Math.sqrt(1 + 1.0 / n);
        assertTrue(mean.get(0) - mean.get(last) > 20 * allowance, String.format(Locale.ROOT, "the fixture's loss"
                + " falls %.4f -> %.4f, not clearly more than the allowance %.4f: this test would not tell learning"
                + " from not learning", mean.get(0), mean.get(last), allowance));
        double diff = cotrain - mean.get(last);
        System.out.printf(Locale.ROOT, "LearningParityTest: held-out loss after %d steps: cotrain %.5f, PyTorch %.5f"
                + " (sd %.5f over %d seeds); allowed difference %.5f%n", STEPS, cotrain, mean.get(last), sd.get(last), n,
                allowance);
        assertTrue(Math.abs(diff) <= allowance, String.format(Locale.ROOT, "held-out loss after %d steps: cotrain"
                + " %.5f, PyTorch %.5f +- %.5f (sd over %d seeds): differs by %.5f, allowed %.5f", STEPS, cotrain,
                mean.get(last), sd.get(last), n, diff, allowance));
    }

    static final int DRAWS = 8;

    /** The training weights' mean loss over every held-out window and DRAWS draws of (t, noise), eval mode. */
    private static double heldOutLoss(Config config, Path run) throws IOException {
        TrainConfig tc = config.toTrainConfig();
        Backend cpu = Backends.cpu();
        try (LowdimPolicy policy = LowdimPolicy.load(Checkpoint.in(run), cpu)) {
            policy.load(Safetensors.read(Checkpoint.in(run)), false); // the trained weights, not the EMA
            MixtureDataset mixture = Datasets.trainingMixture(tc, Datasets.load(tc.task().dataset(), tc.cotrain()),
                    policy.dataNormalizer());
            double sum = 0;
            long count = 0;
            for (int draw = 0; draw < DRAWS; draw++) {
                int k = 0;
                for (int first = 0; first < mixture.validationSize(); first += 64, k++) {
                    Batch batch = mixture.validationBatch(first, 64);
                    try (BatchTensors t = BatchTensors.of(cpu, batch)) {
                        sum += (double) policy.loss(t, 1000 + draw, k, false, false) * batch.size();
                        count += batch.size();
                    }
                }
            }
            return sum / count;
        }
    }

    /** SHA-256 over each demo's name, float32 LE observations and actions, as train_dp_lowdim.py computes it. */
    static String digest(DemoDataset d) throws Exception {
        MessageDigest h = MessageDigest.getInstance("SHA-256");
        int[] ends = d.episodeEnds();
        for (int e = 0, start = 0; e < ends.length; start = ends[e], e++) {
            h.update(d.demoNames().get(e).getBytes(StandardCharsets.UTF_8));
            h.update(bytes(d.obs(), start * d.obsDim(), ends[e] * d.obsDim()));
            h.update(bytes(d.actions(), start * d.actionDim(), ends[e] * d.actionDim()));
        }
        return HexFormat.of().formatHex(h.digest());
    }

    private static byte[] bytes(float[] a, int from, int to) {
        ByteBuffer b = ByteBuffer.allocate((to - from) * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = from; i < to; i++) b.putFloat(a[i]);
        return b.array();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> fixture() throws IOException {
        try (InputStream in = LearningParityTest.class.getResourceAsStream(FIXTURE)) {
            if (in == null) throw new IOException(FIXTURE + " is missing; make it with tools/pytorch/train_dp_lowdim.py");
            return (Map<String, Object>) new Yaml().load(in); // JSON is YAML
        }
    }

    private static List<Double> numbers(Map<String, Object> fx, String key) {
        return ((List<?>) fx.get(key)).stream().map(x -> ((Number) x).doubleValue()).toList();
    }
}
