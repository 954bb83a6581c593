package org.cotrain.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.cotrain.backend.Backends;
import org.cotrain.config.Config;
import org.cotrain.data.LinearNormalizer;
import org.cotrain.diffusion.Denoiser;
import org.cotrain.diffusion.GuidedDenoiser;
import org.cotrain.random.Philox;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Classifier-free guidance at sampling: the batched guided prediction against two separate denoiser calls, for DP-T
 * (with and without its fused CPU sampling session) and DP-C; w = 1 is the unguided sampler bit for bit; guided DDPM
 * and DDIM sampling runs end to end.
 */
class GuidanceTest {
    private static final Backend CPU = Backends.cpu();
    private static final int B = 3;

    /** A tiny policy of the small CPU preset (obs 2, action 2, H 16, To 2) trained with the null condition. */
    private static LowdimPolicyConfig config(String preset, String... overrides) {
        Config c = Config.fromPreset(preset).withOverrides("task.obs_dim=2", "task.action_dim=2",
                "task.dataset.obs_keys=[agent_pos]", "training.device=cpu", "policy.num_inference_steps=10",
                "policy.noise_scheduler.num_train_timesteps=10");
        return LowdimPolicyConfig.from(c.withOverrides(overrides).toTrainConfig());
    }

    private static LowdimPolicyConfig transformer(String... overrides) {
        return config("small_cpu", concat(overrides, "policy.model.n_emb=32"));
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static LinearNormalizer normalizer() {
        float[] values = new float[40];
        for (int i = 0; i < values.length; i++) {
            values[i] = (i % 7) - 3f;
        }
        LinearNormalizer n = new LinearNormalizer();
        n.fit("obs", values, 2);
        n.fit("action", values, 2);
        return n;
    }

    private static float[] random(long seed, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = Philox.normal(seed, i);
        }
        return out;
    }

    /**
     * The guided prediction of one 2B-row call against eps_null + w (eps_c - eps_null) from two B-row calls, the null
     * condition built here on the host from the config's keep/add columns.
     *
     * <p>Tolerance: the two paths run the same float32 network on the same inputs; only the summation order of the
     * reductions may differ (the matmul kernels block the 2B rows differently from the B rows, and the CPU session's
     * fused layer sums in its own order). Each prediction is a chain of sums of K &lt;= 4 C = 128 products of O(1)
     * terms per layer, a relative error of order K u = 128 * 2^-24 = 7.6e-6 per layer, a few layers deep: below
     * about 3e-5 on O(1) outputs. The combination w e_c + (1 - w) e_n with w = 2.5 multiplies those by |w| + |1 - w|
     * = 4 (1.2e-4) and rounds once more (u times the same). 5e-4 leaves a factor 4 over that bound (measured on a
     * Zen 3: 3e-8 to 3e-7); a wrong combination (w, or the halves swapped) is off by (w - 1) |e_c - e_n| &gt; 1e-2.
     */
    private static void checkAgainstTwoCalls(LowdimPolicyConfig config, boolean session) {
        checkAgainstTwoCalls(CPU, config, session);
    }

    private static void checkAgainstTwoCalls(Backend backend, LowdimPolicyConfig config, boolean session) {
        try (LowdimPolicy policy = new LowdimPolicy(backend, config, normalizer(), 7)) {
            TrainableDenoiser model = policy.denoiser();
            // DP's initialisation (std 0.02) hardly looks at the condition; weights of std 0.15 make both
            // predictions O(1) and apart (by 0.03-0.08 here, against a tolerance of 5e-4)
            long k = 100;
            for (org.cotrain.nn.Parameter p : model.parameters()) {
                float[] v = random(k++, Math.toIntExact(p.value().numel()));
                for (int i = 0; i < v.length; i++) {
                    v[i] *= 0.15f;
                }
                p.value().copyFrom(v);
            }
            int h = config.horizon();
            int da = config.actionDim();
            int to = config.nObsSteps();
            int c = config.conditionDim();
            float[][] nc = config.nullCondition();
            float[] x = random(1, B * h * da);
            float[] cond = random(2, B * to * c);
            float[] nullCond = new float[cond.length];
            for (int i = 0; i < cond.length; i++) {
                nullCond[i] = cond[i] * nc[0][i % c] + nc[1][i % c];
            }
            float w = 2.5f;
            float[] ts = {9f, 6f, 3f, 0f};
            try (Tensor xs = backend.of(x, B, h, da); Tensor cs = backend.of(cond, B, to, c);
                 Tensor ns = backend.of(nullCond, B, to, c); Tensor out = backend.empty(B, h, da);
                 Tensor ec = backend.empty(B, h, da); Tensor en = backend.empty(B, h, da);
                 GuidedDenoiser guided = new GuidedDenoiser(model, backend, w, nc[0], nc[1])) {
                Denoiser.Session s = session ? guided.beginSampling(ts) : () -> { };
                try (s) {
                    for (float t : ts) {
                        float[] tv = new float[B];
                        Arrays.fill(tv, t);
                        try (Tensor tt = backend.of(tv, B)) {
                            guided.predict(xs, tt, cs, out);
                            float[] got = out.toFloatArray();
                            model.predict(xs, tt, cs, ec);
                            model.predict(xs, tt, ns, en);
                            float[] a = ec.toFloatArray();
                            float[] b = en.toFloatArray();
                            double maxDiff = 0;
                            double maxGap = 0;
                            for (int i = 0; i < got.length; i++) {
                                float want = b[i] + w * (a[i] - b[i]);
                                maxDiff = Math.max(maxDiff, Math.abs(got[i] - want));
                                maxGap = Math.max(maxGap, Math.abs(a[i] - b[i]));
                            }
                            System.out.printf("guided vs two calls (%s, %s, session %s, t %s): max |diff| %.2e,"
                                    + " max |eps_c - eps_null| %.2e%n", backend.name(),
                                    model.getClass().getSimpleName(), session, t, maxDiff, maxGap);
                            assertTrue(maxDiff <= 5e-4, "max |guided - (e_n + w (e_c - e_n))| " + maxDiff);
                            assertTrue(maxGap > 1e-2, "the two conditions should predict differently: " + maxGap);
                        }
                    }
                }
            }
        }
    }

