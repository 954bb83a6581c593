package org.cotrain.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.cotrain.config.Config;
import org.cotrain.config.TrainConfig;
import org.cotrain.data.Batch;
import org.cotrain.data.LinearNormalizer;
import org.cotrain.io.Safetensors;
import org.cotrain.nn.ImageEncoder;
import org.cotrain.nn.Parameter;
import org.cotrain.ops.OpTesting;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image policy at small sizes: structure (DP's names, groups, condition layout), the loss's forward and backward
 * with shapes, gradients of encoder parameters through the whole policy against finite differences, the checkpoint
 * round trip, and bad inputs as errors.
 */
class ImagePolicyTest {

    /** A policy of the small image preset with S x S frames, crops S - 8 and a tiny denoiser. */
    static ImagePolicyConfig config(int size, String... overrides) {
        Config c = ImageTask.config(Path.of("unused.hdf5"), size, overrides);
        return ImagePolicyConfig.from(c.toTrainConfig());
    }

    /** A data normaliser mapping agent_pos and actions in [0, 1] to [-1, 1]. */
    static LinearNormalizer dataNormalizer() {
        LinearNormalizer n = new LinearNormalizer();
        n.fit("obs", new float[] {0, 0, 1, 1}, 2);
        n.fit("action", new float[] {0, 0, 1, 1}, 2);
        return n;
    }

    /** A random batch of b windows: uint8 frames, normalised obs and actions. */
    static Batch batch(ImagePolicyConfig c, int b, long seed) {
        Random r = new Random(seed);
        int to = c.nObsSteps();
        var cam = c.cameras().get(0);
        byte[] frames = new byte[b * to * cam.height() * cam.width() * 3];
        r.nextBytes(frames);
        float[] actions = new float[b * c.horizon() * c.actionDim()];
        float[] obs = new float[b * to * c.obsWidth()];
        for (int i = 0; i < actions.length; i++) actions[i] = (float) (2 * r.nextDouble() - 1);
        for (int i = 0; i < obs.length; i++) obs[i] = (float) (2 * r.nextDouble() - 1);
        return new Batch(0, b, c.horizon(), to, c.actionDim(), c.obsWidth(), actions, obs, new int[b], new int[b], null,
                null, List.of(new Batch.Frames(cam.key(), cam.height(), cam.width(), frames)));
    }

    @Test
    void structureNamesAndOptimizerGroupsAreDiffusionPolicys(@TempDir Path tmp) throws Exception {
        Backend cpu = OpTesting.cpu();
        ImagePolicyConfig c = config(48);
        assertEquals(64 + 2, c.conditionDim());
        assertEquals(40, c.crop(c.cameras().get(0))[0]);
        try (ImagePolicy p = new ImagePolicy(cpu, c, ImagePolicy.normalizerFor(c, dataNormalizer()), 1)) {
            long encoder = p.encoders().get(0).parameterCount();
            assertEquals(11_197_088L, encoder);
            assertEquals(encoder + p.model().parameterCount(), p.parameterCount());
            assertEquals("obs_encoder.obs_nets.image.nets.0.nets.0.weight", p.parameters().get(0).name());
            TrainConfig tc = ImageTask.config(tmp.resolve("x.hdf5"), 48).toTrainConfig();
            float[] decay = p.weightDecays(tc.optimizer());
            for (int i = 0; i < decay.length; i++) {
                Parameter q = p.parameters().get(i);
                float expected = q.name().startsWith("obs_encoder.") ? 1e-6f
                        : q.weightDecay() ? 1e-3f : 0f;
                assertEquals(expected, decay[i], q.name());
            }
            Safetensors.Writer w = Safetensors.writer();
            p.addTo(w);
            Safetensors f = Safetensors.read(w.toBytes(), "state dict");
            for (String name : List.of("_dummy_variable", "mask_generator._dummy_variable",
                    "obs_encoder.obs_nets.image.nets.1.temperature", "obs_encoder.obs_nets.image.nets.1.pos_x",
                    "obs_encoder.obs_nets.image.nets.3.weight", "model.cond_obs_emb.weight", "model.mask",
                    "normalizer.params_dict.action.scale", "normalizer.params_dict.agent_pos.input_stats.max",
                    "normalizer.params_dict.image.scale")) {
                assertTrue(f.contains(name), name);
            }
            assertArrayEquals(new float[] {2f}, f.floats("normalizer.params_dict.image.scale"));
            assertArrayEquals(new float[] {-1f}, f.floats("normalizer.params_dict.image.offset"));
            assertArrayEquals(new int[] {16, 66}, f.shape("model.cond_obs_emb.weight")); // (n_emb, cond_dim)
            // every entry is a parameter, a buffer, the normaliser or a dummy: nothing else
            long params = f.names().stream().filter(n -> p.parameters().stream().anyMatch(q -> q.name().equals(n)))
                    .count();
            assertEquals(p.parameters().size(), params);
        }
    }

    @Test
    void conditionIsEncoderFeaturesThenLowdimObs() {
        Backend cpu = OpTesting.cpu();
        ImagePolicyConfig c = config(48);
        Batch b = batch(c, 3, 7);
        try (ImagePolicy p = new ImagePolicy(cpu, c, ImagePolicy.normalizerFor(c, dataNormalizer()), 2);
             BatchTensors t = BatchTensors.of(cpu, b)) {
            float[] cond = p.condition(t.images(), t.obs(), false, 0).toFloatArray(); // (3, 2, 66)
            float[] features = p.encoders().get(0).forward(t.images().get(0).view(6, 48, 48, 3), false, 0, 0)
                    .toFloatArray(); // (6, 64)
            for (int row = 0; row < 6; row++) {
                for (int j = 0; j < 64; j++) {
                    assertEquals(features[row * 64 + j], cond[row * 66 + j], 0f);
                }
                assertEquals(b.obs()[row * 2], cond[row * 66 + 64], 0f);
                assertEquals(b.obs()[row * 2 + 1], cond[row * 66 + 65], 0f);
            }
        }
    }

    @Test
    void lossForwardAndBackwardReachEveryParameter() {
        Backend cpu = OpTesting.cpu();
        ImagePolicyConfig c = config(48);
        long before = cpu.liveBytes();
        try (ImagePolicy p = new ImagePolicy(cpu, c, ImagePolicy.normalizerFor(c, dataNormalizer()), 3);
             BatchTensors t = BatchTensors.of(cpu, batch(c, 2, 1))) {
            p.zeroGrad();
            float loss = p.loss(t, 5, 0, true, false);
            assertTrue(Float.isFinite(loss) && loss > 0, "loss " + loss);
            assertArrayEquals(new int[] {2, 10, 2}, p.lastPrediction().shape());
            p.backward(1f);
            int zero = 0;
            for (Parameter q : p.parameters()) {
                assertArrayEquals(q.shape(), q.grad().shape(), q.name());
                float[] g = q.grad().toFloatArray();
                double max = 0;
                for (float v : g) {
                    assertTrue(Float.isFinite(v), q.name());
                    max = Math.max(max, Math.abs(v));
                }
                // zero in exact arithmetic: the keypoint conv's bias (softmax ignores a constant per map)
                if (max == 0 && !q.name().endsWith("nets.1.nets.bias")) {
                    zero++;
                }
            }
            assertEquals(0, zero, "parameters without gradient");
            // the same step of the same seed is the same loss; another step crops and noises differently
            assertEquals(loss, p.loss(t, 5, 0, true, false), 0f);
            assertNotEquals(loss, p.loss(t, 5, 1, true, false));
        }
        assertEquals(before, cpu.liveBytes(), "native memory after close");
    }

    /**
     * d loss / d (encoder parameter) through the whole policy (crop, ResNet, spatial softmax, Linear, ReLU, the
     * condition, the denoiser, the MSE) against central differences of the loss, at fixed crops, steps and noise.
     */
    @Test
    void encoderGradientsThroughThePolicyMatchFiniteDifferences() {
        Backend cpu = OpTesting.cpu();
        ImagePolicyConfig c = config(44, "policy.p_drop_attn=0.0");
        try (ImagePolicy p = new ImagePolicy(cpu, c, ImagePolicy.normalizerFor(c, dataNormalizer()), 4);
             BatchTensors t = BatchTensors.of(cpu, batch(c, 2, 3));
             Tensor offsets = cpu.of(new int[] {0, 8, 3, 5, 8, 0, 4, 4}, 4, 2);
             Tensor eps = cpu.empty(2, c.horizon(), c.actionDim())) {
            org.cotrain.ops.Ops.randNormal(eps, 11, 0);
            fillOrderOneWeights(p.parameters());
            int[] steps = {17, 63};
            List<Tensor> crops = List.of(offsets);
            p.zeroGrad();
            p.lossWith(t, crops, steps, eps, 0, false);
            p.backward(1f);
            List<String> names = List.of("obs_encoder.obs_nets.image.nets.3.weight",
                    "obs_encoder.obs_nets.image.nets.1.nets.weight",
                    "obs_encoder.obs_nets.image.nets.0.nets.7.1.bn2.bias",
                    "obs_encoder.obs_nets.image.nets.0.nets.0.weight");
            for (String name : names) {
                Parameter q = p.parameters().stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
                float[] g = q.grad().toFloatArray();
                float[] w = q.value().toFloatArray();
                // the two largest gradients of the tensor
                List<Integer> order = new ArrayList<>();
                for (int i = 0; i < g.length; i++) order.add(i);
                order.sort((a, b2) -> Float.compare(Math.abs(g[b2]), Math.abs(g[a])));
                for (int i : order.subList(0, 2)) {
                    double h = 1e-3 * Math.max(1.0, Math.abs(w[i]));
                    double[] l = new double[2];
                    for (int s = 0; s < 2; s++) {
                        float[] v = w.clone();
                        v[i] = (float) (w[i] + (s == 0 ? h : -h));
                        q.value().copyFrom(v);
                        l[s] = p.lossWith(t, crops, steps, eps, 0, false);
                    }
                    q.value().copyFrom(w);
                    double fd = (l[0] - l[1]) / (2 * h);
                    System.out.printf("d loss / d %s[%d]: backward %.6e, finite difference %.6e%n", name, i, g[i], fd);
                    assertTrue(Math.abs(g[i]) > 1e-4, name + ": gradient too small to check: " + g[i]);
                    assertEquals(g[i], fd, 0.03 * Math.abs(g[i]), name + "[" + i + "]");
                }
            }
        }
    }

    /**
     * Weights of order one, so that gradients through the whole policy are too (DP's N(0, 0.02) denoiser passes
     * gradients of 1e-7 to its condition): matrices U(-1, 1) sqrt(3 / fan_in), norm weights 1 + U(-0.2, 0.2), biases
     * and embeddings U(-0.1, 0.1).
     */
    static void fillOrderOneWeights(List<Parameter> params) {
        for (int k = 0; k < params.size(); k++) {
            Parameter q = params.get(k);
            int[] s = q.shape();
            float[] v = new float[Math.toIntExact(q.numel())];
            String leaf = q.name().substring(q.name().lastIndexOf('.') + 1);
            boolean matrix = s.length >= 2 && !leaf.contains("pos_emb");
            double scale = matrix ? Math.sqrt(3.0 / (q.numel() / s[0])) : leaf.equals("bias") || s.length > 1 ? 0.1
                    : 0.2;
            for (int i = 0; i < v.length; i++) {
                double u = org.cotrain.random.Philox.uniform(500 + k, i) * 2 - 1;
                v[i] = (float) (!matrix && s.length == 1 && !leaf.equals("bias") ? 1 + u * scale : u * scale);
            }
            q.value().copyFrom(v);
        }
    }

    @Test
    void checkpointRoundTripGivesTheSameActions(@TempDir Path tmp) throws Exception {
        Backend cpu = OpTesting.cpu();
        Config config = ImageTask.config(tmp.resolve("x.hdf5"), 48);
        ImagePolicyConfig c = ImagePolicyConfig.from(config.toTrainConfig());
        Path file = tmp.resolve("policy.safetensors");
        byte[] frames = new byte[2 * 48 * 48 * 3];
        new Random(1).nextBytes(frames);
        float[] pos = {0.1f, 0.2f, 0.15f, 0.25f};
        float[] before;
        try (ImagePolicy p = new ImagePolicy(cpu, c, ImagePolicy.normalizerFor(c, dataNormalizer()), 5)) {
            p.setSampling(Sampling.ddim(3));
            p.setSeed(9);
            before = p.predictActionChunk(List.of(frames), pos, 1);
            p.save(file, config.toYaml());
        }
        assertEquals(org.cotrain.config.PolicyKind.IMAGE, Policies.kind(file));
        try (ImagePolicy q = ImagePolicy.load(file, cpu)) {
            q.setSampling(Sampling.ddim(3));
            q.setSeed(9);
            assertArrayEquals(before, q.predictActionChunk(List.of(frames), pos, 1), 0f);
            assertEquals(8 * 2, q.executedActions(before, 1).length);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> q.predictActionChunk(List.of(new byte[96 * 96 * 3 * 2]), pos, 1));
            assertTrue(e.getMessage().contains("bytes of camera 'image', expected (1, 2, 48, 48, 3)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> q.predictActionChunk(List.of(), pos, 1));
            assertTrue(e.getMessage().contains("frames of 0 cameras, the policy has 1 ([image])"), e.getMessage());
        }
        // a policy of another crop does not take these weights
        Config other = config.withOverrides("policy.crop_shape=[32,32]");
        try (ImagePolicy p = new ImagePolicy(cpu, ImagePolicyConfig.from(other.toTrainConfig()),
                ImagePolicy.normalizerFor(c, dataNormalizer()), 5)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> p.load(Safetensors.read(file), true));
            assertTrue(e.getMessage().contains("obs_encoder.obs_nets.image.nets.1.pos_x differs from this"
                    + " configuration's (another crop_shape?)"), e.getMessage());
        }
    }

    @Test
    void badInputsAreErrors() {
        Backend cpu = OpTesting.cpu();
        ImagePolicyConfig c = config(48);
        LinearNormalizer noImage = new LinearNormalizer();
        noImage.put("action", dataNormalizer().field("action"));
        noImage.put("agent_pos", dataNormalizer().field("obs"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ImagePolicy(cpu, c, noImage, 0).close());
        assertTrue(e.getMessage().startsWith("the normaliser must have the fields image (DP's image range"),
                e.getMessage());
        try (ImagePolicy p = new ImagePolicy(cpu, c, ImagePolicy.normalizerFor(c, dataNormalizer()), 0);
             Tensor wrong = cpu.zeros(DType.U8, 2, 2, 40, 40, 3);
             Tensor floats = cpu.zeros(2, 2, 48, 48, 3);
             Tensor obs = cpu.zeros(2, 2, 2)) {
            e = assertThrows(IllegalArgumentException.class, () -> p.condition(List.of(wrong), obs, true, 0));
            assertEquals("image policy: frames of camera 'image' are U8 (2, 2, 40, 40, 3), expected uint8 (B, 2, 48,"
                    + " 48, 3)", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> p.condition(List.of(floats), obs, true, 0));
            assertTrue(e.getMessage().contains("are F32 (2, 2, 48, 48, 3)"), e.getMessage());
            try (Tensor ok = cpu.zeros(DType.U8, 2, 2, 48, 48, 3); Tensor badObs = cpu.zeros(2, 2, 3)) {
                e = assertThrows(IllegalArgumentException.class, () -> p.condition(List.of(ok), badObs, true, 0));
                assertTrue(e.getMessage().contains("low-dim obs (2, 2, 3), expected (B, 2, 2) (low-dim keys"
                        + " [agent_pos])"), e.getMessage());
            }
        }
    }

    @Test
    void withoutCropShapeTheEncoderSeesWholeFrames() {
        Backend cpu = OpTesting.cpu();
        ImagePolicyConfig c = config(40, "policy.crop_shape=null");
        assertEquals(40, c.crop(c.cameras().get(0))[0]);
        try (ImagePolicy p = new ImagePolicy(cpu, c, ImagePolicy.normalizerFor(c, dataNormalizer()), 3);
             BatchTensors t = BatchTensors.of(cpu, batch(c, 2, 1))) {
            // random "crops" of the whole frame are the frame: training and evaluation see the same condition
            float[] train = p.condition(t.images(), t.obs(), true, 77).toFloatArray();
            float[] eval = p.condition(t.images(), t.obs(), false, 0).toFloatArray();
            assertArrayEquals(eval, train, 0f);
            assertTrue(Float.isFinite(p.loss(t, 1, 0, true, false)));
        }
        assertEquals(64, ImageEncoder.FEATURES);
    }
}
