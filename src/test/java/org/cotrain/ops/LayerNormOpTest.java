package org.cotrain.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * layernorm.h: LayerNorm over the last dimension as torch.nn.LayerNorm (biased variance, eps inside the root), the
 * forward saving mean and rstd per row, the backward accumulating into dx, dweight and dbias.
 */
class LayerNormOpTest {
    /** (rows, C): C = 1, non-multiples of 4/8/32, the model's 256, and a 3-D (B, T, C) case. */
    private static final int[][] SHAPES = {
        {1, 1}, {3, 1}, {1, 7}, {3, 7}, {5, 33}, {17, 257}, {64, 256}, {2, 3, 5}, {4, 16, 256}, {257, 3}, {9, 1000},
    };

    // ---- float64 reference ----------------------------------------------------------------------------------------

    /** Forward of (rows, c) x: returns {y, mean, rstd}. */
    private static double[][] refForward(double[] x, double[] w, double[] b, int rows, int c, double eps) {
        double[] y = new double[rows * c];
        double[] mean = new double[rows];
        double[] rstd = new double[rows];
        for (int r = 0; r < rows; r++) {
            double m = 0;
            for (int i = 0; i < c; i++) {
                m += x[r * c + i];
            }
            m /= c;
            double v = 0;
            for (int i = 0; i < c; i++) {
                v += (x[r * c + i] - m) * (x[r * c + i] - m);
            }
            v /= c; // biased
            double s = 1 / Math.sqrt(v + eps);
            for (int i = 0; i < c; i++) {
                y[r * c + i] = (x[r * c + i] - m) * s * w[i] + b[i];
            }
            mean[r] = m;
            rstd[r] = s;
        }
        return new double[][] {y, mean, rstd};
    }

    /**
     * Backward, accumulating: dx += rstd (g - mean_c g - xhat mean_c(g xhat)) with g = dy w; dw += sum_r dy xhat;
     * db += sum_r dy.
     */
    private static void refBackward(double[] dy, double[] x, double[] w, double[] mean, double[] rstd, double[] dx,
                                    double[] dw, double[] db, int rows, int c) {
        for (int r = 0; r < rows; r++) {
            double gMean = 0;
            double gxMean = 0;
            for (int i = 0; i < c; i++) {
                double xhat = (x[r * c + i] - mean[r]) * rstd[r];
                double g = dy[r * c + i] * w[i];
                gMean += g / c;
                gxMean += g * xhat / c;
                dw[i] += dy[r * c + i] * xhat;
                db[i] += dy[r * c + i];
            }
            for (int i = 0; i < c; i++) {
                double xhat = (x[r * c + i] - mean[r]) * rstd[r];
                double g = dy[r * c + i] * w[i];
                dx[r * c + i] += rstd[r] * (g - gMean - xhat * gxMean);
            }
        }
    }

    // ---- inputs and the op through Ops ----------------------------------------------------------------------------

