package org.cotrain.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Several datasets with sampling weights: statistics, determinism, the samples themselves, validation. */
class MixtureDatasetTest {
    static final int HORIZON = 8;
    static final int N_OBS_STEPS = 2;
    static final int N_ACTION_STEPS = 4;

    private final DemoDataset real = DataTesting.dataset("real.hdf5", 10, 20, 3, 2, 0f, 2);
    private final DemoDataset sim = DataTesting.dataset("sim.hdf5", 30, 12, 3, 2, 5000f, 3);

    private MixtureDataset mixture(double[] weights, int batchSize, long seed) {
        List<DemoDataset> data = List.of(real, sim);
        return new MixtureDataset(data, weights, MixtureDataset.fitNormalizer(data), HORIZON, N_OBS_STEPS,
                N_ACTION_STEPS, batchSize, seed);
    }

    @Test
    void alphaIsTheShareOfTheFirstDatasetWithinFourSigma() {
        MixtureDataset m = mixture(MixtureDataset.alpha(0.25), 64, 11);
        int batches = 300;
        long first = 0;
        for (int k = 0; k < batches; k++) {
            for (int j : m.batch(k).datasetIndex()) {
                first += j == 0 ? 1 : 0;
            }
        }
        double n = batches * 64.0;
        double p = first / n;
        double sigma = Math.sqrt(0.25 * 0.75 / n);
        assertTrue(Math.abs(p - 0.25) < 4 * sigma, "share of the first dataset " + p + ", expected 0.25 +- "
                + 4 * sigma);
    }

    @Test
    void domainLabelsAppendTheOneHotDatasetIndexAfterTheNormalisedObservation() {
        MixtureDataset plain = mixture(MixtureDataset.alpha(0.5), 16, 4);
        MixtureDataset labelled = mixture(MixtureDataset.alpha(0.5), 16, 4).withDomainLabels(true);
        assertEquals(3 + 2, labelled.conditionDim());
        Batch a = plain.batch(2), b = labelled.batch(2);
        assertEquals(5, b.obsDim());
        assertArrayEquals(a.datasetIndex(), b.datasetIndex());
        for (int i = 0; i < 16; i++) {
            for (int t = 0; t < N_OBS_STEPS; t++) {
                int row = i * N_OBS_STEPS + t;
                for (int d = 0; d < 3; d++) {
                    assertEquals(a.obs()[row * 3 + d], b.obs()[row * 5 + d]);
                }
                assertEquals(b.datasetIndex()[i] == 0 ? 1f : 0f, b.obs()[row * 5 + 3]);
                assertEquals(b.datasetIndex()[i] == 1 ? 1f : 0f, b.obs()[row * 5 + 4]);
            }
        }
        assertEquals(5, labelled.validationBatch(0, 4).obsDim());
    }

    @Test
    void observationNoiseIsGaussianOnTheTrainingObservationsOnlyAndAPureFunctionOfTheBatch() {
        float std = 0.1f;
        MixtureDataset plain = mixture(MixtureDataset.alpha(0.5), 64, 4).withDomainLabels(true);
        MixtureDataset noisy = mixture(MixtureDataset.alpha(0.5), 64, 4).withDomainLabels(true).withObsNoise(std);
        double sum = 0, sumSq = 0;
        long n = 0;
        for (int k = 0; k < 20; k++) {
            Batch a = plain.batch(k), b = noisy.batch(k);
            assertArrayEquals(a.datasetIndex(), b.datasetIndex());
            assertArrayEquals(a.actions(), b.actions());
            assertArrayEquals(b.obs(), noisy.batch(k).obs()); // batch k again: the same noise
            for (int row = 0; row < 64 * N_OBS_STEPS; row++) {
                for (int d = 0; d < 5; d++) {
                    double diff = (double) b.obs()[row * 5 + d] - a.obs()[row * 5 + d];
                    if (d >= 3) {
                        assertEquals(0.0, diff, "the domain label is not noised");
                        continue;
                    }
                    sum += diff;
                    sumSq += diff * diff;
                    n++;
                }
            }
        }
        // n = 7680 draws of std N(0, 1) (up to float32 rounding of x + noise, |x| <= 1: 6e-8, far below the bounds):
        // the mean has standard error std / sqrt(n), the variance std^2 sqrt(2 / n); 5 sigma for both.
        double mean = sum / n;
        double variance = sumSq / n - mean * mean;
        assertEquals(0.0, mean, 5 * std / Math.sqrt(n), "mean of the added noise");
        assertEquals(std * std, variance, 5 * std * std * Math.sqrt(2.0 / n), "variance of the added noise");
        assertFalse(Arrays.equals(noisy.batch(0).obs(), noisy.batch(1).obs()));
        assertArrayEquals(plain.validationBatch(0, 8).obs(), noisy.validationBatch(0, 8).obs());
        MixtureDataset zero = mixture(MixtureDataset.alpha(0.5), 64, 4).withDomainLabels(true).withObsNoise(0);
        assertArrayEquals(plain.batch(3).obs(), zero.batch(3).obs());
        assertThrows(IllegalArgumentException.class, () -> plain.withObsNoise(-0.1));
        assertThrows(IllegalArgumentException.class, () -> plain.withObsNoise(Double.NaN));
    }

