package org.cotrain.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.cotrain.config.OptimizerConfig;
import org.cotrain.data.Batch;
import org.cotrain.data.LinearNormalizer;
import org.cotrain.io.Json;
import org.cotrain.io.Safetensors;
import org.cotrain.nn.Parameter;
import org.cotrain.ops.OpTesting;
import org.cotrain.optim.AdamW;
import org.cotrain.random.Philox;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * One full training step of the image policy against PyTorch (tools/pytorch/hybrid_image_policy.py, fixture
 * image_policy_train_step): DP's hybrid image policy with the full-size encoder (96x96 frames, 84x84 crops at given
 * offsets) and a small denoiser, weights and frames from formulas both sides implement; the condition, the
 * denoiser's prediction and the loss (relative error under 1e-4), every parameter's gradient (under 1e-3 beyond the
 * fixture's kink allowance, see GRAD_TOL; whole for small tensors, sampled elements plus the maximum, the norm and a
 * random projection for large ones), and the weights
 * after one AdamW step with DP's groups (the change of each tensor under 1e-3; elements whose Adam update is decided
 * by rounding noise checked against Adam's bound). Also DP's state_dict: the same names, in the same order, with the
 * same shapes, so that load_state_dict(strict=True) takes the file.
 */
class ImagePolicyParityTest {
    // Two float32 implementations of the same forward differ by rounding: about u sqrt(K) (u = 6e-8) of the scale per
    // product of K terms, summed over the path (ResNet18: sum sqrt(K) ~ 800, so ~5e-5 worst), measured against the
    // output's largest element.
    private static final double FORWARD_TOL = 1e-4;
    // A gradient is a long sum of products that cancel (a GroupNorm's bias gradient is a sum over its group of terms
    // far larger than the result): its rounding error relative to the tensor's largest element is the forward's
    // times the cancellation factor (|sum of |terms|| / |sum|, ~10 here), so 1e-3. Discrete differences come on top:
    // an element whose ReLU or max-pool decision is within rounding of its kink may be routed either way by summation
    // order (the BLAS kernel set, threads); the fixture's kink_allowance bounds what that can change (in float64).
    private static final double GRAD_TOL = 1e-3;
    // Adam's first step is about -lr sign(g) per element: well-conditioned elements agree to the gradient's error.
    private static final double STEP_TOL = 1e-3;

