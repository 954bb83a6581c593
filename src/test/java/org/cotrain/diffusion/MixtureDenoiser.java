package org.cotrain.diffusion;

import org.cotrain.ops.Prediction;
import org.cotrain.tensor.Tensor;

/**
 * The ideal denoiser of a data distribution made of K points with equal weights, computed on the host in float64:
 * the posterior mean E[x0 | x_t] = sum_k w_k p_k with w_k proportional to exp(-|x_t - sqrt(abar_t) p_k|^2 /
 * (2 (1 - abar_t))), returned as is (sample prediction) or as the noise it implies, (x_t - sqrt(abar_t) E[x0 |
 * x_t]) / sqrt(1 - abar_t) (epsilon prediction). With one point this is eps = (x_t - sqrt(abar_t) x*) /
 * sqrt(1 - abar_t). Each chain (batch entry) is one sample of the whole (H, Da) trajectory.
 *
 * <p>It also records what the sampler hands it: the timesteps of every call, the condition, and the last sample.
 */
final class MixtureDenoiser implements Denoiser {
    private final float[] abar;
    private final Prediction prediction;
    private final double[][] points; // (K, H * Da)
    final java.util.List<float[]> timestepsSeen = new java.util.ArrayList<>();
    final java.util.List<float[]> samplesSeen = new java.util.ArrayList<>();
    Tensor condSeen;

    MixtureDenoiser(float[] abar, Prediction prediction, double[]... points) {
        this.abar = abar;
        this.prediction = prediction;
        this.points = points;
    }

    @Override
    public void predict(Tensor sample, Tensor timesteps, Tensor cond, Tensor out) {
        int b = sample.dim(0);
        int n = (int) (sample.numel() / b);
        float[] x = sample.toFloatArray();
        float[] t = timesteps.toFloatArray();
        timestepsSeen.add(t);
        samplesSeen.add(x);
        condSeen = cond;
        float[] y = new float[x.length];
        double[] logW = new double[points.length];
        for (int c = 0; c < b; c++) {
            int tc = (int) t[c];
            if (tc != t[c]) {
                throw new AssertionError("timestep " + t[c] + " is not an integer");
            }
            double a = abar[tc];
            double sa = Math.sqrt(a);
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < points.length; k++) {
                double d2 = 0;
                for (int i = 0; i < n; i++) {
                    double d = x[c * n + i] - sa * points[k][i];
                    d2 += d * d;
                }
                logW[k] = -d2 / (2 * (1 - a));
                max = Math.max(max, logW[k]);
            }
            double sum = 0;
            for (int k = 0; k < points.length; k++) {
                logW[k] = Math.exp(logW[k] - max);
                sum += logW[k];
            }
            for (int i = 0; i < n; i++) {
                double x0 = 0;
                for (int k = 0; k < points.length; k++) {
                    x0 += logW[k] / sum * points[k][i];
                }
                double eps = (x[c * n + i] - sa * x0) / Math.sqrt(1 - a);
                y[c * n + i] = (float) (prediction == Prediction.EPSILON ? eps : x0);
            }
        }
        out.copyFrom(y);
    }
}
