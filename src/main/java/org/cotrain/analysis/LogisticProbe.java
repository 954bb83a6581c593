package org.cotrain.analysis;

import org.cotrain.random.Philox;

/**
 * A linear probe: how well logistic regression separates two classes (sim from real) given features (embeddings of a
 * policy), measured on held-out samples. The samples are split at random (from a seed) into a training and a test
 * part; each feature is standardised with the training part's mean and standard deviation; the probe minimises the
 * mean log-loss plus (l2 / 2) |w|^2 (the bias is not penalised) by L-BFGS, in float64. The test accuracy is what to read; the training accuracy shows how much the probe overfits, and the
 * majority baseline is the accuracy of always answering the test part's more frequent class.
 */
public final class LogisticProbe {
    static final int MAX_ITERATIONS = 500;
    static final int MEMORY = 10;
    static final double GRADIENT_TOLERANCE = 1e-6;

    /** A probe's accuracies. */
    public record Result(double trainAccuracy, double testAccuracy, int trainSize, int testSize, int dims,
                         double majorityBaseline) {}

    private LogisticProbe() {}

    /**
     * @param x            (n, d) features
     * @param y            (n) labels 0 or 1
     * @param testFraction the share of samples held out, in (0, 1)
     * @param l2           the weight penalty, >= 0
     */
    public static Result evaluate(double[][] x, int[] y, double testFraction, double l2, long seed) {
        int n = x.length;
        if (n != y.length || n < 4 || !(testFraction > 0 && testFraction < 1) || !(l2 >= 0)) {
            throw new IllegalArgumentException("probe: " + n + " samples, " + y.length + " labels, test fraction "
                    + testFraction + ", l2 " + l2 + " (need >= 4 samples, a test fraction in (0, 1), l2 >= 0)");
        }
        int d = x[0].length;
        int[] order = permutation(n, seed);
        int nTest = Math.max(1, Math.min(n - 1, (int) Math.round(n * testFraction)));
        int nTrain = n - nTest;
        double[][] train = new double[nTrain][];
        int[] yTrain = new int[nTrain];
        double[][] test = new double[nTest][];
        int[] yTest = new int[nTest];
        for (int i = 0; i < n; i++) {
            int s = order[i];
            if (x[s].length != d || (y[s] != 0 && y[s] != 1)) {
                throw new IllegalArgumentException("probe: sample " + s + " has " + x[s].length + " features (expected "
                        + d + ") and label " + y[s]);
            }
            if (i < nTrain) {
                train[i] = x[s];
                yTrain[i] = y[s];
            } else {
                test[i - nTrain] = x[s];
                yTest[i - nTrain] = y[s];
            }
        }
        double[] mean = new double[d];
        double[] std = new double[d];
        for (double[] row : train) {
            for (int j = 0; j < d; j++) {
                mean[j] += row[j] / nTrain;
            }
        }
        for (double[] row : train) {
            for (int j = 0; j < d; j++) {
                std[j] += (row[j] - mean[j]) * (row[j] - mean[j]) / nTrain;
            }
        }
        for (int j = 0; j < d; j++) {
            std[j] = std[j] > 1e-24 ? Math.sqrt(std[j]) : 1; // a constant feature carries nothing; leave it at 0
        }
        double[][] a = standardise(train, mean, std);
        double[][] b = standardise(test, mean, std);
        double[] w = fit(a, yTrain, l2);
        int ones = 0;
        for (int v : yTest) {
            ones += v;
        }
        return new Result(accuracy(a, yTrain, w), accuracy(b, yTest, w), nTrain, nTest, d,
                Math.max(ones, nTest - ones) / (double) nTest);
    }

    /** A random permutation of 0..n-1 (Fisher-Yates on Philox draws). */
    static int[] permutation(int n, long seed) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = Philox.randint(seed, i, 0, i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    private static double[][] standardise(double[][] x, double[] mean, double[] std) {
        double[][] out = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            out[i] = new double[mean.length];
            for (int j = 0; j < mean.length; j++) {
                out[i][j] = (x[i][j] - mean[j]) / std[j];
            }
        }
        return out;
    }

