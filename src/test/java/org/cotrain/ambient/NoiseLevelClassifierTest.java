package org.cotrain.ambient;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.cotrain.backend.Backends;
import org.cotrain.backend.CpuBackend;
import org.cotrain.config.NoiseClassifierConfig;
import org.cotrain.data.DemoDataset;
import org.cotrain.data.LinearNormalizer;
import org.cotrain.data.MixtureDataset;
import org.cotrain.diffusion.NoiseSchedulerConfig;
import org.cotrain.ops.OpTesting;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The noise-level classifier: its gradients, and on synthetic data with a known answer, the levels it finds.
 *
 * <p>Clean chunks are smooth: x0 = sqrt(v) U z with z ~ N(0, I_4) and U an orthonormal basis of the chunks whose
 * actions are linear in time (D = 16 values, a 4-dimensional subspace). Corrupt chunks are the clean set plus
 * Gaussian noise of a known level sigma in every direction. At step t both are Gaussian, with variances a v + s^2
 * (clean) and a (v + sigma^2) + s^2 (corrupt) in the subspace and s^2 and a sigma^2 + s^2 across it (a = abar_t,
 * s^2 = 1 - a), so the Bayes-optimal P(corrupt | x_t) is known in closed form, and with it the t_n the annotation
 * procedure gives with a perfect classifier. (Not the step where s_t equals sigma: there the variances across the
 * subspace still differ by a factor 2, which 12 dimensions tell apart; the perfect classifier's t_n lies above it.)
 * The learned classifier must recover the perfect classifier's median t_n within 10 of the 100 steps, for two noise
 * levels, and order them.
 */
class NoiseLevelClassifierTest {
    private static final int HORIZON = 8;
    private static final int D = HORIZON * 2;
    private static final int K = 4;
    private static final double V = 0.25;
    private static final float[] ABAR = NoiseSchedulerConfig.diffusionPolicy().schedule().alphasCumprod();
    private static final int T = ABAR.length;
    private static final double[][] BASIS = smoothBasis();
    private static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    /** Orthonormal (Gram-Schmidt) basis of the chunks (H, 2) whose two actions are linear in the step h. (K, D) */
    private static double[][] smoothBasis() {
        double[][] u = new double[K][D];
        for (int h = 0; h < HORIZON; h++) {
            double centred = h - (HORIZON - 1) / 2.0;
            u[0][2 * h] = 1;
            u[1][2 * h + 1] = 1;
            u[2][2 * h] = centred;
            u[3][2 * h + 1] = centred;
        }
        for (int i = 0; i < K; i++) {
            for (int j = 0; j < i; j++) {
                double dot = 0;
                for (int d = 0; d < D; d++) {
                    dot += u[i][d] * u[j][d];
                }
                for (int d = 0; d < D; d++) {
                    u[i][d] -= dot * u[j][d];
                }
            }
            double norm = 0;
            for (int d = 0; d < D; d++) {
                norm += u[i][d] * u[i][d];
            }
            for (int d = 0; d < D; d++) {
                u[i][d] /= Math.sqrt(norm);
            }
        }
        return u;
    }

    /** One demo per chunk: with n_obs_steps = n_action_steps = 1 a demo of HORIZON steps is exactly one window. */
    private static DemoDataset chunks(String name, double[][] x0) {
        int n = x0.length;
        int[] ends = new int[n];
        float[] actions = new float[n * D];
        float[] obs = new float[n * HORIZON];
        List<String> names = new ArrayList<>();
        boolean[] train = new boolean[n];
        for (int i = 0; i < n; i++) {
            ends[i] = (i + 1) * HORIZON;
            names.add("demo_" + i);
            train[i] = true;
            for (int k = 0; k < D; k++) {
                actions[i * D + k] = (float) x0[i][k];
            }
        }
        return new DemoDataset(Path.of(name), List.of("x"), names, ends, obs, 1, actions, 2, train, new boolean[n]);
    }

    /** The identity normaliser: the chunks are used as they are. */
    private static LinearNormalizer identity() {
        LinearNormalizer n = new LinearNormalizer();
        n.put("action", new LinearNormalizer.Field(new float[] {1, 1}, new float[] {0, 0}, new float[] {-1, -1},
                new float[] {1, 1}, new float[] {0, 0}, new float[] {1, 1}));
        n.put("obs", new LinearNormalizer.Field(new float[] {1}, new float[] {0}, new float[] {-1}, new float[] {1},
                new float[] {0}, new float[] {1}));
        return n;
    }

    /** n smooth chunks, plus sigma noise in every direction. */
    private static double[][] chunks(Random r, int n, double sigma) {
        double[][] x = new double[n][D];
        for (double[] row : x) {
            for (int i = 0; i < K; i++) {
                double z = Math.sqrt(V) * r.nextGaussian();
                for (int d = 0; d < D; d++) {
                    row[d] += z * BASIS[i][d];
                }
            }
            for (int d = 0; d < D; d++) {
                row[d] += sigma * r.nextGaussian();
            }
        }
        return x;
    }

    /** The annotation procedure with the Bayes-optimal posterior: mean P(corrupt) over draws, first t below 0.55. */
    private static int[] bayesLevels(double[][] corrupt, double sigma, int draws, double epsilon, long seed) {
        Random r = new Random(seed);
        int[] tn = new int[corrupt.length];
        for (int i = 0; i < corrupt.length; i++) {
            tn[i] = T;
            for (int t = 0; t < T; t++) {
                double a = ABAR[t];
                double s2 = 1 - a;
                double in0 = a * V + s2;                 // clean, in the subspace
                double in1 = a * (V + sigma * sigma) + s2;
                double out0 = s2;                        // clean, across it
                double out1 = a * sigma * sigma + s2;
                double p = 0;
                for (int d = 0; d < draws; d++) {
                    double[] x = new double[D];
                    double total = 0;
                    for (int k = 0; k < D; k++) {
                        x[k] = Math.sqrt(a) * corrupt[i][k] + Math.sqrt(s2) * r.nextGaussian();
                        total += x[k] * x[k];
                    }
                    double inside = 0;
                    for (double[] u : BASIS) {
                        double c = 0;
                        for (int k = 0; k < D; k++) {
                            c += u[k] * x[k];
                        }
                        inside += c * c;
                    }
                    double across = total - inside;
                    double logRatio = -0.5 * (K * Math.log(in1 / in0) + (D - K) * Math.log(out1 / out0))
                            - 0.5 * (inside * (1 / in1 - 1 / in0) + across * (1 / out1 - 1 / out0));
                    p += NoiseLevelAnnotator.sigmoid(logRatio) / draws;
                }
                if (p < 0.5 + epsilon) {
                    tn[i] = t;
                    break;
                }
            }
        }
        return tn;
    }

    private static int median(int[] v) {
        int[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    @Test
    void recoversTheLevelOfKnownGaussianCorruption() {
        // One thread: the classifier's batches are tiny, and on a busy two-core machine OpenMP threads that wait for
        // each other at every op make it many times slower (the thread count is restored after the test).
        CpuBackend cpu = Backends.cpu();
        int threads = cpu.threads();
        cpu.setThreads(1);
        try {
            recoverLevels(cpu);
        } finally {
            cpu.setThreads(threads);
        }
    }

    private void recoverLevels(Backend cpu) {
        NoiseClassifierConfig settings = new NoiseClassifierConfig(64, 1500, 256, 2e-3, false, 8, 0.05, 0);
        int[] medians = new int[2];
        double[] sigmas = {0.2, 0.5};
        for (int s = 0; s < sigmas.length; s++) {
            Random r = new Random(100 + s);
            double[][] clean = chunks(r, 600, 0);
            double[][] corrupt = chunks(r, 200, sigmas[s]);
            List<DemoDataset> data = List.of(chunks("clean", clean), chunks("corrupt", corrupt));
            MixtureDataset mixture = new MixtureDataset(data, new double[] {1, 1}, identity(), HORIZON, 1, 1, 8, 0);
            long start = System.nanoTime();
            NoiseLevelAnnotator.Result result = NoiseLevelAnnotator.annotate(mixture, new double[] {1, 0}, 1,
                    settings, ABAR, cpu, QUIET);
            double seconds = (System.nanoTime() - start) / 1e9;
            int[] bayes = bayesLevels(corrupt, sigmas[s], settings.noiseDraws(), settings.epsilon(), 7);
            medians[s] = median(result.tn());
            System.out.printf("noise-level classifier, sigma %.2f: median t_n %d (Bayes-optimal %d), training"
                    + " accuracy %.3f, %.1f s%n", sigmas[s], medians[s], median(bayes), result.finalAccuracy(),
                    seconds);
            assertTrue(Math.abs(medians[s] - median(bayes)) <= 10, "sigma " + sigmas[s] + ": median t_n "
                    + medians[s] + ", the Bayes-optimal classifier's " + median(bayes));
        }
        assertTrue(medians[1] > medians[0] + 10, "more corruption, a higher level: " + Arrays.toString(medians));
    }

    @Test
    void annotationIsDeterministicAndCleanDataLooksClean() {
        Backend cpu = Backends.cpu();
        NoiseClassifierConfig settings = new NoiseClassifierConfig(16, 60, 64, 2e-3, true, 2, 0.05, 3);
        Random r = new Random(5);
        List<DemoDataset> data = List.of(chunks("clean", chunks(r, 100, 0)), chunks("same", chunks(r, 50, 0)));
        MixtureDataset mixture = new MixtureDataset(data, new double[] {1, 1}, identity(), HORIZON, 1, 1, 8, 0);
        NoiseLevelAnnotator.Result a = NoiseLevelAnnotator.annotate(mixture, new double[] {1, 0}, 1, settings, ABAR,
                cpu, QUIET);
        NoiseLevelAnnotator.Result b = NoiseLevelAnnotator.annotate(mixture, new double[] {1, 0}, 1, settings, ABAR,
                cpu, QUIET);
        assertArrayEquals(a.tn(), b.tn(), "same data, settings and backend: the same levels");
        // the "corrupt" set is drawn like the clean one: nothing to tell apart, so most windows are clean at t = 0
        long atZero = Arrays.stream(a.tn()).filter(v -> v == 0).count();
        assertTrue(atZero > 0.8 * a.tn().length, "windows with t_n = 0: " + atZero + " of " + a.tn().length);
    }

    @Test
    void backwardMatchesFiniteDifferences() {
        Backend cpu = Backends.cpu();
        int b = 3;
        int chunkDim = 5;
        int obsDim = 4;
        try (NoiseLevelClassifier c = new NoiseLevelClassifier(cpu, chunkDim, obsDim, 6);
             Tensor x = cpu.of(OpTesting.toFloat(OpTesting.randn(1, b * chunkDim)), b, chunkDim);
             Tensor t = cpu.of(new float[] {0, 17, 99}, b);
             Tensor obs = cpu.of(OpTesting.toFloat(OpTesting.randn(2, b * obsDim)), b, obsDim);
             Tensor dlogits = cpu.of(new float[] {1, -0.5f, 2}, b, 1)) {
            c.initialize(9);
            for (var p : c.parameters()) {
                // non-zero biases too, so that their gradients are tested away from the symmetric point
                float[] v = p.value().toFloatArray();
                for (int i = 0; i < v.length; i++) {
                    v[i] += 0.05f * (i % 3);
                }
                p.value().copyFrom(v);
            }
            c.forward(x, t, obs);
            c.zeroGrad();
            c.backward(dlogits);
            float[] dl = dlogits.toFloatArray();
            for (var p : c.parameters()) {
                float[] analytic = p.grad().toFloatArray();
                float[] v = p.value().toFloatArray();
                double[] numeric = new double[v.length];
                for (int i = 0; i < v.length; i++) {
                    float keep = v[i];
                    double h = 1e-2;
                    v[i] = (float) (keep + h);
                    p.value().copyFrom(v);
                    double plus = OpTesting.dot(OpTesting.toDouble(dl),
                            OpTesting.toDouble(c.forward(x, t, obs).toFloatArray()));
                    v[i] = (float) (keep - h);
                    p.value().copyFrom(v);
                    double minus = OpTesting.dot(OpTesting.toDouble(dl),
                            OpTesting.toDouble(c.forward(x, t, obs).toFloatArray()));
                    v[i] = keep;
                    p.value().copyFrom(v);
                    numeric[i] = (plus - minus) / (2 * h);
                }
                double err = OpTesting.relativeError(analytic, numeric);
                assertTrue(err < 1e-2, p.name() + ": relative error " + err);
            }
            assertEquals(10, c.parameters().size(), "chunk_in, time_in, obs_in, hidden, out: weight and bias");
        }
    }
}
