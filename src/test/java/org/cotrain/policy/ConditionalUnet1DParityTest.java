package org.cotrain.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.cotrain.config.ConditionalUnet1DConfig;
import org.cotrain.io.Safetensors;
import org.cotrain.nn.Parameter;
import org.cotrain.ops.OpTesting;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ConditionalUnet1D (DP-C) against PyTorch (tools/pytorch/conditional_unet1d.py, an independent re-implementation of
 * DP's module; fixtures in src/test/resources/org/cotrain/policy/unet_*.safetensors): the output of each variant and
 * every parameter and input gradient of sum(output * g), as relative errors in OpTesting's sense (max |diff| /
 * max |reference| per tensor); DP's state_dict names, order and parameter count; the saved state_dict; memory; bad
 * inputs and bad configurations.
 */
class ConditionalUnet1DParityTest {
    /**
     * Forward: 1e-5 of the output's largest element. Each layer's outputs are float32 dot products of K <= 80 terms
     * (c: 16 channels x kernel 5 in the up path; the Linear layers have K <= 32), so each carries a rounding error of
     * about sqrt(K) u |terms| <= 9 x 6e-8 = 5.4e-7 of its typical magnitude (u = 2^-24, errors of random sign; the
     * worst case K u = 4.8e-6 needs every rounding in one direction). GroupNorm after every conv rescales each layer
     * to order one, so these relative errors neither grow nor shrink with depth but add, independently: the deepest
     * path (c: 3 levels, about 32 conv, norm and linear layers from the input to the output) gives sqrt(32) x 5.4e-7 =
     * 3e-6, with GroupNorm's 1 / std and FiLM's scale (order one here) as the only gains; 1e-5 leaves 3x of that.
     * PyTorch and cotrain sum in different orders (MKL-DNN or im2col GEMM blocking versus OpenBLAS or cuDNN), so the
     * two roundings are independent and the difference is sqrt(2) times one of them, inside the same bound.
     */
    private static final double FORWARD_TOL = 1e-5;
    /**
     * Gradients: 1e-4 of each tensor's largest element. The backward runs the forward's layers in reverse, each a dot
     * product or reduction of up to B T_level x C <= 3 x 12 x 16 = 576 terms (weight gradients sum over batch and
     * time): sqrt(576) u = 1.4e-6 per layer, about 2x the forward's layers (data and weight gradients, plus the
     * GroupNorm backward's two reductions) so sqrt(64) x 1.4e-6 = 1.2e-5; it also carries the forward's error, 3e-6,
     * through GroupNorm's backward, which divides by std again (a gain of order one with these weights). The small
     * gradients of the cond_encoder Linears and of the step encoder are sums over every block of B T terms of both
     * signs, so their largest element can be a few times smaller than the terms it sums: 1e-4 allows a cancellation
     * of 8x on top of 1.2e-5.
     */
    private static final double GRAD_TOL = 1e-4;

    static final List<String> VARIANTS = List.of("a", "b", "c");