    /**
     * Weights w[0..d-1] and the bias w[d], by L-BFGS (the last {@value #MEMORY} steps) with a backtracking line
     * search: embeddings are strongly correlated features, on which plain gradient descent stalls far from the
     * optimum (and the probe would underfit); L-BFGS costs the same O(n d) per iteration.
     */
    static double[] fit(double[][] x, int[] y, double l2) {
        int d = x[0].length + 1;
        double[] w = new double[d];
        double[] grad = new double[d];
        double loss = objective(x, y, w, l2, grad);
        double[][] sHistory = new double[MEMORY][];
        double[][] yHistory = new double[MEMORY][];
        double[] rho = new double[MEMORY];
        int stored = 0;
        for (int it = 0; it < MAX_ITERATIONS && norm(grad) >= GRADIENT_TOLERANCE; it++) {
            // the two-loop recursion: direction = -H grad
            double[] q = grad.clone();
            double[] alpha = new double[stored];
            for (int i = stored - 1; i >= 0; i--) {
                alpha[i] = rho[i] * dot(sHistory[i], q);
                axpy(-alpha[i], yHistory[i], q);
            }
            double gamma = stored == 0 ? 1 / Math.max(norm(grad), 1e-12)
                    : dot(sHistory[stored - 1], yHistory[stored - 1]) / dot(yHistory[stored - 1], yHistory[stored - 1]);
            for (int j = 0; j < d; j++) {
                q[j] *= gamma;
            }
            for (int i = 0; i < stored; i++) {
                double beta = rho[i] * dot(yHistory[i], q);
                axpy(alpha[i] - beta, sHistory[i], q);
            }
            double slope = -dot(grad, q);
            if (!(slope < 0)) { // not a descent direction (rounding): restart from the gradient
                stored = 0;
                q = grad.clone();
                slope = -dot(grad, q);
            }
            // backtracking (Armijo) along -q
            double step = 1;
            double[] candidate = new double[d];
            double[] candidateGrad = new double[d];
            double candidateLoss;
            while (true) {
                for (int j = 0; j < d; j++) {
                    candidate[j] = w[j] - step * q[j];
                }
                candidateLoss = objective(x, y, candidate, l2, candidateGrad);
                if (candidateLoss <= loss + 1e-4 * step * slope || step < 1e-12) {
                    break;
                }
                step /= 2;
            }
            double[] sNew = new double[d];
            double[] yNew = new double[d];
            for (int j = 0; j < d; j++) {
                sNew[j] = candidate[j] - w[j];
                yNew[j] = candidateGrad[j] - grad[j];
            }
            double decrease = loss - candidateLoss;
            w = candidate;
            grad = candidateGrad;
            loss = candidateLoss;
            double sy = dot(sNew, yNew);
            if (sy > 1e-12) {
                if (stored == MEMORY) {
                    System.arraycopy(sHistory, 1, sHistory, 0, MEMORY - 1);
                    System.arraycopy(yHistory, 1, yHistory, 0, MEMORY - 1);
                    System.arraycopy(rho, 1, rho, 0, MEMORY - 1);
                    stored--;
                }
                sHistory[stored] = sNew;
                yHistory[stored] = yNew;
                rho[stored] = 1 / sy;
                stored++;
            }
            if (decrease < 1e-12 * Math.max(1, Math.abs(loss))) {
                break;
            }
        }
        return w;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static double norm(double[] a) {
        return Math.sqrt(dot(a, a));
    }

    private static void axpy(double alpha, double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) {
            y[i] += alpha * x[i];
        }
    }

    /** Mean log-loss + (l2 / 2) |w|^2, and its gradient into grad. */
    private static double objective(double[][] x, int[] y, double[] w, double l2, double[] grad) {
        int d = w.length - 1;
        java.util.Arrays.fill(grad, 0);
        double loss = 0;
        for (int i = 0; i < x.length; i++) {
            double z = w[d];
            for (int j = 0; j < d; j++) {
                z += w[j] * x[i][j];
            }
            // log(1 + e^z) - y z, stably
            loss += Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))) - y[i] * z;
            double r = sigmoid(z) - y[i];
            for (int j = 0; j < d; j++) {
                grad[j] += r * x[i][j];
            }
            grad[d] += r;
        }
        double n = x.length;
        loss /= n;
        for (int j = 0; j <= d; j++) {
            grad[j] /= n;
        }
        for (int j = 0; j < d; j++) {
            loss += 0.5 * l2 * w[j] * w[j];
            grad[j] += l2 * w[j];
        }
        return loss;
    }

    private static double accuracy(double[][] x, int[] y, double[] w) {
        int d = w.length - 1;
        int correct = 0;
        for (int i = 0; i < x.length; i++) {
            double z = w[d];
            for (int j = 0; j < d; j++) {
                z += w[j] * x[i][j];
            }
            correct += (z > 0 ? 1 : 0) == y[i] ? 1 : 0;
        }
        return correct / (double) x.length;
    }

    private static double sigmoid(double z) {
        return 1 / (1 + Math.exp(-z));
    }
}
