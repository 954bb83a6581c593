package org.cotrain.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.cotrain.random.Philox;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * image.h: uint8 (B, H, W, C) frames to DP's normalised float (B, C, Ho, Wo), cropped at given offsets or centred
 * (torchvision's rounding), and robomimic's random crop offsets drawn from Philox.
 */
class ImageOpTest {

    private static byte[] frames(long seed, int n) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        b[0] = 0;
        b[n - 1] = (byte) 255;
        return b;
    }

    /** The reference, in float as DP computes it: (v / 255) * 2 - 1. */
    private static float[] reference(byte[] img, int[] offsets, int b, int h, int w, int c, int ho, int wo) {
        float[] out = new float[b * c * ho * wo];
        for (int n = 0; n < b; n++) {
            int top = offsets != null ? offsets[2 * n] : centre(h, ho);
            int left = offsets != null ? offsets[2 * n + 1] : centre(w, wo);
            for (int ch = 0; ch < c; ch++) {
                for (int i = 0; i < ho; i++) {
                    for (int j = 0; j < wo; j++) {
                        int v = img[((n * h + top + i) * w + left + j) * c + ch] & 0xFF;
                        out[((n * c + ch) * ho + i) * wo + j] = ((float) v / 255f) * 2f - 1f;
                    }
                }
            }
        }
        return out;
    }

    /** torchvision's center_crop: int(round((size - out) / 2.0)) with Python's half-to-even round. */
    private static int centre(int size, int out) {
        return (int) Math.rint((size - out) / 2.0);
    }

    private static float[] run(Backend be, byte[] img, int[] offsets, int b, int h, int w, int c, int ho, int wo) {
        try (Tensor ti = be.of(img, b, h, w, c); Tensor to = offsets == null ? null : be.of(offsets, b, 2);
             Tensor out = be.zeros(b, c, ho, wo)) {
            Ops.imageToFloat(ti, to, out);
            return out.toFloatArray();
        }
    }

    /** (b, h, w, c, ho, wo): DP's 96 -> 84 and 84 -> 76, odd margins (15: centre 7.5 -> 8; 13: 6.5 -> 6). */
    private static final int[][] CASES = {
        {2, 96, 96, 3, 84, 84}, {3, 84, 84, 3, 76, 76}, {2, 20, 23, 3, 5, 10}, {1, 7, 9, 1, 7, 9},
        {2, 19, 17, 3, 6, 2}, {4, 5, 6, 2, 3, 3},
    };

    @Test
    void cpuGivenOffsetsAndCentreCropMatchTheReference() {
        Backend cpu = OpTesting.cpu();
        for (int k = 0; k < CASES.length; k++) {
            int[] s = CASES[k];
            byte[] img = frames(k, s[0] * s[1] * s[2] * s[3]);
            Random r = new Random(100 + k);
            int[] offsets = new int[2 * s[0]];
            for (int n = 0; n < s[0]; n++) {
                offsets[2 * n] = r.nextInt(s[1] - s[4] + 1);
                offsets[2 * n + 1] = r.nextInt(s[2] - s[5] + 1);
            }
            offsets[0] = s[1] - s[4]; // the last row offset is valid
            String at = java.util.Arrays.toString(s);
            assertArrayEquals(reference(img, offsets, s[0], s[1], s[2], s[3], s[4], s[5]),
                    run(cpu, img, offsets, s[0], s[1], s[2], s[3], s[4], s[5]), "offsets " + at);
            assertArrayEquals(reference(img, null, s[0], s[1], s[2], s[3], s[4], s[5]),
                    run(cpu, img, null, s[0], s[1], s[2], s[3], s[4], s[5]), "centre " + at);
        }
    }

    @Test
    void centreCropRoundsHalvesToEvenAsTorchvision() {
        // margins 13 and 15 in a 1-channel frame whose pixel value is its row: the first output row tells the top
        Backend cpu = OpTesting.cpu();
        for (int[] m : new int[][] {{19, 6, 6}, {21, 6, 8}, {96, 84, 6}, {84, 76, 4}, {10, 3, 4}, {12, 3, 4}}) {
            int h = m[0];
            int ho = m[1];
            byte[] img = new byte[h * 2];
            for (int r = 0; r < h; r++) {
                img[2 * r] = (byte) r;
                img[2 * r + 1] = (byte) r;
            }
            float[] out = run(cpu, img, null, 1, h, 2, 1, ho, 2);
            int top = Math.round((out[0] + 1f) / 2f * 255f);
            assertEquals(m[2], top, "centre crop of " + ho + " out of " + h);
        }
    }

    @Test
    void valuesSpanMinusOneToOne() {
        Backend cpu = OpTesting.cpu();
        byte[] img = {0, (byte) 255, (byte) 128};
        float[] out = run(cpu, img, null, 1, 1, 1, 3, 1, 1);
        assertEquals(-1f, out[0]);
        assertEquals(1f, out[1]);
        assertEquals((128f / 255f) * 2f - 1f, out[2]);
    }

    @Test
    void randomOffsetsAreRobomimicsRangeFromPhilox() {
        Backend cpu = OpTesting.cpu();
        int b = 500;
        try (Tensor off = cpu.zeros(DType.I32, b, 2)) {
            Ops.randomCropOffsets(off, 96, 90, 84, 84, 42L, 1000L);
            int[] o = off.toIntArray();
            boolean[] seenTop = new boolean[12];
            for (int n = 0; n < b; n++) {
                assertEquals(Philox.randint(42L, 1000L + 2 * n, 0, 12), o[2 * n], "top of " + n);
                assertEquals(Philox.randint(42L, 1000L + 2 * n + 1, 0, 6), o[2 * n + 1], "left of " + n);
                assertTrue(o[2 * n] >= 0 && o[2 * n] < 12 && o[2 * n + 1] >= 0 && o[2 * n + 1] < 6);
                seenTop[o[2 * n]] = true;
            }
            for (int t = 0; t < 12; t++) {
                assertTrue(seenTop[t], "top offset " + t + " drawn in 500 samples");
            }
            // the whole image as crop: offset 0
            Ops.randomCropOffsets(off, 84, 84, 84, 84, 42L, 0L);
            assertArrayEquals(new int[2 * b], off.toIntArray());
        }
    }

    @Test
    void rejectsBadArguments() {
        Backend cpu = OpTesting.cpu();
        try (Tensor img = cpu.zeros(DType.U8, 2, 10, 10, 3); Tensor f = cpu.zeros(2, 10, 10, 3);
             Tensor out = cpu.zeros(2, 3, 8, 8); Tensor tooBig = cpu.zeros(2, 3, 11, 8);
             Tensor wrongC = cpu.zeros(2, 1, 8, 8); Tensor bad = cpu.of(new int[] {0, 0, 3, 0}, 2, 2);
             Tensor neg = cpu.of(new int[] {0, -1, 0, 0}, 2, 2); Tensor off3 = cpu.zeros(DType.I32, 3, 2)) {
            assertThrows(IllegalArgumentException.class, () -> Ops.imageToFloat(f, null, out), "float images");
            assertThrows(IllegalArgumentException.class, () -> Ops.imageToFloat(img, null, tooBig), "crop too big");
            assertThrows(IllegalArgumentException.class, () -> Ops.imageToFloat(img, null, wrongC), "channels");
            assertThrows(IllegalArgumentException.class, () -> Ops.imageToFloat(img, bad, out), "offset 3 > 2");
            assertThrows(IllegalArgumentException.class, () -> Ops.imageToFloat(img, neg, out), "offset -1");
            assertThrows(IllegalArgumentException.class, () -> Ops.imageToFloat(img, off3, out), "offsets shape");
            assertThrows(IllegalArgumentException.class, () -> Ops.randomCropOffsets(off3, 8, 8, 9, 8, 0, 0));
        }
    }

    @Test
    void byteTensorsRoundTrip() {
        Backend cpu = OpTesting.cpu();
        byte[] b = frames(7, 1000);
        try (Tensor t = cpu.of(b, 10, 100)) {
            assertEquals(DType.U8, t.dtype());
            assertEquals(1000, t.bytes());
            assertArrayEquals(b, t.toByteArray());
        }
    }

    @Test
    void cudaMatchesCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        Backend cpu = OpTesting.cpu();
        for (int k = 0; k < CASES.length; k++) {
            int[] s = CASES[k];
            byte[] img = frames(50 + k, s[0] * s[1] * s[2] * s[3]);
            try (Tensor offC = cpu.zeros(DType.I32, s[0], 2); Tensor offG = cuda.zeros(DType.I32, s[0], 2)) {
                Ops.randomCropOffsets(offC, s[1], s[2], s[4], s[5], 9L, 77L);
                Ops.randomCropOffsets(offG, s[1], s[2], s[4], s[5], 9L, 77L);
                int[] offsets = offC.toIntArray();
                assertArrayEquals(offsets, offG.toIntArray(), "random offsets");
                String at = java.util.Arrays.toString(s);
                assertArrayEquals(run(cpu, img, offsets, s[0], s[1], s[2], s[3], s[4], s[5]),
                        run(cuda, img, offsets, s[0], s[1], s[2], s[3], s[4], s[5]), "cuda offsets " + at);
                assertArrayEquals(run(cpu, img, null, s[0], s[1], s[2], s[3], s[4], s[5]),
                        run(cuda, img, null, s[0], s[1], s[2], s[3], s[4], s[5]), "cuda centre " + at);
            }
        }
        // a bad offset on the GPU poisons its sample with NaN instead of reading out of bounds
        byte[] img = frames(1, 2 * 10 * 10 * 3);
        float[] out = run(cuda, img, new int[] {0, 0, 5, 0}, 2, 10, 10, 3, 8, 8);
        assertTrue(Float.isNaN(out[out.length - 1]) && !Float.isNaN(out[0]));
        byte[] back;
        try (Tensor t = cuda.of(img, 2, 10, 10, 3)) {
            back = t.toByteArray();
        }
        assertArrayEquals(img, back, "uint8 round trip through device memory");
    }
}
