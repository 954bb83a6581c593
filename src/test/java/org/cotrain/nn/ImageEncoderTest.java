package org.cotrain.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.cotrain.ops.OpTesting;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The image encoder's structure and behaviour beyond the PyTorch parity test: DP's initialisation, names per camera
 * key, feature-map sizes for other crops, training crops (seeded) against evaluation crops, gradients accumulating,
 * memory, bad inputs; CUDA against the CPU.
 */
class ImageEncoderTest {

    private static byte[] frames(long seed, int n) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void initialisationFollowsTorchvisionAndTorchDefaults() {
        Backend cpu = OpTesting.cpu();
        try (ImageEncoder enc = new ImageEncoder(cpu, "agentview_image", 76, 76)) {
            assertEquals(11_197_088L, enc.parameterCount(), "the size does not depend on the crop");
            enc.initialize(123L);
            for (Parameter p : enc.parameters()) {
                float[] v = p.value().toFloatArray();
                double mean = 0;
                double sq = 0;
                double max = 0;
                for (float x : v) {
                    mean += x;
                    sq += (double) x * x;
                    max = Math.max(max, Math.abs(x));
                }
                mean /= v.length;
                double std = Math.sqrt(sq / v.length - mean * mean);
                String n = p.name();
                assertTrue(p.weightDecay(), n + " decays with the encoder's group");
                if (n.contains(".nets.0.") && p.shape().length == 4) {
                    // kaiming_normal_(fan_out, relu): std sqrt(2 / (out k k))
                    int[] s = p.shape();
                    double expected = Math.sqrt(2.0 / (s[0] * s[2] * s[3]));
                    assertEquals(expected, std, expected * (v.length > 10000 ? 0.03 : 0.1), n + " std");
                } else if (n.contains(".nets.0.") && n.endsWith(".weight")) {
                    assertEquals(1.0, mean, 0.0, n + " GroupNorm weight = 1");
                    assertEquals(0.0, std, 0.0, n);
                } else if (n.contains(".nets.0.")) {
                    assertEquals(0.0, max, 0.0, n + " GroupNorm bias = 0");
                } else {
                    // the keypoint convolution (fan_in 512) and the Linear (fan_in 64): U(-1/sqrt(fan_in), ..)
                    double bound = n.contains(".nets.1.") ? 1 / Math.sqrt(512) : 1 / Math.sqrt(64);
                    assertTrue(max <= bound && max > 0.8 * bound, n + " within U(-" + bound + ", " + bound + ")");
                    assertEquals(bound / Math.sqrt(3), std, 0.15 * bound, n + " std of the uniform");
                }
            }
            assertTrue(enc.parameters().get(0).name().startsWith("obs_encoder.obs_nets.agentview_image.nets.0."));
            assertArrayEquals(new int[] {1, 9}, enc.buffers().get(
                    "obs_encoder.obs_nets.agentview_image.nets.1.pos_x").shape(), "a 76x76 crop gives 3x3 maps");
        }
    }

    @Test
    void featureMapSizes() {
        Backend cpu = OpTesting.cpu();
        try (ResNet18Conv trunk = new ResNet18Conv(cpu, "", 3)) {
            assertArrayEquals(new int[] {3, 3}, trunk.outputSize(84, 84));
            assertArrayEquals(new int[] {3, 3}, trunk.outputSize(96, 96));
            assertArrayEquals(new int[] {7, 7}, trunk.outputSize(224, 224));
            assertArrayEquals(new int[] {1, 2}, trunk.outputSize(7, 33));
        }
    }

    @Test
    void trainingCropsAreSeededAndEvaluationIsTheCentre() {
        Backend cpu = OpTesting.cpu();
        int b = 3;
        byte[] img = frames(1, b * 96 * 96 * 3);
        try (ImageEncoder enc = new ImageEncoder(cpu, "image", 84, 84);
             Tensor images = cpu.of(img, b, 96, 96, 3);
             Tensor centre = cpu.of(new int[] {6, 6, 6, 6, 6, 6}, b, 2)) {
            enc.initialize(7L);
            float[] eval = enc.forward(images, false, 0L, 0L).toFloatArray();
            assertArrayEquals(eval, enc.forward(images, centre).toFloatArray(), "evaluation crops the centre (6, 6)");
            float[] train1 = enc.forward(images, true, 42L, 100L).toFloatArray();
            float[] train2 = enc.forward(images, true, 42L, 100L).toFloatArray();
            float[] train3 = enc.forward(images, true, 43L, 100L).toFloatArray();
            assertArrayEquals(train1, train2, "same seed, same crops, same features");
            assertFalse(java.util.Arrays.equals(train1, train3), "another seed crops elsewhere");
            try (Tensor offsets = cpu.zeros(DType.I32, b, 2)) {
                org.cotrain.ops.Ops.randomCropOffsets(offsets, 96, 96, 84, 84, 42L, 100L);
                assertArrayEquals(train1, enc.forward(images, offsets).toFloatArray(), "the drawn offsets");
            }
        }
    }