    @Test
    void naturalWeightsFollowTheNumberOfTrainingDemos() {
        double[] w = MixtureDataset.naturalWeights(List.of(real, sim)); // 8 and 27 training demos
        assertArrayEquals(new double[] {8, 27}, w);
        MixtureDataset m = mixture(w, 16, 3);
        assertArrayEquals(new double[] {8 / 35.0, 27 / 35.0}, m.weights(), 1e-12);
    }

    @Test
    void extremeWeightsUseOneDatasetOnly() {
        MixtureDataset realOnly = mixture(MixtureDataset.alpha(1), 32, 5);
        MixtureDataset simOnly = mixture(MixtureDataset.alpha(0), 32, 5);
        for (int k = 0; k < 20; k++) {
            assertTrue(Arrays.stream(realOnly.batch(k).datasetIndex()).allMatch(j -> j == 0));
            assertTrue(Arrays.stream(simOnly.batch(k).datasetIndex()).allMatch(j -> j == 1));
        }
    }

    @Test
    void sameSeedSameBatchesAndBatchKDrawnDirectlyEqualsTheKthOfARun() {
        MixtureDataset a = mixture(MixtureDataset.alpha(0.5), 16, 42);
        MixtureDataset b = mixture(MixtureDataset.alpha(0.5), 16, 42);
        MixtureDataset other = mixture(MixtureDataset.alpha(0.5), 16, 43);
        Batch[] run = new Batch[12];
        for (int k = 0; k < run.length; k++) {
            run[k] = a.batch(k);
        }
        for (int k = run.length - 1; k >= 0; k--) { // drawn in another order, from another instance
            assertSameBatch(run[k], b.batch(k));
        }
        try (Prefetcher<Batch> prefetch = new Prefetcher<>(b::batch, 0, 3)) {
            for (Batch expected : run) {
                assertSameBatch(expected, prefetch.next());
            }
        }
        try (Prefetcher<Batch> resumed = new Prefetcher<>(b::batch, 7, 2)) { // resume at batch 7
            assertSameBatch(run[7], resumed.next());
            assertSameBatch(run[8], resumed.next());
        }
        assertFalse(Arrays.equals(run[0].windowIndex(), other.batch(0).windowIndex())
                && Arrays.equals(run[0].datasetIndex(), other.batch(0).datasetIndex()), "another seed, same batch");
    }

    private static void assertSameBatch(Batch expected, Batch actual) {
        assertEquals(expected.index(), actual.index());
        assertArrayEquals(expected.datasetIndex(), actual.datasetIndex());
        assertArrayEquals(expected.windowIndex(), actual.windowIndex());
        assertArrayEquals(expected.actions(), actual.actions());
        assertArrayEquals(expected.obs(), actual.obs());
    }

