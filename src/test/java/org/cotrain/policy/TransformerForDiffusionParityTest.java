package org.cotrain.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.cotrain.config.TransformerForDiffusionConfig;
import org.cotrain.diffusion.Denoiser;
import org.cotrain.io.Safetensors;
import org.cotrain.nn.Parameter;
import org.cotrain.ops.OpTesting;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * TransformerForDiffusion against PyTorch (tools/pytorch/transformer_for_diffusion.py, a re-implementation of DP's
 * module): the output of each variant within 1e-4 and every parameter and input gradient of sum(output * g) within
 * 1e-3 (relative error as OpTesting defines it: max |diff| / max |reference| per tensor); DP's names, order and
 * parameter count; dropout determinism; memory; bad inputs.
 */
class TransformerForDiffusionParityTest {
    private static final double FORWARD_TOL = 1e-4;
    private static final double GRAD_TOL = 1e-3;

    /** The worst errors of one variant, printed for the record. */
    private record Errors(double output, double eval, double paramGrad, String worstParam, double sampleGrad,
                          double condGrad) {}

    @ParameterizedTest
    @ValueSource(strings = {"a", "b", "c", "d"})
    void matchesPyTorchOnCpu(String variant) {
        Errors e = checkAgainstFixture(OpTesting.cpu(), variant);
        System.out.printf("TransformerForDiffusion parity, variant %s (cpu): output %.2e, eval output %.2e, worst "
                + "parameter gradient %.2e (%s), sample gradient %.2e, cond gradient %s%n", variant, e.output(),
                e.eval(), e.paramGrad(), e.worstParam(), e.sampleGrad(),
                Double.isNaN(e.condGrad()) ? "-" : String.format("%.2e", e.condGrad()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "b", "c", "d"})
    void matchesPyTorchOnCuda(String variant) {
        Backend cuda = OpTesting.cudaOrSkip();
        Errors e = checkAgainstFixture(cuda, variant);
        System.out.printf("TransformerForDiffusion parity, variant %s (cuda): output %.2e, worst parameter gradient "
                + "%.2e (%s)%n", variant, e.output(), e.paramGrad(), e.worstParam());
    }

    private static Errors checkAgainstFixture(Backend backend, String variant) {
        Safetensors f = TfdFixtures.variant(variant);
        TransformerForDiffusionConfig cfg = TfdFixtures.config(f);
        long before = backend.liveBytes();
        try (TransformerForDiffusion model = new TransformerForDiffusion(backend, cfg)) {
            model.loadWeights(f);
            assertEquals(TfdFixtures.list(f, "parameters"), names(model), "parameter names and order");
            assertEquals(Long.parseLong(f.metadata().get("parameter_count")), model.parameterCount());
            try (Tensor sample = f.tensor("input.sample", backend);
                 Tensor timesteps = f.tensor("input.timesteps", backend);
                 Tensor cond = f.contains("input.cond") ? f.tensor("input.cond", backend) : null;
                 Tensor g = f.tensor("grad_out", backend);
                 Tensor predicted = backend.zeros(g.shape())) {
                model.zeroGrad();
                Tensor out = model.forward(sample, timesteps, cond, true, 1234L);
                double outErr = OpTesting.relativeError(out.toFloatArray(), f.floats("output"));
                assertTrue(outErr < FORWARD_TOL, variant + ": output relative error " + outErr);
                model.backward(g);
                double worst = 0;
                String worstName = "";
                for (Parameter p : model.parameters()) {
                    double err = OpTesting.relativeError(p.grad().toFloatArray(), f.floats("grad." + p.name()));
                    assertTrue(err < GRAD_TOL, variant + ": gradient of " + p.name() + " relative error " + err);
                    if (err >= worst) {
                        worst = err;
                        worstName = p.name();
                    }
                }
                double sampleErr = OpTesting.relativeError(model.sampleGrad().toFloatArray(),
                        f.floats("grad.input.sample"));
                assertTrue(sampleErr < GRAD_TOL, variant + ": sample gradient relative error " + sampleErr);
                double condErr = Double.NaN;
                if (cond != null) {
                    condErr = OpTesting.relativeError(model.condGrad().toFloatArray(), f.floats("grad.input.cond"));
                    assertTrue(condErr < GRAD_TOL, variant + ": cond gradient relative error " + condErr);
                } else {
                    assertNull(model.condGrad());
                }
                // the evaluation path (Denoiser.predict) is the same function without dropout
                model.predict(sample, timesteps, cond, predicted);
                double evalErr = OpTesting.relativeError(predicted.toFloatArray(), f.floats("output"));
                assertTrue(evalErr < FORWARD_TOL, variant + ": predict relative error " + evalErr);
                // and inside a sampling session, where the CPU runs each decoder layer as one fused call
                try (Denoiser.Session ignored = model.beginSampling(null)) {
                    model.predict(sample, timesteps, cond, predicted);
                }
                double fusedErr = OpTesting.relativeError(predicted.toFloatArray(), f.floats("output"));
                assertTrue(fusedErr < FORWARD_TOL, variant + ": predict while sampling relative error " + fusedErr);
                return new Errors(outErr, evalErr, worst, worstName, sampleErr, condErr);
            }
        } finally {
            assertEquals(before, backend.liveBytes(), "native memory after closing the model");
        }
    }

    private static List<String> names(TransformerForDiffusion model) {
        List<String> names = new ArrayList<>();
        model.parameters().forEach(p -> names.add(p.name()));
        return names;
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "b", "c", "d"})
    void savedStateDictHasTorchNamesOrderAndValues(String variant) throws IOException {
        Safetensors f = TfdFixtures.variant(variant);
        Backend cpu = OpTesting.cpu();
        try (TransformerForDiffusion model = new TransformerForDiffusion(cpu, TfdFixtures.config(f))) {
            model.loadWeights(f);
            Safetensors.Writer w = Safetensors.writer();
            model.addTo(w);
            Safetensors saved = Safetensors.read(w.toBytes(), "saved");
            List<String> stateDict = TfdFixtures.list(f, "state_dict");
            assertEquals(stateDict, saved.names(), "state_dict names and order (buffers and _dummy_variable too)");
            for (String name : stateDict) {
                assertArrayEquals(f.shape(name), saved.shape(name), name);
                assertArrayEquals(f.floats(name), saved.floats(name), name + " round trip");
            }
        }
    }

