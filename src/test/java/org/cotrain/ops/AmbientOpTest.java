package org.cotrain.ops;

import static org.cotrain.ops.OpTesting.assertClose;
import static org.cotrain.ops.OpTesting.toDouble;
import static org.cotrain.ops.OpTesting.toFloat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.cotrain.nativelib.CpuKernels;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * ambient.h: the per-sample batch assembly of ambient diffusion (ordinary samples with tn &lt; 0, ambient samples
 * observed at x_tn), against float64 references of the formulas of issue 5, on Diffusion Policy's squaredcos_cap_v2
 * schedule with T = 100, odd sizes, both prediction types, with and without the loss weighting.
 */
class AmbientOpTest {
    private static final int T = 100;
    private static final float[] ABAR = squaredCosSchedule(T);

    /** (B, sample shape...): the training shape 64 x 16 x 2 and odd ones. */
    private static final int[][] SHAPES = {{64, 16, 2}, {3, 7}, {1, 1}, {5, 4, 3}, {2, 33}};

    private static float[] squaredCosSchedule(int t) {
        float[] abar = new float[t];
        double prod = 1.0;
        for (int i = 0; i < t; i++) {
            double beta = Math.min(1.0 - cosBar((i + 1.0) / t) / cosBar((double) i / t), 0.999);
            prod *= 1.0 - beta;
            abar[i] = (float) prod;
        }
        return abar;
    }