    @Test
    void gradientsAccumulateUntilZeroed() {
        Backend cpu = OpTesting.cpu();
        int b = 2;
        // a 64x64 crop gives 2x2 keypoint maps (a 1x1 map would make the softmax constant: no gradient at all)
        try (ImageEncoder enc = new ImageEncoder(cpu, "image", 64, 64);
             Tensor images = cpu.of(frames(2, b * 72 * 72 * 3), b, 72, 72, 3);
             Tensor g = cpu.of(OpTesting.toFloat(OpTesting.randn(3, b * 64)), b, 64)) {
            enc.initialize(5L);
            enc.zeroGrad();
            enc.forward(images, false, 0, 0);
            enc.backward(g);
            Parameter conv1 = enc.parameters().get(0);
            float[] once = conv1.grad().toFloatArray();
            assertTrue(ImageEncoderParityTest.maxAbs(once) > 0, "conv1 receives a gradient");
            enc.forward(images, false, 0, 0);
            enc.backward(g);
            float[] twice = conv1.grad().toFloatArray();
            // Why not 2 * once exactly: conv1's weight gradient is a GEMM over K = B * 32 * 32 = 2048 output positions,
            // and the second backward adds it into the accumulated gradient (beta = 1), where OpenBLAS adds its
            // partial sums (per K block and thread: a grouping that depends on the kernel set and the thread count)
            // one at a time. Each pass's element errs by at most gamma_K * sum_k |a_k b_k| (gamma_K ~ K u, u = 2^-24),
            // and sum_k |a_k b_k| is bounded by K max|a| max|b|; we take the tensor's scale max|once| for it times
            // 2 (two passes): 2 K u max|once| = 2.4e-4 max|once| (seen: 1e-5 of an element under Cooperlake's kernels
            // on 3 threads). A gradient that did not accumulate (twice = once) or was zeroed between the passes is off
            // by the element itself, up to max|once|: 4000 times the bound at the largest element.
            double scale = ImageEncoderParityTest.maxAbs(once);
            double bound = 2 * (b * 32 * 32) * Math.ulp(1.0f) / 2 * scale;
            for (int i = 0; i < once.length; i++) {
                assertEquals(2 * once[i], twice[i], bound, "accumulated at " + i);
            }
            int largest = 0;
            for (int i = 1; i < once.length; i++) if (Math.abs(once[i]) > Math.abs(once[largest])) largest = i;
            assertTrue(Math.abs(twice[largest] - once[largest]) > 0.5 * scale, "the second pass added to the first");
            enc.zeroGrad();
            assertEquals(0.0, ImageEncoderParityTest.maxAbs(conv1.grad().toFloatArray()));
        }
    }

    @Test
    void memoryIsReturnedAndBadInputsAreRejected() {
        Backend cpu = OpTesting.cpu();
        long before = cpu.liveBytes();
        try (ImageEncoder enc = new ImageEncoder(cpu, "image", 84, 84);
             Tensor wrongSize = cpu.zeros(DType.U8, 1, 80, 80, 3);
             Tensor floats = cpu.zeros(1, 96, 96, 3);
             Tensor cropped = cpu.zeros(1, 3, 76, 76)) {
            assertThrows(IllegalArgumentException.class, () -> enc.forward(wrongSize, false, 0, 0), "smaller than crop");
            assertThrows(IllegalArgumentException.class, () -> enc.forward(floats, false, 0, 0), "float frames");
            assertThrows(IllegalArgumentException.class, () -> enc.forwardCropped(cropped), "wrong crop");
            assertThrows(IllegalStateException.class, () -> {
                try (ImageEncoder fresh = new ImageEncoder(cpu, "image", 84, 84); Tensor g = cpu.zeros(1, 64)) {
                    fresh.backward(g);
                }
            });
        }
        assertEquals(before, cpu.liveBytes());
    }

    @Test
    void cudaMatchesCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        Backend cpu = OpTesting.cpu();
        int b = 8;
        byte[] img = frames(9, b * 96 * 96 * 3);
        float[] g = OpTesting.toFloat(OpTesting.randn(10, b * 64));
        try (ImageEncoder ec = new ImageEncoder(cpu, "image", 84, 84);
             ImageEncoder eg = new ImageEncoder(cuda, "image", 84, 84);
             Tensor ic = cpu.of(img, b, 96, 96, 3); Tensor ig = cuda.of(img, b, 96, 96, 3);
             Tensor gc = cpu.of(g, b, 64); Tensor gg = cuda.of(g, b, 64)) {
            ec.initialize(11L);
            eg.initialize(11L); // Philox: the same weights on both backends
            ec.zeroGrad();
            eg.zeroGrad();
            float[] oc = ec.forward(ic, true, 3L, 0L).toFloatArray();
            float[] og = eg.forward(ig, true, 3L, 0L).toFloatArray();
            OpTesting.assertClose("cuda encoder output", og, oc, 1e-4);
            ec.backward(gc);
            eg.backward(gg);
            for (int k = 0; k < ec.parameters().size(); k++) {
                Parameter pc = ec.parameters().get(k);
                if (pc.name().endsWith(".nets.1.nets.bias")) {
                    continue; // its exact gradient is 0 (see ImageEncoderParityTest)
                }
                OpTesting.assertClose("cuda gradient of " + pc.name(), eg.parameters().get(k).grad().toFloatArray(),
                        pc.grad().toFloatArray(), 1e-3);
            }
        }
    }
}
