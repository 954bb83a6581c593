package org.cotrain.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The sim-vs-real probe on synthetic features whose separability is known. */
class LogisticProbeTest {

    /** n samples in d dimensions, half of class 1 shifted by {@code shift} along the first axis. */
    private static double[][] samples(Random r, int n, int d, double shift, int[] labels) {
        double[][] x = new double[n][d];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 2;
            for (int j = 0; j < d; j++) {
                x[i][j] = r.nextGaussian();
            }
            x[i][0] += labels[i] == 1 ? shift / 2 : -shift / 2;
            x[i][1] = 50 + 1e3 * x[i][1]; // another scale and offset: the probe standardises
        }
        return x;
    }

    @Test
    void separableClassesAreSeparated() {
        int[] y = new int[600];
        double[][] x = samples(new Random(1), 600, 10, 8, y);
        LogisticProbe.Result r = LogisticProbe.evaluate(x, y, 0.3, 0.01, 3);
        assertEquals(180, r.testSize());
        assertEquals(420, r.trainSize());
        assertEquals(10, r.dims());
        assertTrue(r.testAccuracy() > 0.99, "test accuracy " + r.testAccuracy());
    }

    @Test
    void partlySeparableClassesReachTheBayesAccuracy() {
        // means -1 and +1 along one axis, unit variance: the best classifier is right with probability Phi(1)
        int[] y = new int[4000];
        double[][] x = samples(new Random(2), 4000, 5, 2, y);
        LogisticProbe.Result r = LogisticProbe.evaluate(x, y, 0.5, 0.0, 4);
        double bayes = 0.8413447;
        double sigma = Math.sqrt(bayes * (1 - bayes) / r.testSize());
        assertTrue(Math.abs(r.testAccuracy() - bayes) < 4 * sigma + 0.01, "test accuracy " + r.testAccuracy()
                + ", Bayes " + bayes);
    }

    @Test
    void withoutSignalTheHeldOutAccuracyIsChanceEvenWhenTheTrainingAccuracyIsNot() {
        // 300 features, 280 training samples: the probe can fit the training part, not the held-out one
        int[] y = new int[400];
        double[][] x = samples(new Random(3), 400, 300, 0, y);
        LogisticProbe.Result r = LogisticProbe.evaluate(x, y, 0.3, 1e-3, 5);
        assertTrue(r.trainAccuracy() > 0.95, "train accuracy " + r.trainAccuracy());
        double sigma = Math.sqrt(0.25 / r.testSize());
        assertTrue(Math.abs(r.testAccuracy() - 0.5) < 4 * sigma, "test accuracy " + r.testAccuracy());
        assertTrue(r.majorityBaseline() >= 0.5 && r.majorityBaseline() < 0.6, "baseline " + r.majorityBaseline());
    }

    @Test
    void sameSeedSameResult() {
        int[] y = new int[200];
        double[][] x = samples(new Random(4), 200, 8, 1, y);
        assertEquals(LogisticProbe.evaluate(x, y, 0.3, 0.01, 9), LogisticProbe.evaluate(x, y, 0.3, 0.01, 9));
    }

    @Test
    void badInputIsAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LogisticProbe.evaluate(new double[][] {{1}, {2}, {3}, {4}}, new int[] {0, 1, 2, 0}, 0.5, 0, 0));
        assertTrue(e.getMessage().contains("label 2"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> LogisticProbe.evaluate(new double[][] {{1}, {2}}, new int[] {0, 1}, 0.5, 0, 0));
    }

    @Test
    void findsASignalHiddenInTheDifferenceOfCorrelatedFeatures() {
        // f1 = u + 0.05 z, f2 = u - 0.05 z: after standardising, the class signal (z, means -1 and +1) lives in a
        // direction of tiny variance. The optimum separates as well as z does (Phi(1)); a probe that stops early
        // (plain gradient descent on this ill-conditioned problem) stays near chance.
        Random r = new Random(6);
        int n = 3000;
        double[][] x = new double[n][6];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 2;
            double z = r.nextGaussian() + (y[i] == 1 ? 1 : -1);
            double u = 5 * r.nextGaussian();
            x[i][0] = u + 0.05 * z;
            x[i][1] = u - 0.05 * z;
            for (int j = 2; j < 6; j++) {
                x[i][j] = r.nextGaussian();
            }
        }
        LogisticProbe.Result res = LogisticProbe.evaluate(x, y, 0.3, 0.0, 7);
        assertTrue(res.testAccuracy() > 0.8, "test accuracy " + res.testAccuracy() + ", Bayes 0.841");
    }
}