    private static double cosBar(double tau) {
        double c = Math.cos((tau + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    // ---- float64 references, written as issue 5 writes them -----------------------------------------------------

    /** xt, target and weight of one batch, per element; abar the table (as float, read in double). */
    private record Reference(double[] xt, double[] target, double[] weight) {}

    private static Reference reference(float[] abar, double[] x0, double[] eps, double[] z, int[] t, int[] tn,
                                       Prediction prediction, boolean weighting, int n) {
        double[] xt = new double[x0.length];
        double[] target = new double[x0.length];
        double[] weight = new double[x0.length];
        for (int i = 0; i < x0.length; i++) {
            int c = i / n;
            double st2 = 1 - (double) abar[t[c]];
            if (tn[c] < 0) {
                xt[i] = Math.sqrt(1 - st2) * x0[i] + Math.sqrt(st2) * eps[i];
                target[i] = prediction == Prediction.SAMPLE ? x0[i] : eps[i];
                weight[i] = 1;
                continue;
            }
            double sn2 = 1 - (double) abar[tn[c]];
            double xn = Math.sqrt(1 - sn2) * x0[i] + Math.sqrt(sn2) * eps[i];
            double a = Math.sqrt((1 - st2) / (1 - sn2));
            double b = Math.sqrt((st2 - sn2) / (1 - sn2));
            xt[i] = a * xn + b * z[i];
            double d = st2 - sn2;
            double st = Math.sqrt(st2);
            if (prediction == Prediction.SAMPLE) {
                target[i] = st2 * Math.sqrt(1 - sn2) / d * xn - sn2 * Math.sqrt(1 - st2) / d * xt[i];
            } else {
                target[i] = st * (1 - sn2) / d * xt[i] - st * Math.sqrt(1 - st2) * Math.sqrt(1 - sn2) / d * xn;
            }
            weight[i] = weighting ? d / st2 : 1;
        }
        return new Reference(xt, target, weight);
    }

    // ---- inputs ---------------------------------------------------------------------------------------------------

    /** A batch mixing ordinary samples and ambient ones, with tn just below t among them (the hardest case). */
    private static final class Batch {
        final int b;
        final int n;
        final int[] shape;
        final int[] t;
        final int[] tn;
        final double[] x0;
        final double[] eps;
        final double[] z;

        Batch(long seed, int[] shape) {
            this.shape = shape;
            b = shape[0];
            int numel = 1;
            for (int d : shape) {
                numel *= d;
            }
            n = numel / b;
            Random r = new Random(seed);
            t = new int[b];
            tn = new int[b];
            for (int i = 0; i < b; i++) {
                t[i] = 1 + r.nextInt(T - 1);
                switch (i % 4) {
                    case 0 -> tn[i] = -1;                        // ordinary
                    case 1 -> tn[i] = t[i] - 1;                   // just below: the largest targets
                    case 2 -> tn[i] = 0;                          // the lowest level
                    default -> tn[i] = r.nextInt(t[i]);           // anywhere below
                }
            }
            if (b == 1) {
                tn[0] = t[0] - 1; // the single-sample shape tests an ambient one
            }
            x0 = toDouble(toFloat(OpTesting.uniform(seed + 1, numel, -1, 1)));
            eps = toDouble(toFloat(OpTesting.randn(seed + 2, numel)));
            z = toDouble(toFloat(OpTesting.randn(seed + 3, numel)));
        }
    }

    private record Out(float[] xt, float[] target, float[] weight) {}

    private static Out run(Backend backend, float[] abar, Batch batch, Prediction prediction, boolean weighting) {
        try (Tensor x0 = backend.of(toFloat(batch.x0), batch.shape);
             Tensor eps = backend.of(toFloat(batch.eps), batch.shape);
             Tensor z = backend.of(toFloat(batch.z), batch.shape);
             Tensor t = backend.of(batch.t, batch.b);
             Tensor tn = backend.of(batch.tn, batch.b);
             Tensor table = backend.of(abar, abar.length);
             Tensor xt = backend.zeros(batch.shape);
             Tensor target = backend.zeros(batch.shape);
             Tensor weight = backend.zeros(batch.shape)) {
            Ops.ambientBatch(x0, eps, z, t, tn, table, prediction, weighting, xt, target, weight);
            return new Out(xt.toFloatArray(), target.toFloatArray(), weight.toFloatArray());
        }
    }

    // ---- the references against each other ---------------------------------------------------------------------

    @Test
    void referenceEpsilonTargetIsTheEpsilonFormOfTheX0Target() {
        // eps* = (xt - sqrt(1 - s_t^2) h*) / s_t: the two targets of the issue describe one prediction
        Batch batch = new Batch(1, new int[] {9, 5});
        Reference eps = reference(ABAR, batch.x0, batch.eps, batch.z, batch.t, batch.tn, Prediction.EPSILON, false,
                batch.n);
        Reference x0 = reference(ABAR, batch.x0, batch.eps, batch.z, batch.t, batch.tn, Prediction.SAMPLE, false,
                batch.n);
        double[] fromX0 = new double[eps.target.length];
        for (int i = 0; i < fromX0.length; i++) {
            double st2 = 1 - (double) ABAR[batch.t[i / batch.n]];
            fromX0[i] = (x0.xt[i] - Math.sqrt(1 - st2) * x0.target[i]) / Math.sqrt(st2);
        }
        assertClose("eps* from h*", eps.target, fromX0, 1e-12);
    }

    @Test
    void referenceXtHasTheMarginalOfAnOrdinarySample() {
        // xt = a x_tn + b z = sqrt(abar_t) x0 + (a s_n eps + b z), and a^2 s_n^2 + b^2 = s_t^2: the same noise level
        for (int tn = 0; tn < T - 1; tn += 7) {
            for (int t = tn + 1; t < T; t += 5) {
                double st2 = 1 - (double) ABAR[t];
                double sn2 = 1 - (double) ABAR[tn];
                double a2 = (1 - st2) / (1 - sn2);
                double b2 = (st2 - sn2) / (1 - sn2);
                assertEquals(st2, a2 * sn2 + b2, 1e-12, "t " + t + ", tn " + tn);
                assertEquals(Math.sqrt(1 - st2), Math.sqrt(a2) * Math.sqrt(1 - sn2), 1e-12);
            }
        }
    }

    @Test
    void referenceAmbientTargetHasTheOrdinaryMinimiser() {
        // The point of the ambient loss: regressing onto eps* (which needs only x_tn, never x0) has the same
        // minimiser E[. | xt] as regressing onto the true epsilon. For x0 ~ N(0, v) both conditional means are
        // linear in xt, so least-squares slopes of eps* and of eps on xt must agree (Monte Carlo, 400k draws).
        Random r = new Random(7);
        double v = 0.3;
        int t = 60;
        int tn = 35;
        double st2 = 1 - (double) ABAR[t];
        double sn2 = 1 - (double) ABAR[tn];
        double d = st2 - sn2;
        double st = Math.sqrt(st2);
        double sxx = 0;
        double sxAmbient = 0;
        double sxTrue = 0;
        int draws = 400_000;
        for (int k = 0; k < draws; k++) {
            double x0 = Math.sqrt(v) * r.nextGaussian();
            double e = r.nextGaussian();
            double z = r.nextGaussian();
            double xn = Math.sqrt(1 - sn2) * x0 + Math.sqrt(sn2) * e;
            double xt = Math.sqrt((1 - st2) / (1 - sn2)) * xn + Math.sqrt(d / (1 - sn2)) * z;
            double ambient = st * (1 - sn2) / d * xt - st * Math.sqrt(1 - st2) * Math.sqrt(1 - sn2) / d * xn;
            double trueEps = (xt - Math.sqrt(1 - st2) * x0) / st;
            sxx += xt * xt;
            sxAmbient += xt * ambient;
            sxTrue += xt * trueEps;
        }
        double exact = st / ((1 - st2) * v + st2); // E[eps | xt] = st xt / Var(xt)
        assertEquals(exact, sxTrue / sxx, 0.01, "slope of the true epsilon");
        assertEquals(exact, sxAmbient / sxx, 0.01, "slope of the ambient epsilon target");
    }

    // ---- CPU against the references ----------------------------------------------------------------------------

    @Test
    void cpuMatchesReference() {
        Backend cpu = OpTesting.cpu();
        for (Prediction prediction : Prediction.values()) {
            for (boolean weighting : new boolean[] {false, true}) {
                for (int s = 0; s < SHAPES.length; s++) {
                    Batch batch = new Batch(10 + s, SHAPES[s]);
                    Reference ref = reference(ABAR, batch.x0, batch.eps, batch.z, batch.t, batch.tn, prediction,
                            weighting, batch.n);
                    Out out = run(cpu, ABAR, batch, prediction, weighting);
                    String what = prediction + " weighting=" + weighting + " " + Tensor.shapeString(batch.shape);
                    assertClose("xt " + what, out.xt, ref.xt, 1e-6);
                    assertClose("target " + what, out.target, ref.target, 1e-6);
                    assertClose("weight " + what, out.weight, ref.weight, 1e-6);
                }
            }
        }
    }

    @Test
    void weightingIsExercised() {
        // the batches above must hold ambient samples with weights well below 1, or the weighting test proves little
        Batch batch = new Batch(10, SHAPES[0]);
        Reference ref = reference(ABAR, batch.x0, batch.eps, batch.z, batch.t, batch.tn, Prediction.EPSILON, true,
                batch.n);
        double min = 1;
        for (double w : ref.weight) {
            min = Math.min(min, w);
        }
        assertTrue(min < 0.2, "smallest weight " + min);
    }

    @Test
    void ordinarySamplesAreTheDdpmBatchBitForBit() {
        // tn < 0 everywhere: xt is ddpm_add_noise's, the target is eps (or x0) itself and the weight 1
        Backend cpu = OpTesting.cpu();
        for (int[] shape : SHAPES) {
            Batch batch = new Batch(20, shape);
            java.util.Arrays.fill(batch.tn, -1);
            for (Prediction prediction : Prediction.values()) {
                Out out = run(cpu, ABAR, batch, prediction, true);
                try (Tensor x0 = cpu.of(toFloat(batch.x0), shape);
                     Tensor eps = cpu.of(toFloat(batch.eps), shape);
                     Tensor t = cpu.of(batch.t, batch.b);
                     Tensor abar = cpu.of(ABAR, T);
                     Tensor xt = cpu.zeros(shape)) {
                    Ops.ddpmAddNoise(x0, eps, t, abar, xt);
                    assertArrayEquals(xt.toFloatArray(), out.xt, "xt " + Tensor.shapeString(shape));
                }
                float[] expected = toFloat(prediction == Prediction.SAMPLE ? batch.x0 : batch.eps);
                assertArrayEquals(expected, out.target, "target " + prediction);
                for (float w : out.weight) {
                    assertEquals(1f, w);
                }
            }
        }
    }

    @Test
    void epsilonTargetTendsToTheOrdinaryEpsilonAsTheObservationNoiseVanishes() {
        // A table whose step 0 has s_n^2 = 2^-k: the ambient epsilon target of a sample at t = 2 observed at tn = 0
        // approaches the true epsilon (xt - sqrt(abar_t) x0) / s_t of its xt, with an error of order s_n.
        Backend cpu = OpTesting.cpu();
        Batch batch = new Batch(30, new int[] {6, 9});
        java.util.Arrays.fill(batch.t, 2);
        java.util.Arrays.fill(batch.tn, 0);
        double previous = Double.POSITIVE_INFINITY;
        for (int k : new int[] {8, 12, 16, 20}) {
            float sn2 = (float) Math.pow(2, -k);
            float[] abar = {1f - sn2, 0.7f, 0.4f};
            Out out = run(cpu, abar, batch, Prediction.EPSILON, false);
            double st = Math.sqrt(1 - (double) abar[2]);
            double[] trueEps = new double[out.xt.length];
            for (int i = 0; i < trueEps.length; i++) {
                trueEps[i] = (out.xt[i] - Math.sqrt(abar[2]) * batch.x0[i]) / st;
            }
            double err = OpTesting.relativeError(out.target, trueEps);
            assertTrue(err < 4 * Math.sqrt(sn2), "s_n^2 = 2^-" + k + ": relative error " + err);
            assertTrue(err < previous / 2, "the error shrinks with s_n: " + err + " after " + previous);
            previous = err;
        }
        assertTrue(previous < 5e-3, "at s_n^2 = 2^-20: " + previous);
    }

    @Test
    void badStepsGiveNaNInTheKernelAndAnErrorAtTheFrontDoor() {
        Backend cpu = OpTesting.cpu();
        // chains 1..4: t == T, t < 0, tn == t, tn >= T; chains 0 and 5 are fine
        int[] t = {10, T, -1, 7, 50, 3};
        int[] tn = {4, -1, -1, 7, T, -1};
        boolean[] bad = {false, true, true, true, true, false};
        Batch batch = new Batch(40, new int[] {6, 3});
        try (Tensor x0 = cpu.of(toFloat(batch.x0), 6, 3);
             Tensor eps = cpu.of(toFloat(batch.eps), 6, 3);
             Tensor z = cpu.of(toFloat(batch.z), 6, 3);
             Tensor tt = cpu.of(t, 6);
             Tensor nt = cpu.of(tn, 6);
             Tensor abar = cpu.of(ABAR, T);
             Tensor xt = cpu.zeros(6, 3);
             Tensor target = cpu.zeros(6, 3);
             Tensor weight = cpu.zeros(6, 3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.ambientBatch(x0, eps,
                    z, tt, nt, abar, Prediction.EPSILON, true, xt, target, weight));
            assertTrue(e.getMessage().contains("t[1] = 100"), e.getMessage());
            try (Tensor goodT = cpu.of(new int[] {10, 9, 8, 7, 50, 3}, 6);
                 Tensor sameTn = cpu.of(new int[] {4, -1, -1, 7, 2, -1}, 6)) {
                e = assertThrows(IllegalArgumentException.class, () -> Ops.ambientBatch(x0, eps, z, goodT, sameTn,
                        abar, Prediction.EPSILON, true, xt, target, weight));
                assertTrue(e.getMessage().contains("tn[3] = 7 is not below t[3] = 7"), e.getMessage());
            }
            // the kernel guards its indices itself (the CUDA front door cannot look at device-resident steps)
            CpuKernels.ct_ambient_batch_cpu(x0.data(), eps.data(), z.data(), tt.data(), nt.data(), abar.data(), T, 0,
                    1, xt.data(), target.data(), weight.data(), 6, 3);
            for (float[] out : new float[][] {xt.toFloatArray(), target.toFloatArray(), weight.toFloatArray()}) {
                for (int i = 0; i < out.length; i++) {
                    assertEquals(bad[i / 3], Float.isNaN(out[i]), "element " + i + " = " + out[i]);
                }
            }
        }
    }

    @Test
    void shapeErrorsNameTheArgument() {
        Backend cpu = OpTesting.cpu();
        try (Tensor x0 = cpu.zeros(4, 6);
             Tensor eps = cpu.zeros(4, 6);
             Tensor z = cpu.zeros(4, 5);
             Tensor t = cpu.of(new int[] {1, 2, 3, 4}, 4);
             Tensor tn = cpu.of(new int[] {-1, -1, -1}, 3);
             Tensor abar = cpu.of(ABAR, T);
             Tensor out = cpu.zeros(4, 6)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Ops.ambientBatch(x0, eps, z, t, t, abar, Prediction.EPSILON, false, out, out, null));
            assertTrue(e.getMessage().contains("z has shape (4, 5)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> Ops.ambientBatch(x0, eps, eps, t, tn, abar, Prediction.EPSILON, false, out, out, null));
            assertTrue(e.getMessage().contains("tn has shape (3,)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> Ops.ambientBatch(x0, eps, eps, abar, t, abar, Prediction.EPSILON, false, out, out, null));
            assertTrue(e.getMessage().contains("t must be int32"), e.getMessage());
        }
    }

    // ---- CUDA against the CPU ----------------------------------------------------------------------------------

    @Test
    void cudaMatchesCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        Backend cpu = OpTesting.cpu();
        for (int s = 0; s < SHAPES.length; s++) {
            for (Prediction prediction : Prediction.values()) {
                Batch batch = new Batch(50 + s, SHAPES[s]);
                Out a = run(cuda, ABAR, batch, prediction, true);
                Out b = run(cpu, ABAR, batch, prediction, true);
                String what = prediction + " " + Tensor.shapeString(batch.shape);
                assertClose("cuda xt " + what, a.xt, b.xt, 1e-6);
                assertClose("cuda target " + what, a.target, b.target, 1e-6);
                assertClose("cuda weight " + what, a.weight, b.weight, 1e-6);
            }
        }
    }

    @Test
    void badStepsGiveNaNOnCuda() {
        Backend cuda = OpTesting.cudaOrSkip();
        int[] t = {10, T, -1, 7, 50, 3};
        int[] tn = {4, -1, -1, 7, T, -1};
        boolean[] bad = {false, true, true, true, true, false};
        Batch batch = new Batch(60, new int[] {6, 3});
        try (Tensor x0 = cuda.of(toFloat(batch.x0), 6, 3);
             Tensor eps = cuda.of(toFloat(batch.eps), 6, 3);
             Tensor z = cuda.of(toFloat(batch.z), 6, 3);
             Tensor tt = cuda.of(t, 6);
             Tensor nt = cuda.of(tn, 6);
             Tensor abar = cuda.of(ABAR, T);
             Tensor xt = cuda.zeros(6, 3);
             Tensor target = cuda.zeros(6, 3);
             Tensor weight = cuda.zeros(6, 3)) {
            Ops.ambientBatch(x0, eps, z, tt, nt, abar, Prediction.SAMPLE, true, xt, target, weight);
            for (float[] out : new float[][] {xt.toFloatArray(), target.toFloatArray(), weight.toFloatArray()}) {
                for (int i = 0; i < out.length; i++) {
                    assertEquals(bad[i / 3], Float.isNaN(out[i]), "element " + i + " = " + out[i]);
                }
            }
        }
    }
}