    @Test
    void guidedPredictionIsTheCombinationOfTwoCallsTransformer() {
        LowdimPolicyConfig config = transformer("cotrain.guidance.p_uncond=0.2");
        assertEquals(3, config.conditionDim()); // obs 2 + the "has observation" column
        checkAgainstTwoCalls(config, false);
        checkAgainstTwoCalls(config, true); // the fused CPU session sees the 2B-row condition
    }

    @Test
    void guidedPredictionIsTheCombinationOfTwoCallsUnet() {
        LowdimPolicyConfig config = config("small_cpu_unet", "cotrain.guidance.p_uncond=0.2",
                "cotrain.guidance.null_condition=zeros", "cotrain.domain_conditioning=true",
                "task.dataset.path=[a.hdf5, b.hdf5]");
        assertEquals(4, config.conditionDim()); // obs 2 + two domain labels, no flag with zeros
        assertArrayEquals(new float[] {0, 0, 1, 1}, config.nullCondition()[0]); // labels kept
        checkAgainstTwoCalls(config, true);
    }

    @Test
    void guidedPredictionIsTheCombinationOfTwoCallsOnCuda() {
        Backend cuda = org.cotrain.ops.OpTesting.cudaOrSkip();
        checkAgainstTwoCalls(cuda, transformer("cotrain.guidance.p_uncond=0.2"), true);
        checkAgainstTwoCalls(cuda, config("small_cpu_unet", "cotrain.guidance.p_uncond=0.2"), true);
    }

    @Test
    void domainModeSwapsTheLabel() {
        LowdimPolicyConfig config = transformer("cotrain.guidance.mode=domain", "cotrain.guidance.weight=2.0",
                "cotrain.domain_conditioning=true", "task.dataset.path=[a.hdf5, b.hdf5]");
        assertEquals(4, config.conditionDim());
        assertArrayEquals(new float[] {1, 1, 0, 0}, config.nullCondition()[0]);
        assertArrayEquals(new float[] {0, 0, 0, 1}, config.nullCondition()[1]);
        checkAgainstTwoCalls(config, true);
    }

    /** Samples of B observation histories with the given sampling and seed, in data units. */
    private static float[] sample(LowdimPolicy policy, Sampling s) {
        policy.setSampling(s);
        policy.setSeed(11);
        return policy.predictActionChunk(random(5, B * 2 * 2), B);
    }

    @ParameterizedTest
    @ValueSource(strings = {"ddpm", "ddim"})
    void weightOneIsTheUnguidedSampleBitForBit(String kind) {
        try (LowdimPolicy policy = new LowdimPolicy(CPU, transformer("cotrain.guidance.p_uncond=0.2"), normalizer(),
                3)) {
            Sampling plain = kind.equals("ddpm") ? Sampling.ddpm(10) : Sampling.ddim(4);
            float[] unguided = sample(policy, plain);
            assertFalse(plain.guidance(1.0).guided());
            assertArrayEquals(unguided, sample(policy, plain.guidance(1.0)), 0f);
            float[] guided = sample(policy, plain.guidance(3.0));
            float[] prior = sample(policy, plain.guidance(0.0));
            for (float v : guided) {
                assertTrue(Float.isFinite(v));
            }
            assertFalse(Arrays.equals(unguided, guided), "w = 3 must change the sample");
            assertFalse(Arrays.equals(unguided, prior), "w = 0 must change the sample");
            // the guided sampler is kept for the batch size: the same seed gives the same guided sample again
            assertArrayEquals(guided, sample(policy, plain.guidance(3.0)), 0f);
        }
    }

    @Test
    void configWeightIsTheDefaultSampling() {
        try (LowdimPolicy policy = new LowdimPolicy(CPU, transformer("cotrain.guidance.p_uncond=0.2",
                "cotrain.guidance.weight=1.5"), normalizer(), 3)) {
            assertEquals(1.5f, policy.sampling().guidance());
            assertEquals(Sampling.Kind.DDPM, policy.sampling().kind());
        }
    }

    @Test
    void guidanceNeedsATrainedNullCondition() {
        try (LowdimPolicy policy = new LowdimPolicy(CPU, transformer(), normalizer(), 3)) {
            assertEquals(2, policy.config().conditionDim()); // the presets' values change nothing
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> policy.setSampling(Sampling.ddim(4).guidance(2)));
            assertTrue(e.getMessage().contains("no null condition"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Sampling.ddim(4).guidance(-1));
    }
}
