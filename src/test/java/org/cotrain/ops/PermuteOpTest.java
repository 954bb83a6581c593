package org.cotrain.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * permute.h: heads between (B, T, W) column blocks and the (B, NH, T, HS) attention layout. The ops are copies (or
 * one float addition per element), so the CPU must equal the Java reference exactly, and CUDA the CPU.
 */
class PermuteOpTest {
    /** b, t, nh, hs, w, col: packed qkv blocks, plain tensors, odd sizes, the T = NH = 1 concatenation case. */
    private static final int[][] CASES = {
            {2, 5, 4, 8, 96, 0}, {2, 5, 4, 8, 96, 32}, {2, 5, 4, 8, 96, 64}, {3, 7, 2, 3, 6, 0}, {1, 1, 1, 1, 1, 0},
            {3, 1, 1, 16, 48, 16}, {4, 9, 3, 5, 40, 17}, {64, 16, 4, 64, 768, 256}};

    // ---- Java reference ---------------------------------------------------------------------------------------------

    /** out[b, h, t, d] (+)= x[b, t, col + h * hs + d]. */
    static float[] refSplit(float[] x, float[] out0, int b, int t, int nh, int hs, int w, int col, boolean acc) {
        float[] out = out0.clone();
        for (int bi = 0; bi < b; bi++) {
            for (int ti = 0; ti < t; ti++) {
                for (int h = 0; h < nh; h++) {
                    for (int d = 0; d < hs; d++) {
                        int hi = ((bi * nh + h) * t + ti) * hs + d;
                        float v = x[(bi * t + ti) * w + col + h * hs + d];
                        out[hi] = acc ? out[hi] + v : v;
                    }
                }
            }
        }
        return out;
    }

    /** x[b, t, col + h * hs + d] (+)= y[b, h, t, d]; other columns unchanged. */
    static float[] refMerge(float[] y, float[] x0, int b, int t, int nh, int hs, int w, int col, boolean acc) {
        float[] x = x0.clone();
        for (int bi = 0; bi < b; bi++) {
            for (int ti = 0; ti < t; ti++) {
                for (int h = 0; h < nh; h++) {
                    for (int d = 0; d < hs; d++) {
                        int xi = (bi * t + ti) * w + col + h * hs + d;
                        float v = y[((bi * nh + h) * t + ti) * hs + d];
                        x[xi] = acc ? x[xi] + v : v;
                    }
                }
            }
        }
        return x;
    }

    static float[] split(Backend be, float[] x, float[] out0, int[] c, boolean acc) {
        try (Tensor tx = be.of(x, c[0], c[1], c[4]); Tensor to = be.of(out0, c[0], c[2], c[1], c[3])) {
            Ops.splitHeads(tx, c[5], to, acc);
            return to.toFloatArray();
        }
    }

    static float[] merge(Backend be, float[] y, float[] x0, int[] c, boolean acc) {
        try (Tensor ty = be.of(y, c[0], c[2], c[1], c[3]); Tensor tx = be.of(x0, c[0], c[1], c[4])) {
            Ops.mergeHeads(ty, tx, c[5], acc);
            return tx.toFloatArray();
        }
    }

    private static int xSize(int[] c) {
        return c[0] * c[1] * c[4];
    }

    private static int headSize(int[] c) {
        return c[0] * c[2] * c[1] * c[3];
    }

    // ---- CPU against the reference ----------------------------------------------------------------------------------

    @Test
    void cpuSplitAndMergeEqualTheReference() {
        for (int[] c : CASES) {
            for (boolean acc : new boolean[] {false, true}) {
                float[] x = OpTesting.toFloat(OpTesting.randn(1, xSize(c)));
                float[] heads0 = OpTesting.toFloat(OpTesting.randn(2, headSize(c)));
                float[] y = OpTesting.toFloat(OpTesting.randn(3, headSize(c)));
                String what = java.util.Arrays.toString(c) + " accumulate=" + acc;
                assertArrayEquals(refSplit(x, heads0, c[0], c[1], c[2], c[3], c[4], c[5], acc),
                        split(OpTesting.cpu(), x, heads0, c, acc), "split " + what);
                assertArrayEquals(refMerge(y, x, c[0], c[1], c[2], c[3], c[4], c[5], acc),
                        merge(OpTesting.cpu(), y, x, c, acc), "merge " + what);
            }
        }
    }

