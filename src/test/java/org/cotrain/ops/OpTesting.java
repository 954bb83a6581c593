package org.cotrain.ops;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.ToDoubleFunction;
import org.cotrain.backend.Backends;
import org.cotrain.tensor.Backend;
import org.junit.jupiter.api.Assumptions;

/** Shared helpers of the op tests: random inputs, float64 comparisons, finite differences, backend access. */
public final class OpTesting {
    private OpTesting() {}

    public static Backend cpu() {
        return Backends.cpu();
    }

    /** The CUDA backend, or the test is skipped (not failed) with the reason printed. */
    public static Backend cudaOrSkip() {
        var cuda = Backends.cuda();
        if (cuda.isEmpty()) {
            String reason = "CUDA test skipped: " + Backends.cudaUnavailableReason();
            System.out.println(reason);
            Assumptions.abort(reason);
        }
        return cuda.get();
    }

    /** n standard normal values from java.util.Random(seed). */
    public static double[] randn(long seed, int n) {
        Random r = new Random(seed);
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = r.nextGaussian();
        }
        return x;
    }

    /** n values uniform in [lo, hi) from java.util.Random(seed). */
    public static double[] uniform(long seed, int n, double lo, double hi) {
        Random r = new Random(seed);
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = lo + (hi - lo) * r.nextDouble();
        }
        return x;
    }

    public static float[] toFloat(double[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = (float) x[i];
        }
        return y;
    }

    public static double[] toDouble(float[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i];
        }
        return y;
    }

    /**
     * max_i |actual_i - expected_i| / max_i |expected_i| (absolute error when expected is all zeros). NaN in either
     * where the other is not NaN counts as infinite error.
     */
    public static double relativeError(float[] actual, double[] expected) {
        if (actual.length != expected.length) {
            throw new AssertionError("length " + actual.length + " != " + expected.length);
        }
        double maxDiff = 0;
        double maxRef = 0;
        for (int i = 0; i < actual.length; i++) {
            boolean nanA = Double.isNaN(actual[i]);
            boolean nanE = Double.isNaN(expected[i]);
            if (nanA || nanE) {
                if (nanA != nanE) {
                    return Double.POSITIVE_INFINITY;
                }
                continue;
            }
            maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
            maxRef = Math.max(maxRef, Math.abs(expected[i]));
        }
        return maxRef == 0 ? maxDiff : maxDiff / maxRef;
    }

    public static double relativeError(float[] actual, float[] expected) {
        return relativeError(actual, toDouble(expected));
    }

    public static double relativeError(double[] actual, double[] expected) {
        double maxDiff = 0;
        double maxRef = 0;
        for (int i = 0; i < actual.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
            maxRef = Math.max(maxRef, Math.abs(expected[i]));
        }
        return maxRef == 0 ? maxDiff : maxDiff / maxRef;
    }

    public static void assertClose(String what, float[] actual, double[] expected, double tol) {
        double err = relativeError(actual, expected);
        assertTrue(err <= tol, what + ": relative error " + err + " > " + tol);
    }

    public static void assertClose(String what, float[] actual, float[] expected, double tol) {
        double err = relativeError(actual, expected);
        assertTrue(err <= tol, what + ": relative error " + err + " > " + tol);
    }

    public static void assertClose(String what, double[] actual, double[] expected, double tol) {
        double err = relativeError(actual, expected);
        assertTrue(err <= tol, what + ": relative error " + err + " > " + tol);
    }

    /** Central differences of f at x in float64: g_i = (f(x + h e_i) - f(x - h e_i)) / 2h. x is left unchanged. */
    public static double[] numericalGradient(ToDoubleFunction<double[]> f, double[] x, double h) {
        double[] g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double xi = x[i];
            x[i] = xi + h;
            double fp = f.applyAsDouble(x);
            x[i] = xi - h;
            double fm = f.applyAsDouble(x);
            x[i] = xi;
            g[i] = (fp - fm) / (2 * h);
        }
        return g;
    }

    /** sum_i w_i y_i: the scalar loss used to turn a vector function into one for finite differences. */
    public static double dot(double[] w, double[] y) {
        double s = 0;
        for (int i = 0; i < y.length; i++) {
            s += w[i] * y[i];
        }
        return s;
    }
}
