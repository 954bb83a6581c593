package org.cotrain.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.cotrain.io.Safetensors;
import org.cotrain.ops.OpTesting;
import org.cotrain.random.Philox;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The image encoder against PyTorch: tools/pytorch/resnet18_gn_encoder.py builds DP's encoder (torchvision resnet18,
 * BatchNorm -> GroupNorm(C/16, C), no avgpool/fc, robomimic's SpatialSoftmax, Linear(64, 64), ReLU), fills the
 * 11,197,088 weights from a Philox formula that this test repeats, runs two 96x96 frames cropped to 84x84, and stores
 * the outputs and the gradients of sum(output * g) (whole for tensors up to 40,000 elements; sampled elements plus a
 * random projection for the big convolutions). Forward within 1e-4, gradients within 1e-3 (relative error as
 * OpTesting defines it: max |diff| / max |reference|); DP's state_dict names, order and parameter count.
 */
class ImageEncoderParityTest {
    private static final double FORWARD_TOL = 1e-4;
    private static final double GRAD_TOL = 1e-3;
    private static final long WEIGHT_SEED = 1000;
    private static final long INDEX_SEED = 5000;
    private static final long PROJECTION_SEED = 6000;

    static Safetensors fixture() {
        String resource = "/fixtures/resnet18_gn_encoder.safetensors";
        try (InputStream in = ImageEncoderParityTest.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + resource
                        + " (regenerate with /usr/bin/python3 tools/pytorch/resnet18_gn_encoder.py)");
            }
            return Safetensors.read(in.readAllBytes(), resource);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The fixture's weight formula (the script's docstring): parameter k, element i, from Philox at (1000 + k, i). */
    static float[] fixtureValues(Parameter p, int k) {
        int n = Math.toIntExact(p.numel());
        int[] shape = p.shape();
        String leaf = p.name().substring(p.name().lastIndexOf('.') + 1);
        float scale;
        float base = 0f;
        if (leaf.equals("bias")) {
            scale = 0.1f;
        } else if (shape.length == 1) { // GroupNorm weight
            scale = 0.2f;
            base = 1f;
        } else {
            long fanIn = p.numel() / shape[0];
            scale = (float) Math.sqrt(6.0 / fanIn);
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            float u = Philox.uniform(WEIGHT_SEED + k, i) * 2f - 1f;
            v[i] = base == 0f ? u * scale : base + u * scale;
        }
        return v;
    }

    static void fillFixtureWeights(ImageEncoder enc) {
        List<Parameter> ps = enc.parameters();
        for (int k = 0; k < ps.size(); k++) {
            ps.get(k).value().copyFrom(fixtureValues(ps.get(k), k));
        }
    }

    static byte[] images(Safetensors f) {
        int[] v = f.ints("input.images");
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    /** The worst errors of a run, printed for the record. */
    record Errors(double output, double features, double worstGrad, String worstName) {}

    static Errors check(Backend backend) {
        Safetensors f = fixture();
        long before = backend.liveBytes();
        Errors errors;
        try (ImageEncoder enc = new ImageEncoder(backend, "image", 84, 84)) {
            assertEquals(List.of(f.metadata().get("state_dict").split(",")), enc.stateDictNames(), "state_dict");
            List<String> names = new ArrayList<>();
            for (Parameter p : enc.parameters()) {
                names.add(p.name());
            }
            assertEquals(List.of(f.metadata().get("parameters").split(",")), names, "parameter names and order");
            assertEquals(11_197_088L, enc.parameterCount());
            assertEquals(Long.parseLong(f.metadata().get("parameter_count")), enc.parameterCount());
            for (Map.Entry<String, Tensor> b : enc.buffers().entrySet()) {
                assertArrayEquals(f.floats("buffer." + b.getKey()), b.getValue().toFloatArray(), b.getKey());
            }
            fillFixtureWeights(enc);

            int[] imgShape = f.shape("input.images");
            try (Tensor img = backend.of(images(f), imgShape); Tensor offsets = f.tensor("input.offsets", backend);
                 Tensor g = f.tensor("grad_out", backend);
                 CropRandomizer crop = new CropRandomizer(backend, 84, 84)) {
                // the preprocessing alone: the same float32 arithmetic, so equal to the last bit or nearly
                double cropErr = OpTesting.relativeError(crop.forward(img, offsets).toFloatArray(),
                        f.floats("input.cropped"));
                assertTrue(cropErr < 1e-7, "cropped input relative error " + cropErr);

                enc.zeroGrad();
                Tensor out = enc.forward(img, offsets);
                double featErr = OpTesting.relativeError(enc.lastFeatures().toFloatArray(), f.floats("features"));
                double kpErr = OpTesting.relativeError(enc.lastKeypoints().toFloatArray(), f.floats("keypoints"));
                double outErr = OpTesting.relativeError(out.toFloatArray(), f.floats("output"));
                assertTrue(featErr < FORWARD_TOL, "trunk features relative error " + featErr);
                assertTrue(kpErr < FORWARD_TOL, "keypoints relative error " + kpErr);
                assertTrue(outErr < FORWARD_TOL, "output relative error " + outErr);

                enc.backward(g);
                double worst = 0;
                String worstName = "";
                List<Parameter> ps = enc.parameters();
                for (int k = 0; k < ps.size(); k++) {
                    Parameter p = ps.get(k);
                    if (p.name().endsWith(".nets.1.nets.bias")) {
                        // The keypoint convolution's bias adds one constant to a whole map, which the spatial
                        // softmax ignores: its exact gradient is 0, and both sides hold rounding noise only.
                        double scale = maxAbs(ps.get(k - 1).grad().toFloatArray());
                        assertTrue(maxAbs(p.grad().toFloatArray()) < 1e-5 * scale, p.name() + " should be ~0");
                        assertTrue(maxAbs(f.floats("grad." + p.name())) < 1e-5 * scale, "PyTorch's " + p.name());
                        continue;
                    }
                    double err = gradientError(f, p, k);
                    assertTrue(err < GRAD_TOL, "gradient of " + p.name() + ": relative error " + err);
                    if (err > worst) {
                        worst = err;
                        worstName = p.name();
                    }
                }
                errors = new Errors(outErr, featErr, worst, worstName);
            }
        }
        assertEquals(before, backend.liveBytes(), "every tensor of the encoder is freed on close");
        return errors;
    }

    /**
     * The gradient's relative error: the whole tensor where the fixture has it; else the sampled elements against
     * the tensor's max |g|, and the random projection sum(g r) against ||g||_2 (its standard deviation for random
     * signs), the larger of the two.
     */
    static double gradientError(Safetensors f, Parameter p, int k) {
        float[] grad = p.grad().toFloatArray();
        if (f.contains("grad." + p.name())) {
            return OpTesting.relativeError(grad, f.floats("grad." + p.name()));
        }
        int[] idx = f.ints("grad_index." + p.name());
        float[] ref = f.floats("grad_sample." + p.name());
        float[] stats = f.floats("grad_stats." + p.name()); // max |g|, ||g||_2, sum g r
        for (int j = 0; j < idx.length; j++) {
            assertEquals(Philox.randint(INDEX_SEED + k, j, 0, grad.length), idx[j], "sample index " + j);
        }
        double sampleErr = 0;
        for (int j = 0; j < idx.length; j++) {
            sampleErr = Math.max(sampleErr, Math.abs(grad[idx[j]] - ref[j]));
        }
        sampleErr /= stats[0];
        double maxAbs = 0;
        double sumSq = 0;
        double proj = 0;
        for (int i = 0; i < grad.length; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(grad[i]));
            sumSq += (double) grad[i] * grad[i];
            proj += Philox.uniform(PROJECTION_SEED + k, i) >= 0.5f ? grad[i] : -grad[i];
        }
        double maxErr = Math.abs(maxAbs - stats[0]) / stats[0];
        double normErr = Math.abs(Math.sqrt(sumSq) - stats[1]) / stats[1];
        double projErr = Math.abs(proj - stats[2]) / stats[1];
        return Math.max(Math.max(sampleErr, projErr), Math.max(maxErr, normErr));
    }

    static double maxAbs(float[] a) {
        double m = 0;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    @Test
    void matchesPyTorchOnCpu() {
        Errors e = check(OpTesting.cpu());
        System.out.printf("Image encoder parity (cpu): output %.2e, trunk features %.2e, worst parameter gradient "
                + "%.2e (%s)%n", e.output(), e.features(), e.worstGrad(), e.worstName());
    }

    @Test
    void matchesPyTorchOnCuda() {
        Backend cuda = OpTesting.cudaOrSkip();
        Errors e = check(cuda);
        System.out.printf("Image encoder parity (cuda): output %.2e, trunk features %.2e, worst parameter gradient "
                + "%.2e (%s)%n", e.output(), e.features(), e.worstGrad(), e.worstName());
    }

    @Test
    void fixtureFormulaIsTheScripts() {
        // guards the Java copy of the formula: the fixture's own metadata names the seeds this test uses
        String config = fixture().metadata().get("config");
        for (String s : new String[] {"\"weight_seed\": 1000", "\"index_seed\": 5000", "\"projection_seed\": 6000",
            "\"crop\": [84, 84]", "\"key\": \"image\""}) {
            assertTrue(config.contains(s), "fixture config " + config + " lacks " + s);
        }
        assertTrue(Arrays.asList(fixture().metadata().get("sampled_gradients").split(","))
                .contains("obs_encoder.obs_nets.image.nets.0.nets.7.1.conv2.weight"));
    }
}