    static Safetensors fixture(String variant) {
        String resource = "/org/cotrain/policy/unet_" + variant + ".safetensors";
        try (InputStream in = ConditionalUnet1DParityTest.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + resource
                        + " (regenerate with /usr/bin/python3 tools/pytorch/conditional_unet1d.py)");
            }
            return Safetensors.read(in.readAllBytes(), resource);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The model config of a fixture, from its "config" metadata (DP's argument names; down_dims a JSON list). */
    static ConditionalUnet1DConfig config(Safetensors f) {
        String json = f.metadata().get("config");
        Map<String, String> c = TfdFixtures.flatJson(json.replaceAll("\"down_dims\":\\s*\\[[^]]*\\],?", ""),
                f.source());
        String dims = json.replaceAll(".*\"down_dims\":\\s*\\[([^]]*)\\].*", "$1");
        List<Integer> downDims = new ArrayList<>();
        for (String d : dims.split(",")) {
            downDims.add(Integer.parseInt(d.trim()));
        }
        return new ConditionalUnet1DConfig(Integer.parseInt(c.get("input_dim")), Integer.parseInt(c.get("horizon")),
                Integer.parseInt(c.get("n_obs_steps")), Integer.parseInt(c.get("cond_dim")),
                Integer.parseInt(c.get("diffusion_step_embed_dim")), downDims, Integer.parseInt(c.get("kernel_size")),
                Integer.parseInt(c.get("n_groups")), Boolean.parseBoolean(c.get("cond_predict_scale")));
    }

    /** The fixture's state_dict names, in order: its tensors under "model." (the script writes them first). */
    static List<String> stateDictNames(Safetensors f) {
        List<String> names = new ArrayList<>();
        for (String n : f.names()) {
            if (n.startsWith("model.")) {
                names.add(n);
            }
        }
        return names;
    }

    private record Errors(double output, double paramGrad, String worstParam, double sampleGrad, double condGrad) {}

    @ParameterizedTest
    @ValueSource(strings = {"a", "b", "c"})
    void matchesPyTorchOnCpu(String variant) {
        Errors e = checkAgainstFixture(OpTesting.cpu(), variant);
        System.out.printf("ConditionalUnet1D parity, variant %s (cpu): output %.2e, worst parameter gradient %.2e (%s),"
                + " sample gradient %.2e, cond gradient %s%n", variant, e.output(), e.paramGrad(), e.worstParam(),
                e.sampleGrad(), Double.isNaN(e.condGrad()) ? "-" : String.format("%.2e", e.condGrad()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "b", "c"})
    void matchesPyTorchOnCuda(String variant) {
        Backend cuda = OpTesting.cudaOrSkip();
        Errors e = checkAgainstFixture(cuda, variant);
        System.out.printf("ConditionalUnet1D parity, variant %s (cuda): output %.2e, worst parameter gradient %.2e "
                + "(%s), sample gradient %.2e%n", variant, e.output(), e.paramGrad(), e.worstParam(), e.sampleGrad());
    }

    private static Errors checkAgainstFixture(Backend backend, String variant) {
        Safetensors f = fixture(variant);
        ConditionalUnet1DConfig cfg = config(f);
        long before = backend.liveBytes();
        try (ConditionalUnet1D model = new ConditionalUnet1D(backend, cfg)) {
            model.loadWeights(f);
            assertEquals(Long.parseLong(f.metadata().get("parameter_count")), model.parameterCount());
            try (Tensor sample = f.tensor("input.sample", backend);
                 Tensor timesteps = f.tensor("input.timesteps", backend);
                 Tensor cond = f.contains("input.cond") ? f.tensor("input.cond", backend) : null;
                 Tensor g = f.tensor("grad_out", backend);
                 Tensor predicted = backend.zeros(g.shape())) {
                double outErr = 0;
                double worst = 0;
                String worstName = "";
                double sampleErr = 0;
                double condErr = Double.NaN;
                // twice: the second pass reuses every buffer, and must not see the first pass's values
                for (int pass = 0; pass < 2; pass++) {
                    model.zeroGrad();
                    Tensor out = model.forward(sample, timesteps, cond);
                    outErr = OpTesting.relativeError(out.toFloatArray(), f.floats("output"));
                    assertTrue(outErr < FORWARD_TOL, variant + ": output relative error " + outErr);
                    model.backward(g);
                    worst = 0;
                    for (Parameter p : model.parameters()) {
                        if (normalisedAway(cfg, p.name())) {
                            assertNormalisedAway(f, p);
                            continue;
                        }
                        double err = OpTesting.relativeError(p.grad().toFloatArray(), f.floats("grad." + p.name()));
                        assertTrue(err < GRAD_TOL, variant + ": gradient of " + p.name() + " relative error " + err);
                        if (err >= worst) {
                            worst = err;
                            worstName = p.name();
                        }
                    }
                    sampleErr = OpTesting.relativeError(model.sampleGrad().toFloatArray(),
                            f.floats("grad.input.sample"));
                    assertTrue(sampleErr < GRAD_TOL, variant + ": sample gradient relative error " + sampleErr);
                    if (cond != null) {
                        condErr = OpTesting.relativeError(model.condGrad().toFloatArray(),
                                f.floats("grad.input.cond"));
                        assertTrue(condErr < GRAD_TOL, variant + ": cond gradient relative error " + condErr);
                    } else {
                        assertNull(model.condGrad());
                    }
                }
                model.predict(sample, timesteps, cond, predicted);
                double evalErr = OpTesting.relativeError(predicted.toFloatArray(), f.floats("output"));
                assertTrue(evalErr < FORWARD_TOL, variant + ": predict relative error " + evalErr);
                return new Errors(outErr, worst, worstName, sampleErr, condErr);
            }
        } finally {
            assertEquals(before, backend.liveBytes(), "native memory after closing the model");
        }
    }

    /**
     * Whether a parameter is the bias of a Conv1dBlock's conv whose GroupNorm has one channel per group: GroupNorm
     * subtracts each channel's mean over T, so such a bias has no effect on the output and its exact gradient is zero
     * (DP's final_conv.0 has 8 groups whatever n_groups is, so down_dims[0] = 8 makes it so). Both PyTorch's and
     * cotrain's values are then rounding noise, and a relative error between them means nothing.
     */
    private static boolean normalisedAway(ConditionalUnet1DConfig cfg, String name) {
        if (!name.endsWith(".block.0.bias")) {
            return false;
        }
        if (name.startsWith("model.final_conv.0.")) {
            return cfg.downDims().get(0) == ConditionalUnet1DConfig.FINAL_BLOCK_GROUPS;
        }
        return false; // the residual blocks' GroupNorms have n_groups < their widths in every fixture
    }

    /**
     * A gradient that is exactly zero: both sides are rounding noise of the sum over B T of dy; cotrain's must be
     * below GRAD_TOL of the same layer's weight gradient (the same dy summed with inputs of order one), and PyTorch's
     * too, which checks the premise.
     */
    private static void assertNormalisedAway(Safetensors f, Parameter bias) {
        String weight = bias.name().substring(0, bias.name().length() - "bias".length()) + "weight";
        double scale = 0;
        for (float x : f.floats("grad." + weight)) {
            scale = Math.max(scale, Math.abs(x));
        }
        double ours = 0;
        for (float x : bias.grad().toFloatArray()) {
            ours = Math.max(ours, Math.abs(x));
        }
        double theirs = 0;
        for (float x : f.floats("grad." + bias.name())) {
            theirs = Math.max(theirs, Math.abs(x));
        }
        assertTrue(theirs < GRAD_TOL * scale, bias.name() + ": PyTorch's gradient " + theirs + " is not ~0 next to "
                + scale);
        assertTrue(ours < GRAD_TOL * scale, bias.name() + ": gradient " + ours + " should be ~0 next to " + scale);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "b", "c"})
    void parametersAreTheFixturesStateDictInOrder(String variant) {
        Safetensors f = fixture(variant);
        try (ConditionalUnet1D model = new ConditionalUnet1D(OpTesting.cpu(), config(f))) {
            List<String> names = new ArrayList<>();
            for (Parameter p : model.parameters()) {
                names.add(p.name());
                assertArrayEquals(f.shape(p.name()), p.shape(), p.name() + " shape");
            }
            assertEquals(stateDictNames(f), names, "state_dict names and order");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "b", "c"})
    void savedStateDictHasTorchNamesOrderAndValues(String variant) throws IOException {
        Safetensors f = fixture(variant);
        try (ConditionalUnet1D model = new ConditionalUnet1D(OpTesting.cpu(), config(f))) {
            model.loadWeights(f);
            Safetensors.Writer w = Safetensors.writer();
            model.addTo(w);
            Safetensors saved = Safetensors.read(w.toBytes(), "saved");
            List<String> stateDict = stateDictNames(f);
            assertEquals(stateDict, saved.names());
            for (String name : stateDict) {
                assertArrayEquals(f.shape(name), saved.shape(name), name);
                assertArrayEquals(f.floats(name), saved.floats(name), name + " round trip");
            }
        }
    }

    @Test
    void initialisationIsTorchsDefaultPerLayer() {
        ConditionalUnet1DConfig cfg = config(fixture("a"));
        try (ConditionalUnet1D model = new ConditionalUnet1D(OpTesting.cpu(), cfg)) {
            model.initialize(5L);
            for (Parameter p : model.parameters()) {
                float[] v = p.value().toFloatArray();
                String n = p.name();
                assertTrue(p.weightDecay(), n + ": DP's U-Net workspaces decay every parameter");
                if (n.matches(".*block\\.1\\.(weight|bias)")) { // GroupNorm
                    float want = n.endsWith("weight") ? 1f : 0f;
                    for (float x : v) {
                        assertEquals(want, x, n);
                    }
                    continue;
                }
                int[] s = p.shape();
                // Conv1d (out, in, k) and Linear (out, in): fan_in = in k; ConvTranspose1d (in, out, k): out k; a
                // bias takes its layer's bound
                double bound = boundOf(model, n);
                double max = 0;
                for (float x : v) {
                    max = Math.max(max, Math.abs(x));
                }
                assertTrue(max <= bound, n + " " + Arrays.toString(s) + ": max |w| " + max + " over the bound " + bound);
                if (v.length >= 32) { // all 32 draws under half the bound: probability 2^-32 for a right bound
                    assertTrue(max > 0.5 * bound, n + " " + Arrays.toString(s) + ": max |w| " + max + " for bound "
                            + bound + " (a smaller bound?)");
                }
            }
        }
    }

    /** torch's 1/sqrt(fan_in) of the layer a parameter belongs to, from its weight's shape. */
    private static double boundOf(ConditionalUnet1D model, String name) {
        String layer = name.substring(0, name.lastIndexOf('.'));
        for (Parameter p : model.parameters()) {
            if (p.name().equals(layer + ".weight")) {
                int[] s = p.shape();
                boolean transposed = layer.startsWith("model.up_modules.") && layer.endsWith(".2.conv");
                long fanIn = transposed ? (long) s[1] * s[2] : s.length == 3 ? (long) s[1] * s[2] : s[1];
                return 1 / Math.sqrt(fanIn);
            }
        }
        throw new AssertionError("no weight for " + name);
    }

    @Test
    void fullSizeDpCLowdimHasPyTorchsParameterCount() {
        // DP's push-T low-dim CNN: Da 2, To 2 x obs_dim 20, dsed 256, down_dims [256, 512, 1024], kernel 5, 8 groups;
        // 65,783,298 counted by tools/pytorch/conditional_unet1d.py --full-size. Zero weights: 263 MB, no gradients
        ConditionalUnet1DConfig cfg = new ConditionalUnet1DConfig(2, 16, 2, 20, 256, List.of(256, 512, 1024), 5, 8,
                true);
        try (ConditionalUnet1D model = new ConditionalUnet1D(OpTesting.cpu(), cfg)) {
            assertEquals(65_783_298L, model.parameterCount());
        }
    }

    @Test
    void memoryReturnsToBaselineAfterClose() {
        Backend cpu = OpTesting.cpu();
        long before = cpu.liveBytes();
        Safetensors f = fixture("b");
        try (ConditionalUnet1D model = new ConditionalUnet1D(cpu, config(f));
             Tensor sample = f.tensor("input.sample", cpu);
             Tensor timesteps = f.tensor("input.timesteps", cpu);
             Tensor cond = f.tensor("input.cond", cpu);
             Tensor g = f.tensor("grad_out", cpu)) {
            model.initialize(1L);
            model.forward(sample, timesteps, cond);
            model.backward(g);
            assertTrue(cpu.liveBytes() > before);
        }
        assertEquals(before, cpu.liveBytes(), "every activation and gradient freed");
    }

    @Test
    void badInputShapesAreErrorsNamingTheShape() {
        Backend cpu = OpTesting.cpu();
        Safetensors f = fixture("a"); // horizon 8, Da 2, To 2 x cond_dim 3
        try (ConditionalUnet1D model = new ConditionalUnet1D(cpu, config(f));
             Tensor badSample = cpu.zeros(3, 7, 2);
             Tensor sample = cpu.zeros(3, 8, 2);
             Tensor timesteps = cpu.zeros(3);
             Tensor badTimesteps = cpu.zeros(2);
             Tensor cond = cpu.zeros(3, 2, 3);
             Tensor badCond = cpu.zeros(3, 2, 4);
             Tensor badDout = cpu.zeros(3, 8, 3)) {
            assertThrows(IllegalStateException.class, () -> model.backward(badDout), "backward before forward");
            assertMessage(() -> model.forward(badSample, timesteps, cond), "sample", "(3, 7, 2)", "(B, 8, 2)");
            assertMessage(() -> model.forward(sample, badTimesteps, cond), "timesteps", "(3,)");
            assertMessage(() -> model.forward(sample, timesteps, badCond), "cond", "(3, 2, 4)", "(3, 2, 3)");
            assertMessage(() -> model.forward(sample, timesteps, null), "cond", "null");
            model.forward(sample, timesteps, cond);
            assertMessage(() -> model.backward(badDout), "dout", "(3, 8, 3)");
        }
        try (ConditionalUnet1D model = new ConditionalUnet1D(cpu, config(fixture("c")));
             Tensor sample = cpu.zeros(1, 12, 2);
             Tensor timesteps = cpu.zeros(1);
             Tensor cond = cpu.zeros(1, 2, 3)) {
            assertMessage(() -> model.forward(sample, timesteps, cond), "no global condition");
        }
    }

    @Test
    void weightsOfAnotherConfigurationAreRejectedByName() throws IOException {
        try (ConditionalUnet1D model = new ConditionalUnet1D(OpTesting.cpu(), config(fixture("a")))) {
            assertMessage(() -> model.loadWeights(fixture("b")), "model.", "is not a parameter");
        }
        Safetensors a = fixture("a");
        Safetensors.Writer w = Safetensors.writer();
        for (String n : stateDictNames(a)) {
            if (!n.equals("model.mid_modules.1.cond_encoder.1.bias")) {
                w.add(n, a.floats(n), a.shape(n));
            }
        }
        Safetensors partial = Safetensors.read(w.toBytes(), "partial");
        try (ConditionalUnet1D model = new ConditionalUnet1D(OpTesting.cpu(), config(a))) {
            assertMessage(() -> model.loadWeights(partial), "missing parameter model.mid_modules.1.cond_encoder.1.bias");
        }
    }

    @Test
    void badConfigurationsAreErrorsNamingTheKey() {
        List<Integer> dims = List.of(8, 12);
        assertMessage(() -> new ConditionalUnet1DConfig(2, 8, 2, 3, 4, dims, 4, 4, true), "kernel_size", "odd");
        assertMessage(() -> new ConditionalUnet1DConfig(2, 8, 2, 3, 4, List.of(8, 10), 3, 4, true), "n_groups 4",
                "10");
        assertMessage(() -> new ConditionalUnet1DConfig(2, 8, 2, 3, 4, List.of(12, 24), 3, 4, true), "first width",
                "8");
        assertMessage(() -> new ConditionalUnet1DConfig(2, 6, 2, 3, 4, List.of(8, 8, 8), 3, 4, true), "horizon 6",
                "2^(levels - 1) = 4");
        assertMessage(() -> new ConditionalUnet1DConfig(2, 8, 2, 3, 5, dims, 3, 4, true),
                "diffusion_step_embed_dim");
        assertMessage(() -> new ConditionalUnet1DConfig(2, 8, 2, 3, 4, List.of(), 3, 4, true), "down_dims");
    }

    private static void assertMessage(Runnable r, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message \"" + e.getMessage() + "\" lacks \"" + p + "\"");
        }
    }
}
