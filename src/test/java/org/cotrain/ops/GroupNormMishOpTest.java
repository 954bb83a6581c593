package org.cotrain.ops;

import static org.cotrain.ops.FilmOpTest.assertWithin;
import static org.cotrain.ops.FilmOpTest.nans;
import static org.cotrain.ops.OpTesting.toDouble;
import static org.cotrain.ops.OpTesting.toFloat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * groupnorm.h's fused GroupNorm + Mish (Conv1dBlock): y = mish(groupnorm(x)) over (N, C, T), mean and rstd saved; the
 * backward recomputing the GroupNorm output, writing dx and accumulating dweight and dbias.
 *
 * <p>Tolerances are per element and come from float32 error analysis with u = 2^-24, counting every rounding of the
 * op's computation (so they hold with or without FMA contraction, on the AVX2 and the baseline clone, on any x86 CPU);
 * the inputs are float32 values, so the float64 reference is exact to ~1e-16 and every difference is the op's own.
 * The facts used: |mish'| <= 1.09 and |mish''| <= 0.65 on the whole real line (so an error e in z moves y by at most
 * 1.1 e and dz / dy by at most 0.7 e); the library's Mish is x tanh(softplus(x)) written as ratios of t = exp(-|x|)
 * (activation.cpp): exp within 2 ulp (4u relative), then 4 roundings for tanh(softplus) with a condition number of at
 * most 1 in t, so tanh(softplus) is within 8u relative, and the derivative tsp + z sech^2 sig, with sech^2 and sig
 * within 20u and 6u relative, is within 40u (|tsp| + |z sech^2 sig|) <= 40u (1 + |z|); 48u (1 + |z|) is used. Each
 * bound is then doubled for the second-order terms (products of two roundings) left out of the count.
 */
class GroupNormMishOpTest {
    private static final double U = FilmOpTest.U;
    private static final float EPS = 1e-5f;

    /** (N, C, T, groups): odd sizes, one value, groups of two values (T = 1), one group, DP-C's 8 groups. */
    private static final int[][] CASES = {
        {3, 6, 7, 3}, {1, 1, 1, 1}, {2, 4, 1, 2}, {2, 16, 5, 8}, {3, 32, 4, 1}, {8, 64, 16, 8}, {5, 40, 33, 8},
    };

    /** {y, mean, rstd} of x (n, c, t) in float64, the statistics computed from x. */
    static double[][] forward(double[] x, double[] w, double[] b, int n, int c, int t, int g, double eps) {
        int cg = c / g;
        int m = cg * t;
        double[] y = new double[x.length];
        double[] mean = new double[n * g];
        double[] rstd = new double[n * g];
        for (int ng = 0; ng < n * g; ng++) {
            double mu = 0;
            for (int i = 0; i < m; i++) {
                mu += x[ng * m + i];
            }
            mu /= m;
            double var = 0;
            for (int i = 0; i < m; i++) {
                var += (x[ng * m + i] - mu) * (x[ng * m + i] - mu);
            }
            mean[ng] = mu;
            rstd[ng] = 1 / Math.sqrt(var / m + eps);
        }
        double[] z = affine(x, w, b, mean, rstd, n, c, t, g);
        for (int i = 0; i < x.length; i++) {
            y[i] = mish(z[i]);
        }
        return new double[][] {y, mean, rstd};
    }

