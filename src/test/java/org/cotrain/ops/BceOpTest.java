package org.cotrain.ops;

import static org.cotrain.ops.OpTesting.assertClose;
import static org.cotrain.ops.OpTesting.toDouble;
import static org.cotrain.ops.OpTesting.toFloat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * bce.h: binary cross-entropy on logits, element-wise forward (the mean through Ops.sum) and backward, against
 * the float64 definition -y log s(x) - (1 - y) log(1 - s(x)), by finite differences, and CUDA against the CPU.
 */
class BceOpTest {
    private static final int[] SIZES = {1, 3, 7, 33, 257, 40_003};

    /** The textbook form in float64 (log of the sigmoid and of its complement, each computed stably). */
    private static double bce(double x, double y) {
        double logS = -Math.log1p(Math.exp(-Math.abs(x))) + Math.min(x, 0);     // log s(x)
        double log1mS = -Math.log1p(Math.exp(-Math.abs(x))) + Math.min(-x, 0);  // log(1 - s(x)) = log s(-x)
        return -y * logS - (1 - y) * log1mS;
    }

    /** Logits over a wide range (large |x| tests the overflow-free form), soft and hard targets. */
    private static double[][] inputs(long seed, int n) {
        double[] x = OpTesting.uniform(seed, n, -40, 40);
        double[] small = OpTesting.randn(seed + 1, n);
        double[] y = OpTesting.uniform(seed + 2, n, 0, 1);
        for (int i = 0; i < n; i++) {
            if (i % 3 == 0) {
                x[i] = small[i]; // most logits of a trained classifier are small
            }
            if (i % 2 == 0) {
                y[i] = y[i] < 0.5 ? 0 : 1; // hard labels, as the classifier's
            }
        }
        return new double[][] {toDouble(toFloat(x)), toDouble(toFloat(y))};
    }

    @Test
    void cpuForwardMatchesReference() {
        Backend cpu = OpTesting.cpu();
        for (int n : SIZES) {
            double[][] in = inputs(n, n);
            double[] expected = new double[n];
            double mean = 0;
            for (int i = 0; i < n; i++) {
                expected[i] = bce(in[0][i], in[1][i]);
                mean += expected[i] / n;
            }
            try (Tensor x = cpu.of(toFloat(in[0]), n); Tensor y = cpu.of(toFloat(in[1]), n);
                 Tensor out = cpu.zeros(n); Tensor loss = cpu.zeros(1)) {
                Ops.bceLogitsForward(x, y, out);
                assertClose("bce n=" + n, out.toFloatArray(), expected, 1e-6);
                Ops.sum(out, loss, 1f / n);
                assertEquals(mean, loss.item(), 1e-6 * Math.max(1, mean), "mean bce n=" + n);
            }
        }
    }

    @Test
    void handValues() {
        Backend cpu = OpTesting.cpu();
        // x = 0: log 2 whatever y; x = +-100 with the matching label: ~0; with the wrong one: |x| (no overflow)
        try (Tensor x = cpu.of(new float[] {0, 0, 100, -100, 100, -100}, 6);
             Tensor y = cpu.of(new float[] {0, 1, 1, 0, 0, 1}, 6); Tensor out = cpu.zeros(6)) {
            Ops.bceLogitsForward(x, y, out);
            float[] o = out.toFloatArray();
            assertEquals(Math.log(2), o[0], 1e-7);
            assertEquals(Math.log(2), o[1], 1e-7);
            assertEquals(0, o[2], 1e-30);
            assertEquals(0, o[3], 1e-30);
            assertEquals(100, o[4], 1e-5);
            assertEquals(100, o[5], 1e-5);
        }
    }

    @Test
    void cpuBackwardMatchesFiniteDifferences() {
        Backend cpu = OpTesting.cpu();
        for (int n : new int[] {1, 7, 33, 257}) {
            double[][] in = inputs(100 + n, n);
            double scale = 1.0 / n;
            double dloss = 0.7;
            // d/dx of dloss * scale * sum_i bce(x_i, y_i), numerically in float64
            double[] numeric = OpTesting.numericalGradient(x -> {
                double s = 0;
                for (int i = 0; i < n; i++) {
                    s += bce(x[i], in[1][i]);
                }
                return dloss * scale * s;
            }, in[0].clone(), 1e-6);
            double[] initial = OpTesting.randn(200 + n, n);
            double[] expected = new double[n];
            for (int i = 0; i < n; i++) {
                expected[i] = toDouble(toFloat(initial))[i] + numeric[i]; // accumulates into dx
            }
            try (Tensor x = cpu.of(toFloat(in[0]), n); Tensor y = cpu.of(toFloat(in[1]), n);
                 Tensor dl = cpu.of(new float[] {(float) dloss}, 1); Tensor dx = cpu.of(toFloat(initial), n)) {
                Ops.bceLogitsBackward(x, y, dl, dx, (float) scale);
                assertClose("bce backward n=" + n, dx.toFloatArray(), expected, 1e-6);
            }
        }
    }

    @Test
    void shapeErrors() {
        Backend cpu = OpTesting.cpu();
        try (Tensor x = cpu.zeros(4); Tensor y = cpu.zeros(5); Tensor out = cpu.zeros(4); Tensor dl = cpu.zeros(2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Ops.bceLogitsForward(x, y, out));
            assertTrue(e.getMessage().contains("shape mismatch"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Ops.bceLogitsBackward(x, out, dl, out, 1f));
            assertTrue(e.getMessage().contains("dloss has shape (2,)"), e.getMessage());
        }
    }

    @Test
    void cudaMatchesCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        Backend cpu = OpTesting.cpu();
        for (int n : SIZES) {
            double[][] in = inputs(300 + n, n);
            float[][] got = new float[2][];
            Backend[] backends = {cuda, cpu};
            for (int k = 0; k < 2; k++) {
                Backend b = backends[k];
                try (Tensor x = b.of(toFloat(in[0]), n); Tensor y = b.of(toFloat(in[1]), n); Tensor out = b.zeros(n);
                     Tensor dl = b.of(new float[] {1.5f}, 1); Tensor dx = b.zeros(n)) {
                    Ops.bceLogitsForward(x, y, out);
                    Ops.bceLogitsBackward(x, y, dl, dx, 1f / n);
                    float[] o = out.toFloatArray();
                    float[] d = dx.toFloatArray();
                    got[k] = new float[2 * n];
                    System.arraycopy(o, 0, got[k], 0, n);
                    System.arraycopy(d, 0, got[k], n, n);
                }
            }
            assertClose("cuda bce n=" + n, got[0], got[1], 1e-6);
        }
    }
}