    @Test
    void fullSizeDpTLowdimHasTheParameterCountOfPyTorch() {
        // horizon 16, n_obs_steps 2, Da 2, cond_dim 66, 8 layers x 4 heads x 256, MLP condition encoder, causal
        TransformerForDiffusionConfig cfg = new TransformerForDiffusionConfig(2, 2, 16, 2, 66, 8, 4, 256, 0f, 0.3f,
                true, true, true, 0);
        Safetensors f = TfdFixtures.variant("a");
        Map<String, String> torchCfg = TfdFixtures.flatJson(f.metadata().get("full_size_config"), f.source());
        assertEquals(cfg, TfdFixtures.config(torchCfg), "the fixture counted the same configuration");
        try (TransformerForDiffusion model = new TransformerForDiffusion(OpTesting.cpu(), cfg)) {
            assertEquals(8_976_898L, model.parameterCount());
            assertEquals(Long.parseLong(f.metadata().get("full_size_parameter_count")), model.parameterCount(),
                    "PyTorch's count");
        }
    }

    // ---- dropout ----------------------------------------------------------------------------------------------------

    /** Variant (a)'s weights in a model with dropout on the embeddings and inside the layers. */
    private static TransformerForDiffusion withDropout(Backend backend, Safetensors f) {
        TransformerForDiffusionConfig c = TfdFixtures.config(f);
        TransformerForDiffusionConfig cfg = new TransformerForDiffusionConfig(c.inputDim(), c.outputDim(),
                c.horizon(), c.nObsSteps(), c.condDim(), c.nLayer(), c.nHead(), c.nEmb(), 0.1f, 0.3f, c.causalAttn(),
                c.timeAsCond(), c.obsAsCond(), c.nCondLayers());
        TransformerForDiffusion model = new TransformerForDiffusion(backend, cfg);
        model.loadWeights(f);
        return model;
    }

