package org.cotrain.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * activation.h's fused residual join y = relu(a + b), and its backward through reluBackward(y, dy, dx): the same
 * as an add followed by a ReLU, forward and backward.
 */
class AddReluOpTest {

    private static float[][] run(Backend be, float[] a, float[] b, float[] dy) {
        int n = a.length;
        try (Tensor ta = be.of(a, n); Tensor tb = be.of(b, n); Tensor y = be.zeros(n); Tensor tdy = be.of(dy, n);
             Tensor d = be.zeros(n)) {
            Ops.addReluForward(ta, tb, y);
            Ops.reluBackward(y, tdy, d);
            return new float[][] {y.toFloatArray(), d.toFloatArray()};
        }
    }

    @Test
    void cpuEqualsAddThenRelu() {
        Backend cpu = OpTesting.cpu();
        for (int n : new int[] {1, 7, 1000, 100_003}) {
            float[] a = OpTesting.toFloat(OpTesting.randn(n, n));
            float[] b = OpTesting.toFloat(OpTesting.randn(n + 1, n));
            float[] dy = OpTesting.toFloat(OpTesting.randn(n + 2, n));
            b[0] = -a[0]; // a + b == 0 exactly: relu'(0) = 0
            float[] y = new float[n];
            float[] d = new float[n];
            for (int i = 0; i < n; i++) {
                float s = a[i] + b[i];
                y[i] = s > 0 ? s : 0;
                d[i] = s > 0 ? dy[i] : 0;
            }
            float[][] got = run(cpu, a, b, dy);
            assertArrayEquals(y, got[0], "y, n = " + n);
            assertArrayEquals(d, got[1], "gradient, n = " + n);
        }
    }

    @Test
    void rejectsMismatchedShapes() {
        Backend cpu = OpTesting.cpu();
        try (Tensor a = cpu.zeros(4); Tensor b = cpu.zeros(5); Tensor y = cpu.zeros(4)) {
            assertThrows(IllegalArgumentException.class, () -> Ops.addReluForward(a, b, y));
        }
    }

    @Test
    void cudaMatchesCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        int n = 1 << 20;
        float[] a = OpTesting.toFloat(OpTesting.randn(1, n));
        float[] b = OpTesting.toFloat(OpTesting.randn(2, n));
        float[] dy = OpTesting.toFloat(OpTesting.randn(3, n));
        float[][] c = run(OpTesting.cpu(), a, b, dy);
        float[][] g = run(cuda, a, b, dy);
        assertArrayEquals(c[0], g[0]);
        assertArrayEquals(c[1], g[1]);
    }
}