    static Safetensors fixture() {
        String resource = "/fixtures/image_policy_train_step.safetensors";
        try (InputStream in = ImagePolicyParityTest.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + resource
                        + " (regenerate with /usr/bin/python3 tools/pytorch/hybrid_image_policy.py)");
            }
            return Safetensors.read(in.readAllBytes(), resource);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The fixture's weight formula (the script's docstring) for parameter k of the metadata's order. */
    static float[] fixtureValues(Parameter p, int k, long seed) {
        int n = Math.toIntExact(p.numel());
        int[] shape = p.shape();
        String name = p.name();
        String leaf = name.substring(name.lastIndexOf('.') + 1);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            float u = Philox.uniform(seed + k, i) * 2f - 1f;
            if (leaf.endsWith("bias")) {
                v[i] = u * 0.1f;
            } else if (leaf.equals("pos_emb") || leaf.equals("cond_pos_emb")) {
                v[i] = u * 0.3f;
            } else if (shape.length == 1) {
                v[i] = 1f + u * 0.2f;
            } else {
                long fanIn = p.numel() / shape[0];
                double gain = name.startsWith("obs_encoder.") ? 6.0 : 3.0;
                v[i] = u * (float) Math.sqrt(gain / fanIn);
            }
        }
        return v;
    }

    @Test
    void oneTrainingStepMatchesPyTorchOnCpu() {
        run(OpTesting.cpu());
    }

    @Test
    void oneTrainingStepMatchesPyTorchOnCuda() {
        run(OpTesting.cudaOrSkip());
    }

    private static void run(Backend backend) {
        Safetensors f = fixture();
        Map<String, Object> cfg = json(f.metadata().get("config"));
        @SuppressWarnings("unchecked")
        Map<String, Object> model = (Map<String, Object>) cfg.get("model");
        float lr = ((Number) cfg.get("lr")).floatValue();
        double twd = ((Number) cfg.get("transformer_weight_decay")).doubleValue();
        double ewd = ((Number) cfg.get("obs_encoder_weight_decay")).doubleValue();
        ImagePolicyConfig c = ImagePolicyTest.config(96, "policy.crop_shape=[84,84]", "horizon="
                        + model.get("horizon"), "policy.n_layer=" + model.get("n_layer"), "policy.n_emb="
                        + model.get("n_emb"), "policy.n_head=" + model.get("n_head"), "policy.p_drop_attn=0.0",
                "policy.p_drop_emb=0.0");
        assertEquals(((Number) model.get("cond_dim")).intValue(), c.conditionDim());
        int b = ((Number) cfg.get("batch")).intValue();
        int to = c.nObsSteps();
        int h = c.horizon();
        long before = backend.liveBytes();
        LinearNormalizer data = ImagePolicyTest.dataNormalizer();
        try (ImagePolicy p = new ImagePolicy(backend, c, ImagePolicy.normalizerFor(c, data), 0)) {
            checkStateDict(f, p);
            List<String> names = List.of(f.metadata().get("parameters").split(","));
            assertEquals(Long.parseLong(f.metadata().get("parameter_count")), p.parameterCount());
            Map<String, Parameter> byName = new LinkedHashMap<>();
            p.parameters().forEach(q -> byName.put(q.name(), q));
            assertEquals(new HashSet<>(names), byName.keySet(), "parameter names");
            long weightSeed = ((Number) cfg.get("weight_seed")).longValue();
            for (int k = 0; k < names.size(); k++) {
                Parameter q = byName.get(names.get(k));
                q.value().copyFrom(fixtureValues(q, k, weightSeed));
            }

            // the batch: formula frames, the fixture's normalised obs and actions
            long imageSeed = ((Number) cfg.get("image_seed")).longValue();
            byte[] frames = new byte[b * to * 96 * 96 * 3];
            for (int i = 0; i < frames.length; i++) {
                frames[i] = (byte) Philox.randint(imageSeed, i, 0, 256);
            }
            Batch batch = new Batch(0, b, h, to, 2, 2, f.floats("input.x0"), f.floats("input.obs"), new int[b],
                    new int[b], null, null, List.of(new Batch.Frames("image", 96, 96, frames)));
            List<float[]> old = new ArrayList<>();
            p.parameters().forEach(q -> old.add(q.value().toFloatArray()));
            float loss;
            try (BatchTensors t = BatchTensors.of(backend, batch);
                 Tensor offsets = f.tensor("input.offsets", backend);
                 Tensor noise = f.tensor("input.noise", backend)) {
                p.zeroGrad();
                loss = p.lossWith(t, List.of(offsets), f.ints("input.timesteps"), noise, 0, true);
                double predErr = OpTesting.relativeError(p.lastPrediction().toFloatArray(), f.floats("prediction"));
                double lossErr = Math.abs(loss - f.floats("loss")[0]) / Math.abs(f.floats("loss")[0]);
                System.out.printf("image policy step (%s): loss %.7f vs PyTorch %.7f (relative error %.2e),"
                        + " prediction relative error %.2e%n", backend.name(), loss, f.floats("loss")[0], lossErr,
                        predErr);
                assertTrue(predErr < FORWARD_TOL, "prediction relative error " + predErr);
                assertTrue(lossErr < FORWARD_TOL, "loss relative error " + lossErr);
                // the condition the denoiser saw: the same offsets, frames and obs again
                double condErr = conditionError(p, t, offsets, f);
                assertTrue(condErr < FORWARD_TOL, "condition relative error " + condErr);
                // the encoder ran another forward: the loss again, so that the backward sees the step's activations
                p.zeroGrad();
                assertEquals(loss, p.lossWith(t, List.of(offsets), f.ints("input.timesteps"), noise, 0, true), 0f);
                p.backward(1f);
            }
            checkGradients(f, p, names, byName);

            float[] decays = p.weightDecays(new OptimizerConfig(lr, twd, 0.9, 0.95, ewd));
            try (AdamW optimizer = new AdamW(p.parameters(), decays, 0.9f, 0.95f, 1e-8f)) {
                optimizer.step(lr);
            }
            checkStep(f, p, old, decays, lr);
        }
        assertEquals(before, backend.liveBytes(), "native memory after closing the policy");
    }

    /** The condition (B, To, 66) at the fixture's crops against PyTorch's. */
    private static double conditionError(ImagePolicy p, BatchTensors t, Tensor offsets, Safetensors f) {
        int b = t.size();
        int to = p.config().nObsSteps();
        float[] features = p.encoders().get(0).forward(t.images().get(0).view(b * to, 96, 96, 3), offsets)
                .toFloatArray();
        float[] obs = t.obs().toFloatArray();
        int w = p.config().conditionDim();
        float[] cond = new float[b * to * w];
        for (int row = 0; row < b * to; row++) {
            System.arraycopy(features, row * 64, cond, row * w, 64);
            System.arraycopy(obs, row * 2, cond, row * w + 64, 2);
        }
        double err = OpTesting.relativeError(cond, f.floats("cond"));
        System.out.printf("image policy step: condition relative error %.2e%n", err);
        return err;
    }

    private static void checkStateDict(Safetensors f, ImagePolicy p) {
        Safetensors.Writer w = Safetensors.writer();
        p.addTo(w);
        Safetensors ours;
        try {
            ours = Safetensors.read(w.toBytes(), "state dict");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> theirs = List.of(f.metadata().get("state_dict").split(","));
        assertEquals(theirs, ours.names(), "DP's state_dict names and order");
        Map<String, Object> shapes = json(f.metadata().get("state_dict_shapes"));
        for (String name : theirs) {
            @SuppressWarnings("unchecked")
            List<Object> s = (List<Object>) shapes.get(name);
            int[] expected = s.stream().mapToInt(x -> ((Number) x).intValue()).toArray();
            assertArrayEquals(expected, ours.shape(name), name);
        }
    }

    private static void checkGradients(Safetensors f, ImagePolicy p, List<String> names,
                                       Map<String, Parameter> byName) {
        double worst = 0;
        String worstName = "";
        for (String name : names) {
            Parameter q = byName.get(name);
            float[] g = q.grad().toFloatArray();
            // how far the kinks' sides may move this tensor's gradient: a_i per stored element, and
            // [max_i a_i, ||a||_2, sum_i a_i] for the statistics of a large tensor
            boolean kinked = f.contains("kink." + name);
            float[] kinkStats = kinked ? f.floats("kink_stats." + name) : new float[3];
            double err;
            if (f.contains("grad." + name)) {
                float[] ref = f.floats("grad." + name);
                if (name.endsWith("nets.1.nets.bias")) {
                    // zero in exact arithmetic (the spatial softmax ignores a constant per map): rounding noise
                    double scale = maxAbs(f.floats("grad_stats.obs_encoder.obs_nets.image.nets.1.nets.weight"));
                    assertTrue(maxAbs(g) < 1e-4 * Math.max(scale, 1e-3), name + ": " + maxAbs(g));
                    continue;
                }
                float[] kink = kinked ? f.floats("kink." + name) : new float[ref.length];
                double maxRef = maxAbs(ref);
                err = 0;
                for (int i = 0; i < g.length; i++) {
                    err = Math.max(err, excess(Math.abs(g[i] - ref[i]), maxRef, kink[i]));
                }
            } else {
                int[] idx = f.ints("grad_index." + name);
                float[] ref = f.floats("grad_sample." + name);
                float[] stats = f.floats("grad_stats." + name);
                double max = 0;
                double sq = 0;
                double proj = 0;
                int k = names.indexOf(name);
                long projectionSeed = 8000;
                for (int i = 0; i < g.length; i++) {
                    max = Math.max(max, Math.abs(g[i]));
                    sq += (double) g[i] * g[i];
                    proj += Philox.uniform(projectionSeed + k, i) >= 0.5f ? g[i] : -g[i];
                }
                double norm = Math.sqrt(sq);
                err = Math.max(excess(Math.abs(max - stats[0]), stats[0], kinkStats[0]),
                        excess(Math.abs(norm - stats[1]), stats[1], kinkStats[1]));
                err = Math.max(err, excess(Math.abs(proj - stats[2]), stats[1], kinkStats[2]));
                // the samples, against the tensor's largest gradient
                float[] kink = kinked ? f.floats("kink." + name) : new float[idx.length];
                for (int j = 0; j < idx.length; j++) {
                    err = Math.max(err, excess(Math.abs(g[idx[j]] - ref[j]), stats[0], kink[j]));
                }
            }
            assertTrue(err < GRAD_TOL, name + " gradient relative error " + err);
            if (err > worst) {
                worst = err;
                worstName = name;
            }
        }
        System.out.printf("image policy step: worst gradient relative error %.2e (%s)%n", worst, worstName);
    }

    /** The weights after the AdamW step: each tensor's change against PyTorch's, on well-conditioned elements. */
    private static void checkStep(Safetensors f, ImagePolicy p, List<float[]> old, float[] decays, float lr) {
        double worst = 0;
        String worstName = "";
        int excluded = 0;
        int checked = 0;
        List<Parameter> ps = p.parameters();
        for (int i = 0; i < ps.size(); i++) {
            Parameter q = ps.get(i);
            String name = q.name();
            float[] now = q.value().toFloatArray();
            float[] was = old.get(i);
            int[] idx;
            float[] ref;
            if (f.contains("step1." + name)) {
                ref = f.floats("step1." + name);
                idx = new int[now.length];
                for (int j = 0; j < idx.length; j++) {
                    idx[j] = j;
                }
            } else {
                idx = f.ints("grad_index." + name);
                ref = f.floats("step1_sample." + name);
            }
            Set<Integer> ill = new HashSet<>();
            if (f.contains("ill_conditioned." + name)) {
                for (int j : f.ints("ill_conditioned." + name)) {
                    ill.add(j);
                }
            }
            List<Float> ours = new ArrayList<>();
            List<Float> theirs = new ArrayList<>();
            for (int j = 0; j < idx.length; j++) {
                int e = idx[j];
                float change = now[e] - was[e];
                if (ill.contains(e)) {
                    float bound = lr * 1.01f + lr * decays[i] * Math.abs(was[e]);
                    assertTrue(Math.abs(change) <= bound, name + "[" + e + "]: change " + change + " exceeds Adam's"
                            + " bound " + bound);
                    excluded++;
                } else {
                    ours.add(change);
                    theirs.add(ref[j] - was[e]);
                    checked++;
                }
            }
            if (ours.isEmpty()) {
                continue;
            }
            double err = OpTesting.relativeError(floats(ours), floats(theirs));
            assertTrue(err < STEP_TOL, name + ": change in the AdamW step, relative error " + err);
            if (err > worst) {
                worst = err;
                worstName = name;
            }
        }
        System.out.printf("image policy step: worst weight-change error %.2e (%s); %d elements checked, %d"
                + " ill-conditioned ones against Adam's bound%n", worst, worstName, checked, excluded);
        // a guard against a fixture that checks next to nothing: the ill-conditioned ones are the gradients below
        // ILL of their tensor's largest plus those a kink's side could flip (about a tenth of the encoder's)
        assertTrue(excluded < checked / 4, "too many ill-conditioned elements: " + excluded + " of " + checked);
    }

    /** A difference relative to scale, less what the kinks allow (so that the result compares with GRAD_TOL). */
    private static double excess(double diff, double scale, double kinkAllowance) {
        return Math.max(0, diff - kinkAllowance) / scale;
    }

    private static double maxAbs(float[] v) {
        double m = 0;
        for (float x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }

    private static float[] floats(List<Float> v) {
        float[] r = new float[v.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = v.get(i);
        }
        return r;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> json(String text) {
        return (Map<String, Object>) Json.parse(text);
    }
}