    /** Output, then every parameter gradient and the input gradients, of one training pass with this seed. */
    private static List<float[]> trainingPass(TransformerForDiffusion model, Tensor sample, Tensor timesteps,
                                              Tensor cond, Tensor g, long seed) {
        List<float[]> r = new ArrayList<>();
        model.zeroGrad();
        r.add(model.forward(sample, timesteps, cond, true, seed).toFloatArray());
        model.backward(g);
        for (Parameter p : model.parameters()) {
            r.add(p.grad().toFloatArray());
        }
        r.add(model.sampleGrad().toFloatArray());
        r.add(model.condGrad().toFloatArray());
        return r;
    }

    @Test
    void dropoutIsAFunctionOfTheSeedAndOffInEvaluation() {
        Safetensors f = TfdFixtures.variant("a");
        Backend cpu = OpTesting.cpu();
        try (TransformerForDiffusion model = withDropout(cpu, f);
             Tensor sample = f.tensor("input.sample", cpu);
             Tensor timesteps = f.tensor("input.timesteps", cpu);
             Tensor cond = f.tensor("input.cond", cpu);
             Tensor g = f.tensor("grad_out", cpu)) {
            List<float[]> first = trainingPass(model, sample, timesteps, cond, g, 7L);
            List<float[]> again = trainingPass(model, sample, timesteps, cond, g, 7L);
            for (int i = 0; i < first.size(); i++) {
                assertArrayEquals(first.get(i), again.get(i), "same seed, tensor " + i + ": the same bits");
            }
            List<float[]> other = trainingPass(model, sample, timesteps, cond, g, 8L);
            assertTrue(OpTesting.relativeError(other.get(0), first.get(0)) > 1e-3, "another seed drops other units");
            double trainVsTorch = OpTesting.relativeError(first.get(0), f.floats("output"));
            assertTrue(trainVsTorch > 1e-3, "dropout changes the training output (" + trainVsTorch + ")");
            // evaluation ignores dropout: PyTorch's output (computed without dropout), whatever the seed
            float[] eval = model.forward(sample, timesteps, cond, false, 7L).toFloatArray();
            OpTesting.assertClose("eval output", eval, f.floats("output"), FORWARD_TOL);
            assertArrayEquals(eval, model.forward(sample, timesteps, cond, false, 8L).toFloatArray());
        }
    }

    /**
     * With dropout on, the gradient is that of the function the forward computed (the backward recomputes the same
     * masks): the directional derivative along a random direction in every parameter and input, by central
     * differences of sum(output * g) with the seed fixed, equals the sum of gradient . direction.
     */
    @Test
    void dropoutBackwardIsTheGradientOfTheForward() {
        Safetensors f = TfdFixtures.variant("a");
        Backend cpu = OpTesting.cpu();
        long seed = 11L;
        try (TransformerForDiffusion model = withDropout(cpu, f);
             Tensor sample = f.tensor("input.sample", cpu);
             Tensor timesteps = f.tensor("input.timesteps", cpu);
             Tensor cond = f.tensor("input.cond", cpu);
             Tensor g = f.tensor("grad_out", cpu)) {
            float[] gv = g.toFloatArray();
            List<float[]> grads = trainingPass(model, sample, timesteps, cond, g, seed);
            // directions, and the analytic derivative along them
            List<Tensor> targets = new ArrayList<>();
            model.parameters().forEach(p -> targets.add(p.value()));
            targets.add(sample);
            targets.add(cond);
            Random rnd = new Random(5);
            List<float[]> base = new ArrayList<>();
            List<float[]> dir = new ArrayList<>();
            double analytic = 0;
            for (int i = 0; i < targets.size(); i++) {
                float[] x = targets.get(i).toFloatArray();
                float[] d = new float[x.length];
                for (int j = 0; j < d.length; j++) {
                    d[j] = (float) rnd.nextGaussian();
                    analytic += (double) d[j] * grads.get(i + 1)[j];
                }
                base.add(x);
                dir.add(d);
            }
            double h = 1e-3;
            double[] loss = new double[2];
            for (int s = 0; s < 2; s++) {
                double step = s == 0 ? h : -h;
                for (int i = 0; i < targets.size(); i++) {
                    float[] x = base.get(i).clone();
                    for (int j = 0; j < x.length; j++) {
                        x[j] += (float) (step * dir.get(i)[j]);
                    }
                    targets.get(i).copyFrom(x);
                }
                float[] out = model.forward(sample, timesteps, cond, true, seed).toFloatArray();
                for (int j = 0; j < out.length; j++) {
                    loss[s] += (double) out[j] * gv[j];
                }
            }
            double numeric = (loss[0] - loss[1]) / (2 * h);
            double err = Math.abs(numeric - analytic) / Math.abs(analytic);
            assertTrue(err < 1e-2, "directional derivative: analytic " + analytic + ", central differences "
                    + numeric + " (relative error " + err + ")");
        }
    }

