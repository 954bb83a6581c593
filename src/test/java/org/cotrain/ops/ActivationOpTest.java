package org.cotrain.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * activation.h: GELU (exact erf form, as torch.nn.GELU()), Mish (x tanh(softplus x)) and ReLU; backward dx += dy f'(x).
 */
class ActivationOpTest {
    private static final int[] SIZES = {0, 1, 3, 7, 33, 257, 1001, 40_003};

    enum Act { GELU, MISH, RELU }

    // ---- float64 reference ----------------------------------------------------------------------------------------

    /** erf to about 1e-15 (Taylor series for |x| < 2, continued fraction of erfc beyond). */
    static double erf(double x) {
        double ax = Math.abs(x);
        double r;
        if (ax < 2) {
            // erf(x) = 2/sqrt(pi) sum_k (-1)^k x^(2k+1) / (k! (2k+1))
            double term = ax;
            double sum = ax;
            for (int k = 1; k < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); k++) {
                term *= -ax * ax / k;
                sum += term / (2 * k + 1);
            }
            r = 2 / Math.sqrt(Math.PI) * sum;
        } else {
            // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + 2/(x + ...))))), evaluated from the tail
            double f = ax;
            for (int k = 200; k >= 1; k--) {
                f = ax + (k / 2.0) / f;
            }
            r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
        }
        return x < 0 ? -r : r;
    }

    static double softplus(double x) {
        return Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0);
    }

    static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    static double f(Act act, double x) {
        switch (act) {
            case GELU: return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
            case MISH: return x * Math.tanh(softplus(x));
            default: return x > 0 ? x : 0;
        }
    }

    static double df(Act act, double x) {
        switch (act) {
            case GELU: return 0.5 * (1 + erf(x / Math.sqrt(2))) + x * Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
            case MISH: {
                double t = Math.tanh(softplus(x));
                return t + x * (1 - t * t) * sigmoid(x);
            }
            default: return x > 0 ? 1 : 0; // relu'(0) = 0, as PyTorch
        }
    }

    private static double[] refForward(Act act, double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = f(act, x[i]);
        }
        return y;
    }

    /** dx[i] += dy[i] f'(x[i]). */
    private static void refBackward(Act act, double[] x, double[] dy, double[] dx) {
        for (int i = 0; i < x.length; i++) {
            dx[i] += dy[i] * df(act, x[i]);
        }
    }

    // ---- the op through Ops ---------------------------------------------------------------------------------------

    private static float[] forward(Backend be, Act act, float[] x) {
        try (Tensor tx = be.of(x, x.length); Tensor ty = be.zeros(x.length)) {
            switch (act) {
                case GELU: Ops.geluForward(tx, ty); break;
                case MISH: Ops.mishForward(tx, ty); break;
                default: Ops.reluForward(tx, ty); break;
            }
            return ty.toFloatArray();
        }
    }

    private static float[] backward(Backend be, Act act, float[] x, float[] dy, float[] dx0) {
        try (Tensor tx = be.of(x, x.length); Tensor tdy = be.of(dy, dy.length); Tensor tdx = be.of(dx0, dx0.length)) {
            switch (act) {
                case GELU: Ops.geluBackward(tx, tdy, tdx); break;
                case MISH: Ops.mishBackward(tx, tdy, tdx); break;
                default: Ops.reluBackward(tx, tdy, tdx); break;
            }
            return tdx.toFloatArray();
        }
    }

    /** Inputs spread over where the activations bend (|x| < 4) and their tails: 3 * N(0, 1). */
    private static float[] inputs(long seed, int n) {
        double[] x = OpTesting.randn(seed, n);
        for (int i = 0; i < n; i++) {
            x[i] *= 3;
        }
        return OpTesting.toFloat(x);
    }

    // ---- the reference against finite differences ---------------------------------------------------------------

    @Test
    void referenceErfIsAccurate() {
        // known values (Abramowitz and Stegun table 7.1 / high-precision tables)
        assertEquals(0.0, erf(0), 0);
        assertEquals(0.5204998778130465, erf(0.5), 1e-15);
        assertEquals(0.8427007929497149, erf(1), 1e-15);
        assertEquals(0.9953222650189527, erf(2), 1e-15);
        assertEquals(0.9999779095030014, erf(3), 1e-15);
        assertEquals(-0.9999999845827421, erf(-4), 1e-15);
        assertEquals(0.9999999999984626, erf(5), 1e-15);
        assertEquals(0.9953222650189527, -erf(-2), 1e-15);
        // both branches agree where they meet: erf(2 + h) - erf(2 - h) = 2h erf'(2) + O(h^3)
        double h = 1e-6;
        assertEquals(2 * h * 2 / Math.sqrt(Math.PI) * Math.exp(-4), erf(2 + h) - erf(2 - h), 1e-14);
    }

    @Test
    void referenceBackwardMatchesNumericalGradient() {
        for (Act act : Act.values()) {
            int n = 101;
            double[] x = OpTesting.toDouble(inputs(1, n));
            if (act == Act.RELU) {
                for (int i = 0; i < n; i++) {
                    if (Math.abs(x[i]) < 1e-3) {
                        x[i] = 0.5; // keep finite differences away from the kink
                    }
                }
            }
            x[0] = 12; // tails
            x[1] = -12;
            double[] dy = OpTesting.randn(2, n);
            double[] numerical = OpTesting.numericalGradient(xs -> OpTesting.dot(dy, refForward(act, xs)), x, 1e-6);
            double[] analytic = new double[n];
            refBackward(act, x, dy, analytic);
            OpTesting.assertClose(act + " reference gradient", analytic, numerical, 1e-7);
        }
    }

    // ---- CPU against the reference --------------------------------------------------------------------------------

    @Test
    void cpuForwardMatchesReference() {
        for (Act act : Act.values()) {
            for (int n : SIZES) {
                float[] x = inputs(100 + n, n);
                double[] expected = refForward(act, OpTesting.toDouble(x));
                OpTesting.assertClose(act + " forward n=" + n, forward(OpTesting.cpu(), act, x), expected, 1e-5);
            }
        }
    }

    @Test
    void cpuBackwardMatchesReferenceAndAccumulates() {
        for (Act act : Act.values()) {
            for (int n : SIZES) {
                float[] x = inputs(200 + n, n);
                float[] dy = OpTesting.toFloat(OpTesting.randn(300 + n, n));
                float[] dx0 = OpTesting.toFloat(OpTesting.randn(400 + n, n)); // non-zero: the op must add
                double[] expected = OpTesting.toDouble(dx0);
                refBackward(act, OpTesting.toDouble(x), OpTesting.toDouble(dy), expected);
                float[] dx = backward(OpTesting.cpu(), act, x, dy, dx0);
                OpTesting.assertClose(act + " backward n=" + n, dx, expected, 1e-5);
                // the increment alone, so that a large dx0 cannot hide an error in dy f'(x)
                double[] inc = new double[n];
                refBackward(act, OpTesting.toDouble(x), OpTesting.toDouble(dy), inc);
                float[] got = new float[n];
                for (int i = 0; i < n; i++) {
                    got[i] = dx[i] - dx0[i];
                }
                OpTesting.assertClose(act + " backward increment n=" + n, got, inc, 1e-5);
            }
        }
    }

    @Test
    void cpuIsAccurateOverTheWholeRange() {
        // a dense sweep of [-40, 40], the tails included (where softplus(x) ~ x, exp(-x^2/2) underflows, ...),
        // plus exact special points; every output must be finite and close to the float64 reference
        int n = 80_001;
        float[] x = new float[n + 8];
        for (int i = 0; i < n; i++) {
            x[i] = -40f + 80f * i / (n - 1);
        }
        float[] special = {0f, -0f, 1e-30f, -1e-30f, 88f, -88f, 1e4f, -1e4f};
        System.arraycopy(special, 0, x, n, special.length);
        float[] dy = new float[x.length];
        java.util.Arrays.fill(dy, 1f);
        for (Act act : Act.values()) {
            float[] y = forward(OpTesting.cpu(), act, x);
            float[] dx = backward(OpTesting.cpu(), act, x, dy, new float[x.length]);
            double[] ey = refForward(act, OpTesting.toDouble(x));
            double[] edx = new double[x.length];
            refBackward(act, OpTesting.toDouble(x), OpTesting.toDouble(dy), edx);
            // absolute error scaled by max(|expected|, 1): float's resolution near 1 for f', relative for large f
            double worstY = 0;
            double worstDx = 0;
            int at = 0;
            for (int i = 0; i < x.length; i++) {
                if (!Float.isFinite(y[i]) || !Float.isFinite(dx[i])) {
                    fail(act + " not finite at x=" + x[i] + ": y=" + y[i] + ", dx=" + dx[i]);
                }
                double ei = Math.abs(y[i] - ey[i]) / Math.max(1, Math.abs(ey[i]));
                double di = Math.abs(dx[i] - edx[i]) / Math.max(1, Math.abs(edx[i]));
                if (Math.max(ei, di) > Math.max(worstY, worstDx)) {
                    at = i;
                }
                worstY = Math.max(worstY, ei);
                worstDx = Math.max(worstDx, di);
            }
            assertTrue(worstY <= 2e-6 && worstDx <= 2e-6, act + ": worst errors " + worstY + " (forward), " + worstDx
                    + " (backward), worst at x=" + x[at]);
        }
    }

    @Test
    void knownValues() {
        float[] x = {0f, 1f, -1f, 100f, -100f};
        float[] gelu = forward(OpTesting.cpu(), Act.GELU, x);
        assertEquals(0f, gelu[0], 0f);
        assertEquals(0.8413447460685429f, gelu[1], 1e-6f); // torch.nn.GELU()(1.0)
        assertEquals(-0.15865525393145707f, gelu[2], 1e-6f);
        assertEquals(100f, gelu[3], 0f);
        assertEquals(0f, gelu[4], 0f);
        float[] mish = forward(OpTesting.cpu(), Act.MISH, x);
        assertEquals(0f, mish[0], 0f);
        assertEquals(0.8650983882673103f, mish[1], 1e-6f); // torch.nn.Mish()(1.0)
        assertEquals(-0.30340146137410895f, mish[2], 1e-6f);
        assertEquals(100f, mish[3], 0f);
        assertEquals(0f, mish[4], 1e-30f);
        float[] ones = {1f, 1f, 1f, 1f, 1f};
        float[] dgelu = backward(OpTesting.cpu(), Act.GELU, x, ones, new float[5]);
        assertEquals(0.5f, dgelu[0], 1e-7f);
        float[] dmish = backward(OpTesting.cpu(), Act.MISH, x, ones, new float[5]);
        assertEquals(0.6f, dmish[0], 1e-7f); // tanh(log 2) = 3/5
    }

    @Test
    void reluDerivativeAtZeroIsZero() {
        float[] x = {0f, -0f, 1e-38f, -1e-38f, 2f};
        float[] dy = {5f, 5f, 5f, 5f, 5f};
        float[] dx0 = {1f, 2f, 3f, 4f, 5f};
        float[] y = forward(OpTesting.cpu(), Act.RELU, x);
        assertEquals(0f, y[0], 0f);
        assertEquals(1e-38f, y[2], 0f);
        assertEquals(0f, y[3], 0f);
        float[] dx = backward(OpTesting.cpu(), Act.RELU, x, dy, dx0);
        org.junit.jupiter.api.Assertions.assertArrayEquals(new float[] {1f, 2f, 8f, 4f, 10f}, dx);
    }

    @Test
    void forwardWorksInPlace() {
        // y == x: each element is read before it is written
        for (Backend be : backends()) {
            for (Act act : Act.values()) {
                float[] x = inputs(7, 1001);
                try (Tensor t = be.of(x, x.length)) {
                    switch (act) {
                        case GELU: Ops.geluForward(t, t); break;
                        case MISH: Ops.mishForward(t, t); break;
                        default: Ops.reluForward(t, t); break;
                    }
                    OpTesting.assertClose(act + " in place on " + be.name(), t.toFloatArray(),
                            refForward(act, OpTesting.toDouble(x)), 1e-5);
                }
            }
        }
    }

    private static java.util.List<Backend> backends() {
        java.util.List<Backend> list = new java.util.ArrayList<>();
        list.add(OpTesting.cpu());
        org.cotrain.backend.Backends.cuda().ifPresent(list::add);
        return list;
    }

    // ---- CUDA against the CPU -------------------------------------------------------------------------------------

    @Test
    void cudaMatchesCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        Backend cpu = OpTesting.cpu();
        for (Act act : Act.values()) {
            for (int n : new int[] {0, 1, 3, 7, 33, 257, 1001, 40_003, 1_048_579}) {
                float[] x = inputs(500 + n, n);
                float[] dy = OpTesting.toFloat(OpTesting.randn(600 + n, n));
                float[] dx0 = OpTesting.toFloat(OpTesting.randn(700 + n, n));
                OpTesting.assertClose("cuda " + act + " forward n=" + n, forward(cuda, act, x), forward(cpu, act, x),
                        1e-4);
                OpTesting.assertClose("cuda " + act + " backward n=" + n, backward(cuda, act, x, dy, dx0),
                        backward(cpu, act, x, dy, dx0), 1e-4);
            }
            // the tails
            float[] x = new float[8001];
            for (int i = 0; i < x.length; i++) {
                x[i] = -40f + 80f * i / (x.length - 1);
            }
            float[] dy = new float[x.length];
            java.util.Arrays.fill(dy, 1f);
            OpTesting.assertClose("cuda " + act + " forward tails", forward(cuda, act, x), forward(cpu, act, x), 1e-4);
            OpTesting.assertClose("cuda " + act + " backward tails", backward(cuda, act, x, dy, new float[x.length]),
                    backward(cpu, act, x, dy, new float[x.length]), 1e-4);
        }
    }
}