    @Test
    void mergeLeavesOtherColumnsAndSplitUndoesIt() {
        int[] c = {2, 5, 4, 8, 96, 32};
        float[] x = OpTesting.toFloat(OpTesting.randn(4, xSize(c)));
        float[] y = OpTesting.toFloat(OpTesting.randn(5, headSize(c)));
        float[] merged = merge(OpTesting.cpu(), y, x, c, false);
        for (int r = 0; r < c[0] * c[1]; r++) {
            for (int j = 0; j < c[4]; j++) {
                if (j < 32 || j >= 64) {
                    assertEquals(x[r * c[4] + j], merged[r * c[4] + j], 0f, "column " + j + " outside the block");
                }
            }
        }
        assertArrayEquals(y, split(OpTesting.cpu(), merged, new float[headSize(c)], c, false), "split(merge(y)) = y");
    }

    /** merge is the adjoint of split: <split(x), y> = <x, merge(y)>, so each is the other's backward. */
    @Test
    void mergeIsTheBackwardOfSplit() {
        int[] c = {3, 7, 2, 3, 10, 4};
        double[] x = OpTesting.toDouble(OpTesting.toFloat(OpTesting.randn(6, xSize(c))));
        double[] dy = OpTesting.toDouble(OpTesting.toFloat(OpTesting.randn(7, headSize(c))));
        double[] numerical = OpTesting.numericalGradient(xs -> OpTesting.dot(dy,
                OpTesting.toDouble(refSplit(OpTesting.toFloat(xs), new float[headSize(c)], c[0], c[1], c[2], c[3],
                        c[4], c[5], false))), x, 1e-2);
        float[] dx0 = OpTesting.toFloat(OpTesting.randn(8, xSize(c)));
        float[] dx = merge(OpTesting.cpu(), OpTesting.toFloat(dy), dx0, c, true);
        for (int i = 0; i < dx.length; i++) {
            assertEquals(dx0[i] + numerical[i], dx[i], 1e-4, "dx[" + i + "]");
        }
    }

    @Test
    void rejectsBlocksOutsideTheRowAndMismatchedShapes() {
        Backend cpu = OpTesting.cpu();
        try (Tensor x = cpu.zeros(2, 5, 96); Tensor heads = cpu.zeros(2, 4, 5, 8); Tensor wrongT = cpu.zeros(2, 4, 6, 8);
             Tensor ints = cpu.zeros(org.cotrain.tensor.DType.I32, 2, 5, 96)) {
            var e = assertThrows(IllegalArgumentException.class, () -> Ops.splitHeads(x, 65, heads, false));
            assertTrue(e.getMessage().contains("does not fit"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Ops.mergeHeads(heads, x, -1, false));
            assertThrows(IllegalArgumentException.class, () -> Ops.splitHeads(x, 0, wrongT, false));
            assertThrows(IllegalArgumentException.class, () -> Ops.splitHeads(x.view(10, 96), 0, heads, false));
            assertThrows(IllegalArgumentException.class, () -> Ops.mergeHeads(heads, ints, 0, false));
            assertThrows(IllegalArgumentException.class,
                    () -> Ops.splitHeads(heads.view(2, 5, 32), 0, heads, false), "in place");
            Ops.splitHeads(x, 64, heads, false); // the last block fits
        }
    }

    // ---- CUDA against the CPU ---------------------------------------------------------------------------------------

    @Test
    void cudaEqualsCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        for (int[] c : CASES) {
            for (boolean acc : new boolean[] {false, true}) {
                float[] x = OpTesting.toFloat(OpTesting.randn(11, xSize(c)));
                float[] heads0 = OpTesting.toFloat(OpTesting.randn(12, headSize(c)));
                float[] y = OpTesting.toFloat(OpTesting.randn(13, headSize(c)));
                String what = java.util.Arrays.toString(c) + " accumulate=" + acc;
                assertArrayEquals(split(OpTesting.cpu(), x, heads0, c, acc), split(cuda, x, heads0, c, acc),
                        "cuda split " + what);
                assertArrayEquals(merge(OpTesting.cpu(), y, x, c, acc), merge(cuda, y, x, c, acc),
                        "cuda merge " + what);
            }
        }
    }
}