    @Test
    void samplesAreTheNormalisedWindowsTheyClaim() {
        MixtureDataset m = mixture(MixtureDataset.alpha(0.5), 32, 9);
        LinearNormalizer n = m.normalizer();
        Batch batch = m.batch(5);
        assertEquals(32, batch.size());
        float[] actions = n.unnormalize("action", batch.actions());
        float[] obs = n.unnormalize("obs", batch.obs());
        for (int i = 0; i < batch.size(); i++) {
            int j = batch.datasetIndex()[i];
            DemoDataset d = m.dataset(j);
            SequenceSampler s = m.trainSampler(j);
            float[] expectedActions = new float[HORIZON * 2];
            float[] expectedObs = new float[N_OBS_STEPS * 3];
            s.sampleSequence(batch.windowIndex()[i], d.actions(), 2, HORIZON, expectedActions, 0);
            s.sampleSequence(batch.windowIndex()[i], d.obs(), 3, N_OBS_STEPS, expectedObs, 0);
            for (int t = 0; t < expectedActions.length; t++) {
                assertEquals(expectedActions[t], actions[i * HORIZON * 2 + t], 1e-2f, "sample " + i);
            }
            for (int t = 0; t < expectedObs.length; t++) {
                assertEquals(expectedObs[t], obs[i * N_OBS_STEPS * 3 + t], 1e-2f, "sample " + i);
            }
            // sim values are offset by 5000: the dataset index tells the truth
            assertEquals(j == 1, obs[i * N_OBS_STEPS * 3] > 2500f);
        }
        for (float v : batch.actions()) {
            assertTrue(v >= -1.0001f && v <= 1.0001f, "normalised action " + v);
        }
        // training windows only come from training demos: real has 8 train demos of 20 steps, windows per demo
        // 20 - 8 + (2 - 1) + (4 - 1) + 1 = 17
        assertEquals(8 * 17, m.trainSampler(0).size());
        assertEquals(2 * 17, m.validSampler(0).size());
    }

    @Test
    void validationBatchesCoverEveryValidWindowOnceInOrder() {
        MixtureDataset m = mixture(MixtureDataset.alpha(0.5), 16, 1);
        int total = m.validationSize();
        assertEquals(m.validSampler(0).size() + m.validSampler(1).size(), total);
        int seen = 0;
        int[] perDataset = new int[2];
        while (seen < total) {
            Batch b = m.validationBatch(seen, 10);
            for (int i = 0; i < b.size(); i++) {
                int j = b.datasetIndex()[i];
                assertEquals(perDataset[j]++, b.windowIndex()[i], "window order within dataset " + j);
                assertEquals(seen + i < m.validSampler(0).size() ? 0 : 1, j);
            }
            seen += b.size();
        }
        assertEquals(total, seen);
        assertArrayEquals(m.validationBatch(3, 4).actions(), m.validationBatch(3, 4).actions());
    }

    @Test
    void badConfigurationsAreErrors() {
        DemoDataset otherShape = DataTesting.dataset("other.hdf5", 4, 10, 5, 2, 0f, 0);
        List<DemoDataset> mixed = List.of(real, otherShape);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new MixtureDataset(mixed, new double[] {1, 1}, MixtureDataset.fitNormalizer(List.of(real)),
                        HORIZON, N_OBS_STEPS, N_ACTION_STEPS, 8, 0));
        assertTrue(e.getMessage().contains("other.hdf5"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MixtureDataset.alpha(1.5));
        assertThrows(IllegalArgumentException.class, () -> mixture(new double[] {0, 0}, 8, 0));
        DemoDataset noTrain = real.withFirstTrainDemos(0);
        List<DemoDataset> data = List.of(noTrain, sim);
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> new MixtureDataset(data, new double[] {0.5, 0.5}, MixtureDataset.fitNormalizer(List.of(sim)),
                        HORIZON, N_OBS_STEPS, N_ACTION_STEPS, 8, 0));
        assertTrue(empty.getMessage().contains("real.hdf5") && empty.getMessage().contains("no training"),
                empty.getMessage());
        // weight 0 for a dataset without training windows is fine
        new MixtureDataset(data, new double[] {0, 1}, MixtureDataset.fitNormalizer(List.of(sim)), HORIZON,
                N_OBS_STEPS, N_ACTION_STEPS, 8, 0).batch(0);
    }
}