    @Test
    void dropoutMasksAreTheSameOnCudaAndCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        Backend cpu = OpTesting.cpu();
        Safetensors f = TfdFixtures.variant("a");
        List<float[]> onCpu;
        List<float[]> onCuda;
        try (TransformerForDiffusion model = withDropout(cpu, f);
             Tensor sample = f.tensor("input.sample", cpu);
             Tensor timesteps = f.tensor("input.timesteps", cpu);
             Tensor cond = f.tensor("input.cond", cpu);
             Tensor g = f.tensor("grad_out", cpu)) {
            onCpu = trainingPass(model, sample, timesteps, cond, g, 21L);
        }
        try (TransformerForDiffusion model = withDropout(cuda, f);
             Tensor sample = f.tensor("input.sample", cuda);
             Tensor timesteps = f.tensor("input.timesteps", cuda);
             Tensor cond = f.tensor("input.cond", cuda);
             Tensor g = f.tensor("grad_out", cuda)) {
            onCuda = trainingPass(model, sample, timesteps, cond, g, 21L);
        }
        OpTesting.assertClose("output with dropout, cuda vs cpu", onCuda.get(0), onCpu.get(0), FORWARD_TOL);
        for (int i = 1; i < onCpu.size(); i++) {
            OpTesting.assertClose("gradient " + i + " with dropout, cuda vs cpu", onCuda.get(i), onCpu.get(i),
                    GRAD_TOL);
        }
    }

    // ---- sampling sessions --------------------------------------------------------------------------------------------

    /**
     * In a sampling session the CPU runs the fused decoder layers and, with the token-wise condition encoder, takes the
     * step and condition tokens' keys and values computed ahead: the same steps as the session without them (bit for
     * bit) and as no session (to float rounding); a timestep outside the session's, or another cond, falls back.
     */
    @ParameterizedTest
    @ValueSource(strings = {"a", "b", "c", "d"})
    void samplingSessionsComputeTheSameSteps(String variant) {
        Backend cpu = OpTesting.cpu();
        Safetensors f = TfdFixtures.variant(variant);
        float[] steps = {9f, 4f, 0f};
        try (TransformerForDiffusion model = new TransformerForDiffusion(cpu, TfdFixtures.config(f));
             Tensor sample = f.tensor("input.sample", cpu);
             Tensor cond = f.contains("input.cond") ? f.tensor("input.cond", cpu) : null;
             Tensor otherCond = cond == null ? null : cpu.of(OpTesting.toFloat(OpTesting.randn(5,
                     Math.toIntExact(cond.numel()))), cond.shape());
             Tensor out = cpu.zeros(sample.shape())) {
            model.loadWeights(f);
            int b = sample.dim(0);
            float[][] plain = new float[steps.length + 1][];
            float[][] fused = new float[steps.length][];
            for (int k = 0; k <= steps.length; k++) {
                plain[k] = predict(model, sample, k < steps.length ? steps[k] : 5f, cond, out, b);
            }
            try (Denoiser.Session ignored = model.beginSampling(null)) {
                for (int k = 0; k < steps.length; k++) {
                    fused[k] = predict(model, sample, steps[k], cond, out, b);
                }
            }
            try (Denoiser.Session ignored = model.beginSampling(steps)) {
                for (int k = 0; k < steps.length; k++) {
                    float[] hoisted = predict(model, sample, steps[k], cond, out, b);
                    assertArrayEquals(fused[k], hoisted, variant + ": step " + k + " with the tokens ahead");
                    double err = OpTesting.relativeError(hoisted, plain[k]);
                    assertTrue(err < FORWARD_TOL, variant + ": step " + k + " against no session: " + err);
                }
                double other = OpTesting.relativeError(predict(model, sample, 5f, cond, out, b), plain[steps.length]);
                assertTrue(other < FORWARD_TOL, variant + ": a timestep outside the session's: " + other);
            }
            if (cond != null) { // another cond after the session's first step falls back: against no session
                float[] inSession;
                try (Denoiser.Session ignored = model.beginSampling(steps)) {
                    predict(model, sample, steps[0], cond, out, b);
                    inSession = predict(model, sample, steps[1], otherCond, out, b);
                }
                double err = OpTesting.relativeError(inSession, predict(model, sample, steps[1], otherCond, out, b));
                assertTrue(err < FORWARD_TOL, variant + ": another cond after the session's first step: " + err);
            }
        }
    }

    /** The model's prediction at timestep t for every batch entry. */
    private static float[] predict(TransformerForDiffusion model, Tensor sample, float t, Tensor cond, Tensor out,
                                   int b) {
        float[] ts = new float[b];
        java.util.Arrays.fill(ts, t);
        try (Tensor timesteps = sample.backend().of(ts, b)) {
            model.predict(sample, timesteps, cond, out);
            return out.toFloatArray();
        }
    }

    // ---- memory and bad inputs --------------------------------------------------------------------------------------

    @Test
    void memoryReturnsToBaselineAfterClose() {
        Backend cpu = OpTesting.cpu();
        long before = cpu.liveBytes();
        Safetensors f = TfdFixtures.variant("b");
        try (TransformerForDiffusion model = new TransformerForDiffusion(cpu, TfdFixtures.config(f));
             Tensor sample = f.tensor("input.sample", cpu);
             Tensor timesteps = f.tensor("input.timesteps", cpu);
             Tensor cond = f.tensor("input.cond", cpu);
             Tensor g = f.tensor("grad_out", cpu)) {
            model.loadWeights(f);
            model.forward(sample, timesteps, cond, true, 1L);
            model.backward(g);
            try (Denoiser.Session ignored = model.beginSampling(null)) { // packs the decoder's weights
                model.forward(sample, timesteps, cond, false, 0L);
            }
            assertTrue(cpu.liveBytes() > before);
        }
        assertEquals(before, cpu.liveBytes(), "every activation, gradient and mask freed");
    }

    @Test
    void badInputShapesAreErrorsNamingTheShape() {
        Backend cpu = OpTesting.cpu();
        Safetensors f = TfdFixtures.variant("a"); // horizon 8, input_dim 2, n_obs_steps 2, cond_dim 6
        try (TransformerForDiffusion model = new TransformerForDiffusion(cpu, TfdFixtures.config(f));
             Tensor sample = cpu.zeros(3, 8, 2);
             Tensor shortSample = cpu.zeros(3, 7, 2);
             Tensor timesteps = cpu.zeros(3);
             Tensor fourSteps = cpu.zeros(4);
             Tensor intSteps = cpu.zeros(DType.I32, 3);
             Tensor cond = cpu.zeros(3, 2, 6);
             Tensor wideCond = cpu.zeros(3, 2, 5);
             Tensor badDout = cpu.zeros(3, 8, 3)) {
            assertMessage(() -> model.forward(shortSample, timesteps, cond, false, 0), "(3, 7, 2)", "horizon");
            assertMessage(() -> model.forward(sample, fourSteps, cond, false, 0), "(4,)", "timesteps");
            assertMessage(() -> model.forward(sample, intSteps, cond, false, 0), "I32", "timesteps");
            assertMessage(() -> model.forward(sample, timesteps, wideCond, false, 0), "(3, 2, 5)", "cond_dim");
            assertMessage(() -> model.forward(sample, timesteps, null, false, 0), "null", "cond");
            assertThrows(IllegalStateException.class, () -> model.backward(badDout), "backward before forward");
            model.forward(sample, timesteps, cond, true, 0);
            assertMessage(() -> model.backward(badDout), "(3, 8, 3)", "dout");
        }
    }

    @Test
    void weightsOfAnotherConfigurationAreRejectedByName() {
        Backend cpu = OpTesting.cpu();
        Safetensors b = TfdFixtures.variant("b"); // transformer condition encoder, no masks
        try (TransformerForDiffusion model = new TransformerForDiffusion(cpu, TfdFixtures.config(
                TfdFixtures.variant("a")))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.loadWeights(b));
            assertTrue(e.getMessage().contains("model.encoder.layers.0"), e.getMessage());
        }
    }

    private static void assertMessage(Runnable r, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' lacks '" + part + "'");
        }
        assertFalse(e.getMessage().isBlank());
    }
}