    /** x = offset_r + scale_r N(0, 1) per row, so rows have means and spreads of their own. */
    private static float[] inputs(long seed, int rows, int c) {
        double[] z = OpTesting.randn(seed, rows * c);
        double[] shift = OpTesting.uniform(seed + 1, rows, -5, 5);
        double[] spread = OpTesting.uniform(seed + 2, rows, 0.1, 3);
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < c; i++) {
                z[r * c + i] = shift[r] + spread[r] * z[r * c + i];
            }
        }
        return OpTesting.toFloat(z);
    }

    private static float[] weight(long seed, int c) {
        double[] w = OpTesting.randn(seed, c);
        for (int i = 0; i < c; i++) {
            w[i] = 1 + 0.5 * w[i];
        }
        return OpTesting.toFloat(w);
    }

    private static int[] rowsAndC(int[] shape) {
        int c = shape[shape.length - 1];
        return new int[] {(int) (Tensor.numel(shape) / c), c};
    }

    /** Returns {y, mean, rstd} from the op. */
    private static float[][] forward(Backend be, float[] x, float[] w, float[] b, int[] shape, float eps) {
        int[] rc = rowsAndC(shape);
        try (Tensor tx = be.of(x, shape); Tensor tw = be.of(w, rc[1]); Tensor tb = be.of(b, rc[1]);
                Tensor ty = be.zeros(shape); Tensor tm = be.zeros(rc[0]); Tensor ts = be.zeros(rc[0])) {
            Ops.layerNormForward(tx, tw, tb, ty, tm, ts, eps);
            return new float[][] {ty.toFloatArray(), tm.toFloatArray(), ts.toFloatArray()};
        }
    }

    /** Returns {dx, dweight, dbias} from the op, starting from dx0, dw0, db0. */
    private static float[][] backward(Backend be, float[] dy, float[] x, float[] w, float[] mean, float[] rstd,
                                      float[] dx0, float[] dw0, float[] db0, int[] shape) {
        int[] rc = rowsAndC(shape);
        try (Tensor tdy = be.of(dy, shape); Tensor tx = be.of(x, shape); Tensor tw = be.of(w, rc[1]);
                Tensor tm = be.of(mean, rc[0]); Tensor ts = be.of(rstd, rc[0]); Tensor tdx = be.of(dx0, shape);
                Tensor tdw = be.of(dw0, rc[1]); Tensor tdb = be.of(db0, rc[1])) {
            Ops.layerNormBackward(tdy, tx, tw, tm, ts, tdx, tdw, tdb);
            return new float[][] {tdx.toFloatArray(), tdw.toFloatArray(), tdb.toFloatArray()};
        }
    }

    // ---- the reference against finite differences ---------------------------------------------------------------

    @Test
    void referenceBackwardMatchesNumericalGradient() {
        for (int[] rc : new int[][] {{3, 7}, {2, 1}, {4, 33}}) {
            int rows = rc[0];
            int c = rc[1];
            double eps = 1e-5;
            double[] x = OpTesting.toDouble(inputs(1, rows, c));
            double[] w = OpTesting.toDouble(weight(2, c));
            double[] b = OpTesting.randn(3, c);
            double[] dy = OpTesting.randn(4, rows * c);
            double[][] fwd = refForward(x, w, b, rows, c, eps);
            double[] dx = new double[rows * c];
            double[] dw = new double[c];
            double[] db = new double[c];
            refBackward(dy, x, w, fwd[1], fwd[2], dx, dw, db, rows, c);
            String at = " (" + rows + ", " + c + ")";
            OpTesting.assertClose("reference dx" + at, dx, OpTesting.numericalGradient(
                    xs -> OpTesting.dot(dy, refForward(xs, w, b, rows, c, eps)[0]), x, 1e-6), 1e-6);
            OpTesting.assertClose("reference dweight" + at, dw, OpTesting.numericalGradient(
                    ws -> OpTesting.dot(dy, refForward(x, ws, b, rows, c, eps)[0]), w, 1e-6), 1e-6);
            OpTesting.assertClose("reference dbias" + at, db, OpTesting.numericalGradient(
                    bs -> OpTesting.dot(dy, refForward(x, w, bs, rows, c, eps)[0]), b, 1e-6), 1e-6);
        }
    }

    // ---- CPU against the reference --------------------------------------------------------------------------------

    @Test
    void cpuForwardMatchesReference() {
        for (int[] shape : SHAPES) {
            for (float eps : new float[] {1e-5f, 1e-2f}) {
                int[] rc = rowsAndC(shape);
                float[] x = inputs(10 + rc[0], rc[0], rc[1]);
                float[] w = weight(20 + rc[1], rc[1]);
                float[] b = OpTesting.toFloat(OpTesting.randn(30 + rc[1], rc[1]));
                double[][] expected = refForward(OpTesting.toDouble(x), OpTesting.toDouble(w), OpTesting.toDouble(b),
                        rc[0], rc[1], eps);
                float[][] got = forward(OpTesting.cpu(), x, w, b, shape, eps);
                String at = " " + Tensor.shapeString(shape) + " eps=" + eps;
                OpTesting.assertClose("y" + at, got[0], expected[0], 1e-5);
                OpTesting.assertClose("mean" + at, got[1], expected[1], 1e-5);
                OpTesting.assertClose("rstd" + at, got[2], expected[2], 1e-5);
            }
        }
    }

    @Test
    void cpuBackwardMatchesReferenceAndAccumulates() {
        for (int[] shape : SHAPES) {
            int[] rc = rowsAndC(shape);
            int rows = rc[0];
            int c = rc[1];
            float[] x = inputs(40 + rows, rows, c);
            float[] w = weight(50 + c, c);
            float[] b = OpTesting.toFloat(OpTesting.randn(60 + c, c));
            float[] dy = OpTesting.toFloat(OpTesting.randn(70 + rows, rows * c));
            // the op's own saved statistics, as in training
            float[][] fwd = forward(OpTesting.cpu(), x, w, b, shape, 1e-5f);
            // non-zero gradient buffers: the op must add to them
            float[] dx0 = OpTesting.toFloat(OpTesting.randn(80, rows * c));
            float[] dw0 = OpTesting.toFloat(OpTesting.randn(81, c));
            float[] db0 = OpTesting.toFloat(OpTesting.randn(82, c));
            double[] dx = new double[rows * c];
            double[] dw = new double[c];
            double[] db = new double[c];
            refBackward(OpTesting.toDouble(dy), OpTesting.toDouble(x), OpTesting.toDouble(w),
                    OpTesting.toDouble(fwd[1]), OpTesting.toDouble(fwd[2]), dx, dw, db, rows, c);
            float[][] got = backward(OpTesting.cpu(), dy, x, w, fwd[1], fwd[2], dx0, dw0, db0, shape);
            String at = " " + Tensor.shapeString(shape);
            // the increments alone (got - initial) against the reference, then the totals
            OpTesting.assertClose("dx increment" + at, minus(got[0], dx0), dx, 1e-5);
            OpTesting.assertClose("dweight increment" + at, minus(got[1], dw0), dw, 1e-5);
            OpTesting.assertClose("dbias increment" + at, minus(got[2], db0), db, 1e-5);
            OpTesting.assertClose("dx total" + at, got[0], plus(dx, dx0), 1e-5);
            OpTesting.assertClose("dweight total" + at, got[1], plus(dw, dw0), 1e-5);
            OpTesting.assertClose("dbias total" + at, got[2], plus(db, db0), 1e-5);
        }
    }

    private static float[] minus(float[] a, float[] b) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] - b[i];
        }
        return out;
    }

    private static double[] plus(double[] a, float[] b) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] + b[i];
        }
        return out;
    }

    // ---- edge cases -----------------------------------------------------------------------------------------------

    @Test
    void constantRowsAndSingleColumnGiveTheBias() {
        // zero variance: rstd = 1/sqrt(eps), xhat = 0, y = bias
        for (int[] shape : new int[][] {{4, 1}, {3, 9}}) {
            int[] rc = rowsAndC(shape);
            float[] x = new float[rc[0] * rc[1]];
            for (int r = 0; r < rc[0]; r++) {
                java.util.Arrays.fill(x, r * rc[1], (r + 1) * rc[1], 1.5f * r - 2f);
            }
            float[] w = weight(1, rc[1]);
            float[] b = OpTesting.toFloat(OpTesting.randn(2, rc[1]));
            float eps = 1e-5f;
            float[][] got = forward(OpTesting.cpu(), x, w, b, shape, eps);
            for (int r = 0; r < rc[0]; r++) {
                assertEquals(1.5f * r - 2f, got[1][r], 1e-6f, "mean of row " + r);
                assertEquals(1 / Math.sqrt(eps), got[2][r], 1e-6 / Math.sqrt(eps), "rstd of row " + r);
                for (int i = 0; i < rc[1]; i++) {
                    assertEquals(b[i], got[0][r * rc[1] + i], 1e-6f, "y = bias at " + r + ", " + i);
                }
            }
            float[] dy = OpTesting.toFloat(OpTesting.randn(3, x.length));
            float[] dx0 = OpTesting.toFloat(OpTesting.randn(4, x.length));
            float[][] grads = backward(OpTesting.cpu(), dy, x, w, got[1], got[2], dx0, new float[rc[1]],
                    new float[rc[1]], shape);
            assertArrayEquals(new float[rc[1]], grads[1], 1e-6f, "dweight: xhat = 0");
            double[] dx = new double[x.length];
            double[] dw = new double[rc[1]];
            double[] db = new double[rc[1]];
            refBackward(OpTesting.toDouble(dy), OpTesting.toDouble(x), OpTesting.toDouble(w),
                    OpTesting.toDouble(got[1]), OpTesting.toDouble(got[2]), dx, dw, db, rc[0], rc[1]);
            // C > 1: x still moves y (rstd (g - mean g), large with rstd = 1/sqrt(eps)); C = 1: y = bias whatever x
            OpTesting.assertClose("dx " + Tensor.shapeString(shape), minus(grads[0], dx0), dx, 1e-5);
            OpTesting.assertClose("dbias " + Tensor.shapeString(shape), grads[2], db, 1e-6);
            if (rc[1] == 1) {
                assertArrayEquals(dx0, grads[0], 0f, "C = 1: dx unchanged");
            }
        }
    }

    @Test
    void emptyInputIsANoOp() {
        Backend be = OpTesting.cpu();
        try (Tensor x = be.zeros(0, 8); Tensor w = be.zeros(8); Tensor b = be.zeros(8); Tensor y = be.zeros(0, 8);
                Tensor m = be.zeros(0); Tensor s = be.zeros(0); Tensor dw = be.of(new float[8], 8)) {
            Ops.layerNormForward(x, w, b, y, m, s, 1e-5f);
            Ops.layerNormBackward(y, x, w, m, s, y, dw, dw);
            assertArrayEquals(new float[8], dw.toFloatArray());
        }
    }

    @Test
    void rejectsBadArguments() {
        Backend be = OpTesting.cpu();
        try (Tensor x = be.zeros(3, 8); Tensor w = be.zeros(8); Tensor w7 = be.zeros(7); Tensor y = be.zeros(3, 8);
                Tensor m = be.zeros(3); Tensor m4 = be.zeros(4)) {
            assertThrows(IllegalArgumentException.class, () -> Ops.layerNormForward(x, w7, w, y, m, m, 1e-5f));
            assertThrows(IllegalArgumentException.class, () -> Ops.layerNormForward(x, w, w, y, m4, m, 1e-5f));
            assertThrows(IllegalArgumentException.class, () -> Ops.layerNormForward(x, w, w, y, m, m, 0f));
            assertThrows(IllegalArgumentException.class, () -> Ops.layerNormBackward(y, x, w, m, m, x, w7, w));
        }
    }

    // ---- CUDA against the CPU -------------------------------------------------------------------------------------

    @Test
    void cudaMatchesCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        Backend cpu = OpTesting.cpu();
        int[][] shapes = {{1, 1}, {3, 1}, {33, 7}, {1000, 33}, {5, 1}, {3, 1024}, {4096, 256}, {256, 16, 256},
            {100_003, 7}, {17, 4099}};
        for (int[] shape : shapes) {
            int[] rc = rowsAndC(shape);
            int rows = rc[0];
            int c = rc[1];
            String at = " " + Tensor.shapeString(shape);
            float[] x = inputs(90 + rows, rows, c);
            float[] w = weight(91 + c, c);
            float[] b = OpTesting.toFloat(OpTesting.randn(92 + c, c));
            float[][] fc = forward(cpu, x, w, b, shape, 1e-5f);
            float[][] fg = forward(cuda, x, w, b, shape, 1e-5f);
            OpTesting.assertClose("cuda y" + at, fg[0], fc[0], 1e-4);
            OpTesting.assertClose("cuda mean" + at, fg[1], fc[1], 1e-4);
            OpTesting.assertClose("cuda rstd" + at, fg[2], fc[2], 1e-4);
            float[] dy = OpTesting.toFloat(OpTesting.randn(93 + rows, rows * c));
            float[] dx0 = OpTesting.toFloat(OpTesting.randn(94, rows * c));
            float[] dw0 = OpTesting.toFloat(OpTesting.randn(95, c));
            float[] db0 = OpTesting.toFloat(OpTesting.randn(96, c));
            // both from the same saved statistics (the CPU's), so only the backward is compared
            float[][] gc = backward(cpu, dy, x, w, fc[1], fc[2], dx0, dw0, db0, shape);
            float[][] gg = backward(cuda, dy, x, w, fc[1], fc[2], dx0, dw0, db0, shape);
            OpTesting.assertClose("cuda dx" + at, minus(gg[0], dx0), minus(gc[0], dx0), 1e-4);
            OpTesting.assertClose("cuda dweight" + at, minus(gg[1], dw0), minus(gc[1], dw0), 1e-4);
            OpTesting.assertClose("cuda dbias" + at, minus(gg[2], db0), minus(gc[2], db0), 1e-4);
            // deterministic: a second run gives the same bits
            float[][] again = backward(cuda, dy, x, w, fc[1], fc[2], dx0, dw0, db0, shape);
            assertArrayEquals(gg[1], again[1], "cuda dweight run to run" + at);
            assertArrayEquals(gg[2], again[2], "cuda dbias run to run" + at);
        }
    }
}