    /** z = (x - mean) rstd w + b, the GroupNorm output, from the given statistics. */
    static double[] affine(double[] x, double[] w, double[] b, double[] mean, double[] rstd, int n, int c, int t,
                           int g) {
        int cg = c / g;
        double[] z = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            int ch = (i / t) % c;
            int ng = (i / (cg * t));
            z[i] = (x[i] - mean[ng]) * rstd[ng] * w[ch] + b[ch];
        }
        return z;
    }

    static double mish(double z) {
        return z * Math.tanh(Math.log1p(Math.exp(z)));
    }

    static double mishGrad(double z) {
        double sp = Math.log1p(Math.exp(z));
        double th = Math.tanh(sp);
        double sig = 1 / (1 + Math.exp(-z));
        return th + z * (1 - th * th) * sig;
    }

    /** {dx, dw, db, dz} of loss = sum(dy * y), from the given statistics (the op's own, as in training). */
    static double[][] backward(double[] dy, double[] x, double[] w, double[] b, double[] mean, double[] rstd, int n,
                               int c, int t, int g) {
        int cg = c / g;
        int m = cg * t;
        double[] z = affine(x, w, b, mean, rstd, n, c, t, g);
        double[] dz = new double[x.length];
        double[] dx = new double[x.length];
        double[] dw = new double[c];
        double[] db = new double[c];
        for (int i = 0; i < x.length; i++) {
            dz[i] = dy[i] * mishGrad(z[i]);
        }
        for (int ng = 0; ng < n * g; ng++) {
            double gm = 0;
            double gxm = 0;
            for (int i = ng * m; i < (ng + 1) * m; i++) {
                int ch = (i / t) % c;
                double xhat = (x[i] - mean[ng]) * rstd[ng];
                gm += dz[i] * w[ch] / m;
                gxm += dz[i] * w[ch] * xhat / m;
                dw[ch] += dz[i] * xhat;
                db[ch] += dz[i];
            }
            for (int i = ng * m; i < (ng + 1) * m; i++) {
                int ch = (i / t) % c;
                double xhat = (x[i] - mean[ng]) * rstd[ng];
                dx[i] = rstd[ng] * (dz[i] * w[ch] - gm - xhat * gxm);
            }
        }
        return new double[][] {dx, dw, db, dz};
    }

    /**
     * Per-element bounds of the forward against {@link #forward} from x: {y, mean, rstd}. The statistics: on the CPU
     * sums in float64 rounded to float once, mean within u |mean| (+ 2^-52 m mean|x| for the float64 sums), rstd
     * within 2u rstd. With cuda, float sums over a block of 256 threads: each thread adds ceil(m / 256) values, then
     * a 5-level warp tree and 8 partials in sequence, depth k + 13: the sum within (k + 13) u sum|x|, the mean
     * within that / m + u |mean| = e_mu; the variance of d = x - mean' (d within e_mu + u |d|) within
     * mean(2 |d| e_mu) + (k + 17) u var, and rstd = 1 / sqrtf(var + eps) within that / (2 (var + eps)) + 3u relative.
     * Then per element, with a = rstd w and d = x - mean: z = (x - mean') a' + b within
     * |a| e_mu + |a| |d| (3u + e_r) + u |z| (the subtraction, a's rounding and e_r, the product, the add), and
     * y = z tanh(softplus(z)) within 1.1 e_z + 9u |z| (16u used); all doubled.
     */
    static double[][] forwardBounds(double[] x, double[] w, double[] b, double[][] ref, int n, int c, int t, int g,
                                    boolean cuda) {
        int cg = c / g;
        int m = cg * t;
        double[] by = new double[x.length];
        double[] bm = new double[n * g];
        double[] br = new double[n * g];
        double[] z = affine(x, w, b, ref[1], ref[2], n, c, t, g);
        for (int ng = 0; ng < n * g; ng++) {
            double mu = ref[1][ng];
            double r = ref[2][ng];
            double meanAbs = 0;
            double dAbs = 0;
            for (int i = ng * m; i < (ng + 1) * m; i++) {
                meanAbs += Math.abs(x[i]) / m;
                dAbs += Math.abs(x[i] - mu) / m;
            }
            double eMu;
            double eR;
            if (cuda) {
                int k = (m + 255) / 256;
                eMu = (k + 13) * U * meanAbs + U * Math.abs(mu);
                double varEps = 1 / (r * r); // var + eps
                double var = Math.max(varEps - EPS, 0);
                double eVar = 2 * dAbs * eMu + (k + 17) * U * var;
                eR = eVar / (2 * varEps) + 3 * U;
            } else {
                eMu = U * Math.abs(mu) + 0x1p-52 * m * meanAbs;
                eR = 2 * U;
            }
            bm[ng] = 2 * eMu;
            br[ng] = 2 * eR * r;
            for (int i = ng * m; i < (ng + 1) * m; i++) {
                int ch = (i / t) % c;
                double a = Math.abs(r * w[ch]);
                double d = Math.abs(x[i] - mu);
                double ez = a * eMu + a * d * (3 * U + eR) + U * Math.abs(z[i]);
                by[i] = 2 * (1.1 * ez + 16 * U * Math.abs(z[i]));
            }
        }
        return new double[][] {by, bm, br};
    }

    /**
     * Per-element bounds of the backward against {@link #backward} from the same statistics: {dx, dw, db}. z is
     * recomputed by the op within e_z = 3u |a| |d| + u |z| (subtraction, a = rstd w, product, add); dz = dy mish'(z)
     * within D = |dy| (0.7 e_z + 48u (1 + |z|)) + u |dz|. dx = rstd (g - avg(g) - xhat avg(g xhat)) with g = dz w: the
     * CPU forms it in float64 from the float dz, so dx is within rstd (|w| D + avg(|w| D) + |xhat| avg(|w| D |xhat|))
     * + u |dx| (the final rounding). dweight and dbias: float64 sums of dz xhat and dz, so within sum(D |xhat|) and
     * sum(D), + u |result| (+ u |total| again when accumulated onto a prefilled buffer). With cuda the sums are
     * float block sums (depth k + 13 with k = ceil(values / 256), as in forwardBounds) and xhat is rounded twice:
     * dx gains rstd ((k + 13) u avg|g| + |xhat| (k + 15) u avg|g xhat| + 4u (|g| + |avg g| + |xhat avg(g xhat)|)),
     * dweight (k' + 16) u sum|dz xhat| and dbias (k' + 13) u sum|dz| with k' = ceil(N T / 256). All doubled.
     */
    static double[][] backwardBounds(double[] dy, double[] x, double[] w, double[] b, double[] mean, double[] rstd,
                                     double[][] ref, int n, int c, int t, int g, boolean cuda) {
        int cg = c / g;
        int m = cg * t;
        double[] z = affine(x, w, b, mean, rstd, n, c, t, g);
        double[] bdx = new double[x.length];
        double[] bdw = new double[c];
        double[] bdb = new double[c];
        double[] dd = new double[x.length];
        double[] absDzXhat = new double[c];
        double[] absDz = new double[c];
        for (int i = 0; i < x.length; i++) {
            int ng = i / m;
            int ch = (i / t) % c;
            double a = Math.abs(rstd[ng] * w[ch]);
            double ez = 3 * U * a * Math.abs(x[i] - mean[ng]) + U * Math.abs(z[i]);
            dd[i] = Math.abs(dy[i]) * (0.7 * ez + 48 * U * (1 + Math.abs(z[i]))) + U * Math.abs(ref[3][i]);
            double xhat = Math.abs((x[i] - mean[ng]) * rstd[ng]);
            bdw[ch] += dd[i] * xhat;
            bdb[ch] += dd[i];
            absDzXhat[ch] += Math.abs(ref[3][i]) * xhat;
            absDz[ch] += Math.abs(ref[3][i]);
        }
        for (int ng = 0; ng < n * g; ng++) {
            double avgWd = 0;
            double avgWdX = 0;
            double avgG = 0;
            double avgGx = 0;
            double gm = 0;
            double gxm = 0;
            for (int i = ng * m; i < (ng + 1) * m; i++) {
                int ch = (i / t) % c;
                double xhat = (x[i] - mean[ng]) * rstd[ng];
                double gi = ref[3][i] * w[ch];
                avgWd += Math.abs(w[ch]) * dd[i] / m;
                avgWdX += Math.abs(w[ch]) * dd[i] * Math.abs(xhat) / m;
                avgG += Math.abs(gi) / m;
                avgGx += Math.abs(gi * xhat) / m;
                gm += gi / m;
                gxm += gi * xhat / m;
            }
            int k = (m + 255) / 256;
            for (int i = ng * m; i < (ng + 1) * m; i++) {
                int ch = (i / t) % c;
                double xhat = Math.abs((x[i] - mean[ng]) * rstd[ng]);
                double e = rstd[ng] * (Math.abs(w[ch]) * dd[i] + avgWd + xhat * avgWdX) + U * Math.abs(ref[0][i]);
                if (cuda) {
                    double gi = Math.abs(ref[3][i] * w[ch]);
                    e += rstd[ng] * ((k + 13) * U * avgG + xhat * (k + 15) * U * avgGx
                            + 4 * U * (gi + Math.abs(gm) + xhat * Math.abs(gxm)));
                }
                bdx[i] = 2 * e;
            }
        }
        int kc = (n * t + 255) / 256;
        for (int ch = 0; ch < c; ch++) {
            double ew = bdw[ch] + U * Math.abs(ref[1][ch]);
            double eb = bdb[ch] + U * Math.abs(ref[2][ch]);
            if (cuda) {
                ew += (kc + 16) * U * absDzXhat[ch];
                eb += (kc + 13) * U * absDz[ch];
            }
            bdw[ch] = 2 * ew;
            bdb[ch] = 2 * eb;
        }
        return new double[][] {bdx, bdw, bdb};
    }


    /** Forward on be: {y, mean, rstd}. */
    private static float[][] forwardOn(Backend be, int[] cs, float[] x, float[] w, float[] b) {
        int n = cs[0];
        int c = cs[1];
        int g = cs[3];
        try (Tensor tx = be.of(x, n, c, cs[2]); Tensor tw = be.of(w, c); Tensor tb = be.of(b, c);
             Tensor ty = be.of(nans(x.length), n, c, cs[2]); Tensor tm = be.zeros(n, g); Tensor ts = be.zeros(n, g)) {
            Ops.groupNormMishForward(tx, tw, tb, ty, tm, ts, g, EPS);
            return new float[][] {ty.toFloatArray(), tm.toFloatArray(), ts.toFloatArray()};
        }
    }

    /** Backward on be from the given statistics: {dx, dw, db}; dx prefilled with NaN (it must be written). */
    private static float[][] backwardOn(Backend be, int[] cs, float[] dy, float[] x, float[] w, float[] b, float[] mean,
                                        float[] rstd, float[] dw0, float[] db0) {
        int n = cs[0];
        int c = cs[1];
        int g = cs[3];
        try (Tensor tx = be.of(x, n, c, cs[2]); Tensor tw = be.of(w, c); Tensor tb = be.of(b, c);
             Tensor tm = be.of(mean, n, g); Tensor ts = be.of(rstd, n, g); Tensor tdy = be.of(dy, n, c, cs[2]);
             Tensor tdx = be.of(nans(x.length), n, c, cs[2]); Tensor tdw = be.of(dw0, c); Tensor tdb = be.of(db0, c)) {
            Ops.groupNormMishBackward(tdy, tx, tw, tb, tm, ts, tdx, tdw, tdb, g);
            return new float[][] {tdx.toFloatArray(), tdw.toFloatArray(), tdb.toFloatArray()};
        }
    }

    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        // Central differences with h = 1e-6 in float64: truncation h^2 / 6 |L'''| (L''' grows as rstd^3 <= 125 here
        // times sum |dy|: ~1e-10) and rounding 2^-53 |L| / h (|L| <= ~50: ~6e-9 absolute, against gradients of
        // order 1): 1e-6 relative leaves two orders of magnitude. Not groups of two values: there the exact dx is of
        // order eps / var, below the differences' own rounding, so a relative comparison says nothing.
        int[][] small = {{2, 4, 3, 2}, {1, 3, 4, 1}, {2, 4, 3, 4}};
        for (int k = 0; k < small.length; k++) {
            int[] cs = small[k];
            int n = cs[0];
            int c = cs[1];
            int t = cs[2];
            int g = cs[3];
            double[] x = GroupNormOpTest.inputs(10 + k, n, c, t);
            double[] w = GroupNormOpTest.weight(11 + k, c);
            double[] b = OpTesting.randn(12 + k, c);
            double[] dy = OpTesting.randn(13 + k, x.length);
            double[][] f = forward(x, w, b, n, c, t, g, EPS);
            double[][] grads = backward(dy, x, w, b, f[1], f[2], n, c, t, g);
            String at = Arrays.toString(cs);
            OpTesting.assertClose("reference dx " + at, grads[0], OpTesting.numericalGradient(
                    v -> OpTesting.dot(dy, forward(v, w, b, n, c, t, g, EPS)[0]), x, 1e-6), 1e-6);
            OpTesting.assertClose("reference dw " + at, grads[1], OpTesting.numericalGradient(
                    v -> OpTesting.dot(dy, forward(x, v, b, n, c, t, g, EPS)[0]), w, 1e-6), 1e-6);
            OpTesting.assertClose("reference db " + at, grads[2], OpTesting.numericalGradient(
                    v -> OpTesting.dot(dy, forward(x, w, v, n, c, t, g, EPS)[0]), b, 1e-6), 1e-6);
        }
    }

    @Test
    void cpuMatchesReference() {
        Backend cpu = OpTesting.cpu();
        for (int k = 0; k < CASES.length; k++) {
            int[] cs = CASES[k];
            int n = cs[0];
            int c = cs[1];
            int t = cs[2];
            int g = cs[3];
            float[] x = toFloat(GroupNormOpTest.inputs(100 + k, n, c, t));
            float[] w = toFloat(GroupNormOpTest.weight(101 + k, c));
            float[] b = toFloat(OpTesting.randn(102 + k, c));
            float[] dy = toFloat(OpTesting.randn(103 + k, x.length));
            float[] dw0 = toFloat(OpTesting.randn(104 + k, c));
            float[] db0 = toFloat(OpTesting.randn(105 + k, c));
            String at = Arrays.toString(cs);

            float[][] got = forwardOn(cpu, cs, x, w, b);
            double[][] ref = forward(toDouble(x), toDouble(w), toDouble(b), n, c, t, g, EPS);
            double[][] fb = forwardBounds(toDouble(x), toDouble(w), toDouble(b), ref, n, c, t, g, false);
            double ry = assertWithin("y " + at, got[0], ref[0], fb[0]);
            assertWithin("mean " + at, got[1], ref[1], fb[1]);
            assertWithin("rstd " + at, got[2], ref[2], fb[2]);

            // the backward from the op's own saved statistics, as in training; from zero parameter gradients (the
            // increments alone), then from prefilled ones (the totals, one more rounding of u |total|)
            double[] mean = toDouble(got[1]);
            double[] rstd = toDouble(got[2]);
            double[][] gr = backward(toDouble(dy), toDouble(x), toDouble(w), toDouble(b), mean, rstd, n, c, t, g);
            double[][] bb = backwardBounds(toDouble(dy), toDouble(x), toDouble(w), toDouble(b), mean, rstd, gr,
                    n, c, t, g, false);
            float[][] dg = backwardOn(cpu, cs, dy, x, w, b, got[1], got[2], new float[c], new float[c]);
            double rdx = assertWithin("dx " + at, dg[0], gr[0], bb[0]);
            double rdw = assertWithin("dweight " + at, dg[1], gr[1], bb[1]);
            double rdb = assertWithin("dbias " + at, dg[2], gr[2], bb[2]);
            System.out.printf("groupnorm+mish cpu %s: worst error / bound: y %.2f, dx %.2f, dweight %.2f, dbias %.2f%n",
                    at, ry, rdx, rdw, rdb);
            float[][] acc = backwardOn(cpu, cs, dy, x, w, b, got[1], got[2], dw0, db0);
            assertArrayEquals(dg[0], acc[0], "dx is written, whatever the parameter gradients held " + at);
            double[] totW = Conv2dOpTest.plus(gr[1], dw0);
            double[] totB = Conv2dOpTest.plus(gr[2], db0);
            assertWithin("dweight accumulated " + at, acc[1], totW, plusRounding(bb[1], totW));
            assertWithin("dbias accumulated " + at, acc[2], totB, plusRounding(bb[2], totB));
        }
    }

    /** bound + 2u |total|: the float add onto a prefilled gradient (doubled, as every bound here). */
    private static double[] plusRounding(double[] bound, double[] total) {
        double[] r = new double[bound.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = bound[i] + 2 * U * Math.abs(total[i]);
        }
        return r;
    }

    @Test
    void matchesGroupNormThenMish() {
        // the fused forward computes GroupNorm's float z with the same expression and Mish with the same function,
        // so it agrees with the two ops in sequence to the last bit where the compiler contracts both alike; what is
        // asserted allows the two z to differ by two roundings (one FMA against a multiply and an add), moved by
        // at most 1.1 through Mish, plus each side's own rounding of Mish (9u |z| each, 18u used): doubled.
        Backend cpu = OpTesting.cpu();
        int[] cs = {3, 6, 7, 3};
        float[] x = toFloat(GroupNormOpTest.inputs(7, 3, 6, 7));
        float[] w = toFloat(GroupNormOpTest.weight(8, 6));
        float[] b = toFloat(OpTesting.randn(9, 6));
        float[][] fused = forwardOn(cpu, cs, x, w, b);
        try (Tensor tx = cpu.of(x, 3, 6, 7); Tensor tw = cpu.of(w, 6); Tensor tb = cpu.of(b, 6);
             Tensor z = cpu.zeros(3, 6, 7); Tensor y = cpu.zeros(3, 6, 7); Tensor m = cpu.zeros(3, 3);
             Tensor s = cpu.zeros(3, 3)) {
            Ops.groupNormForward(tx, tw, tb, z, m, s, 3, EPS);
            Ops.mishForward(z, y);
            assertArrayEquals(m.toFloatArray(), fused[1], "mean");
            assertArrayEquals(s.toFloatArray(), fused[2], "rstd");
            float[] zs = z.toFloatArray();
            double[] bound = new double[zs.length];
            for (int i = 0; i < zs.length; i++) {
                bound[i] = 2 * (1.1 * 2 * U + 2 * 18 * U) * Math.abs(zs[i]);
            }
            assertWithin("fused vs GroupNorm then Mish", fused[0], toDouble(y.toFloatArray()), bound);
        }
    }

    @Test
    void rejectsBadArguments() {
        Backend cpu = OpTesting.cpu();
        try (Tensor x = cpu.zeros(2, 6, 5); Tensor w = cpu.zeros(6); Tensor w5 = cpu.zeros(5);
             Tensor y = cpu.zeros(2, 6, 5); Tensor m = cpu.zeros(2, 3); Tensor m2 = cpu.zeros(2, 2);
             Tensor dx = cpu.zeros(2, 6, 5)) {
            assertThrows(IllegalArgumentException.class, () -> Ops.groupNormMishForward(x, w, w, y, m, m, 4, EPS),
                    "6 channels in 4 groups");
            assertThrows(IllegalArgumentException.class, () -> Ops.groupNormMishForward(x, w, w, y, m2, m2, 3, EPS));
            assertThrows(IllegalArgumentException.class, () -> Ops.groupNormMishForward(x, w5, w, y, m, m, 3, EPS));
            assertThrows(IllegalArgumentException.class, () -> Ops.groupNormMishForward(x, w, w, y, m, m, 3, 0f));
            assertThrows(IllegalArgumentException.class, () -> Ops.groupNormMishForward(x, w, w, x, m, m, 3, EPS),
                    "y sharing x");
            assertThrows(IllegalArgumentException.class,
                    () -> Ops.groupNormMishBackward(y, x, w, w5, m, m, dx, w, w, 3));
            assertThrows(IllegalArgumentException.class,
                    () -> Ops.groupNormMishBackward(y, x, w, w, m, m, dx, w5, w, 3));
            assertThrows(IllegalArgumentException.class,
                    () -> Ops.groupNormMishBackward(y, x, w, w, m, m, y, w, w, 3), "dx sharing dy");
            assertThrows(IllegalArgumentException.class,
                    () -> Ops.groupNormMishBackward(y, x, w, w, m2, m2, dx, w, w, 3));
        }
    }

    @Test
    void cudaMatchesCpu() {
        Backend cuda = OpTesting.cudaOrSkip();
        Backend cpu = OpTesting.cpu();
        int[][] cases = Arrays.copyOf(CASES, CASES.length + 1);
        cases[CASES.length] = new int[] {256, 512, 8, 8}; // pusht_lowdim_unet's middle blocks at batch 256
        for (int k = 0; k < cases.length; k++) {
            int[] cs = cases[k];
            int n = cs[0];
            int c = cs[1];
            int t = cs[2];
            int g = cs[3];
            float[] x = toFloat(GroupNormOpTest.inputs(200 + k, n, c, t));
            float[] w = toFloat(GroupNormOpTest.weight(201 + k, c));
            float[] b = toFloat(OpTesting.randn(202 + k, c));
            float[] dy = toFloat(OpTesting.randn(203 + k, x.length));
            String at = Arrays.toString(cs);
            // |cuda - cpu| <= |cuda - exact| + |cpu - exact|: the sum of the two bounds
            float[][] fc = forwardOn(cpu, cs, x, w, b);
            float[][] fg = forwardOn(cuda, cs, x, w, b);
            double[][] ref = forward(toDouble(x), toDouble(w), toDouble(b), n, c, t, g, EPS);
            double[][] bc = forwardBounds(toDouble(x), toDouble(w), toDouble(b), ref, n, c, t, g, false);
            double[][] bg = forwardBounds(toDouble(x), toDouble(w), toDouble(b), ref, n, c, t, g, true);
            String[] fnames = {"y", "mean", "rstd"};
            for (int i = 0; i < 3; i++) {
                assertWithin("cuda " + fnames[i] + " " + at, fg[i], toDouble(fc[i]), sum(bc[i], bg[i]));
            }
            // the backward from the same (the CPU's) statistics on both, so that both have one reference
            double[] mean = toDouble(fc[1]);
            double[] rstd = toDouble(fc[2]);
            double[][] gr = backward(toDouble(dy), toDouble(x), toDouble(w), toDouble(b), mean, rstd, n, c, t, g);
            double[][] dc = backwardBounds(toDouble(dy), toDouble(x), toDouble(w), toDouble(b), mean, rstd, gr,
                    n, c, t, g, false);
            double[][] dgb = backwardBounds(toDouble(dy), toDouble(x), toDouble(w), toDouble(b), mean, rstd, gr,
                    n, c, t, g, true);
            float[][] gcpu = backwardOn(cpu, cs, dy, x, w, b, fc[1], fc[2], new float[c], new float[c]);
            float[][] gcuda = backwardOn(cuda, cs, dy, x, w, b, fc[1], fc[2], new float[c], new float[c]);
            String[] bnames = {"dx", "dweight", "dbias"};
            for (int i = 0; i < 3; i++) {
                assertWithin("cuda " + bnames[i] + " " + at, gcuda[i], toDouble(gcpu[i]), sum(dc[i], dgb[i]));
            }
            float[][] again = backwardOn(cuda, cs, dy, x, w, b, fc[1], fc[2], new float[c], new float[c]);
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(gcuda[i], again[i], "cuda " + bnames[i] + " run to run " + at);
            }
        }
    }

    private static double[] sum(double[] a, double[] b) {
        double[] s = new double[a.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = a[i] + b[i];
        }
        return s;
    }
}
