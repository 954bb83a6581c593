package org.cotrain.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.cotrain.random.Philox;
import org.cotrain.random.Streams;
import org.junit.jupiter.api.Test;

/**
 * Ambient diffusion's sampling: the diffusion step first (the policy's own draw), then the dataset among those
 * allowed at it with the renormalised weights, then a window allowed at it. Frequencies are checked within four
 * binomial standard deviations (fixed seeds: the outcome is deterministic).
 */
class NoiseAwareMixingTest {
    private static final int T = 100;
    private static final int BATCH = 64;

    private final DemoDataset real = DataTesting.dataset("real.hdf5", 10, 20, 3, 2, 0f, 2);
    private final DemoDataset sim = DataTesting.dataset("sim.hdf5", 30, 12, 3, 2, 5000f, 3);

    private MixtureDataset mixture(double alpha, long seed) {
        List<DemoDataset> data = List.of(real, sim);
        return new MixtureDataset(data, MixtureDataset.alpha(alpha), MixtureDataset.fitNormalizer(data),
                MixtureDatasetTest.HORIZON, MixtureDatasetTest.N_OBS_STEPS, MixtureDatasetTest.N_ACTION_STEPS, BATCH,
                seed);
    }

    private static int[] windows(MixtureDataset m) {
        return new int[] {m.trainSampler(0).size(), m.trainSampler(1).size()};
    }

    /** Sim corrupt below one step for all its windows. */
    private static NoiseAwareMixing fixedLevel(MixtureDataset m, int minStep, int lossTn, Integer tMax) {
        int[] w = windows(m);
        List<NoiseAwareMixing.CorruptWindows> kinds = new ArrayList<>();
        kinds.add(null);
        kinds.add(NoiseAwareMixing.CorruptWindows.uniform(w[1], minStep, lossTn));
        return new NoiseAwareMixing(T, m.weights(), w, kinds, tMax, null);
    }

    private static void assertWithinBinomial(String what, long hits, long n, double p) {
        double sigma = Math.sqrt(p * (1 - p) / n);
        double share = hits / (double) n;
        assertTrue(Math.abs(share - p) <= 4 * sigma + 1e-12, what + ": " + share + " (" + hits + "/" + n
                + "), expected " + p + " +- " + 4 * sigma);
    }

    @Test
    void stepsComeFirstAndAreThePolicysDraw() {
        MixtureDataset m = mixture(0.5, 3);
        m.withNoiseAwareMixing(fixedLevel(m, 41, 40, null));
        for (long k : new long[] {0, 1, 17}) {
            Batch b = m.batch(k);
            long key = Streams.key(3, Streams.TIMESTEPS, k);
            for (int i = 0; i < BATCH; i++) {
                assertEquals(Philox.randint(key, i, 0, T), b.timesteps()[i], "sample " + i + " of batch " + k);
            }
        }
    }

    @Test
    void corruptSamplesNeverAppearBelowTheirLevelAndAlphaHoldsAboveIt() {
        MixtureDataset m = mixture(0.3, 5);
        m.withNoiseAwareMixing(fixedLevel(m, 41, 40, null)); // t_n = 40, buffer 1
        long above = 0;
        long realAbove = 0;
        for (int k = 0; k < 400; k++) {
            Batch b = m.batch(k);
            for (int i = 0; i < BATCH; i++) {
                int t = b.timesteps()[i];
                if (b.datasetIndex()[i] == 1) {
                    assertTrue(t >= 41, "a corrupt sample at t = " + t);
                    assertEquals(40, b.minNoiseSteps()[i]);
                } else {
                    assertEquals(-1, b.minNoiseSteps()[i], "a clean sample gets the ordinary loss");
                }
                if (t >= 41) {
                    above++;
                    realAbove += b.datasetIndex()[i] == 0 ? 1 : 0;
                }
            }
        }
        // where both are allowed, the weights are alpha and 1 - alpha
        assertWithinBinomial("P(real | t >= 41)", realAbove, above, 0.3);
        assertTrue(above > 10_000, "samples above t_n: " + above);
    }

    @Test
    void tMaxBoundsCorruptSamplesFromAbove() {
        MixtureDataset m = mixture(0.5, 6);
        m.withNoiseAwareMixing(fixedLevel(m, 20, -1, 60)); // allowed at 20..60
        long corrupt = 0;
        for (int k = 0; k < 100; k++) {
            Batch b = m.batch(k);
            for (int i = 0; i < BATCH; i++) {
                if (b.datasetIndex()[i] == 1) {
                    assertTrue(b.timesteps()[i] >= 20 && b.timesteps()[i] <= 60, "t = " + b.timesteps()[i]);
                    corrupt++;
                }
            }
        }
        // P(corrupt) = 0.5 on 41 of the 100 steps
        assertWithinBinomial("P(corrupt)", corrupt, 100L * BATCH, 0.5 * 41 / 100);
    }

    @Test
    void perWindowLevelsDrawOnlyAllowedWindowsWithTheRenormalisedWeights() {
        MixtureDataset m = mixture(0.4, 7);
        int[] w = windows(m);
        int[] min = new int[w[1]];
        int[] loss = new int[w[1]];
        for (int i = 0; i < min.length; i++) {
            int tn = (i * 37) % (T + 1);     // 0 (as good as clean) .. T (never)
            min[i] = tn == 0 ? 0 : tn + 2;
            loss[i] = tn >= 1 && tn < T ? tn : -1;
        }
        List<NoiseAwareMixing.CorruptWindows> kinds = new ArrayList<>();
        kinds.add(null);
        kinds.add(new NoiseAwareMixing.CorruptWindows(min, loss));
        NoiseAwareMixing mixing = new NoiseAwareMixing(T, m.weights(), w, kinds, null, null);
        m.withNoiseAwareMixing(mixing);
        // the expected P(sim | t): 0.6 f(t) / (0.4 + 0.6 f(t)), f(t) the share of sim windows allowed at t
        for (int t : new int[] {0, 10, 50, 99}) {
            int allowed = 0;
            for (int i = 0; i < min.length; i++) {
                allowed += min[i] == 0 || min[i] <= t ? 1 : 0;
            }
            double f = allowed / (double) min.length;
            assertEquals(0.6 * f / (0.4 + 0.6 * f), mixing.probability(t, 1), 1e-12, "t = " + t);
            assertEquals(allowed, mixing.allowedWindows(1, t));
        }
        long high = 0;
        long simHigh = 0;
        int[] seen = new int[w[1]];
        for (int k = 0; k < 400; k++) {
            Batch b = m.batch(k);
            for (int i = 0; i < BATCH; i++) {
                int t = b.timesteps()[i];
                if (b.datasetIndex()[i] == 1) {
                    int win = b.windowIndex()[i];
                    assertTrue(min[win] == 0 || min[win] <= t, "window " + win + " (from " + min[win] + ") at " + t);
                    assertEquals(loss[win], b.minNoiseSteps()[i]);
                    seen[win]++;
                }
                if (t >= 95) {
                    high++;
                    simHigh += b.datasetIndex()[i];
                }
            }
        }
        double expectedHigh = 0;
        for (int t = 95; t < T; t++) {
            expectedHigh += mixing.probability(t, 1) / 5;
        }
        assertWithinBinomial("P(sim | t >= 95)", simHigh, high, expectedHigh);
        for (int i = 0; i < min.length; i++) {
            if (min[i] >= T) {
                assertEquals(0, seen[i], "window " + i + " is never usable");
            }
        }
    }

    @Test
    void linearAlphaScheduleGivesMoreCleanDataAtLowNoise() {
        MixtureDataset m = mixture(0.5, 8);
        int[] w = windows(m);
        List<NoiseAwareMixing.CorruptWindows> kinds = new ArrayList<>();
        kinds.add(null);
        kinds.add(NoiseAwareMixing.CorruptWindows.uniform(w[1], 0, -1)); // corrupt, but allowed everywhere
        NoiseAwareMixing mixing = new NoiseAwareMixing(T, m.weights(), w, kinds, null,
                t -> 0.9 + (0.2 - 0.9) * t / (T - 1.0));
        m.withNoiseAwareMixing(mixing);
        long[] n = new long[4];
        long[] clean = new long[4];
        double[] expected = new double[4];
        for (int t = 0; t < T; t++) {
            expected[t / 25] += (0.9 + (0.2 - 0.9) * t / (T - 1.0)) / 25;
        }
        for (int k = 0; k < 600; k++) {
            Batch b = m.batch(k);
            for (int i = 0; i < BATCH; i++) {
                int band = b.timesteps()[i] / 25;
                n[band]++;
                clean[band] += b.datasetIndex()[i] == 0 ? 1 : 0;
            }
        }
        for (int band = 0; band < 4; band++) {
            assertWithinBinomial("P(clean | t in band " + band + ")", clean[band], n[band], expected[band]);
        }
        assertTrue(clean[0] / (double) n[0] > clean[3] / (double) n[3] + 0.3);
    }

    @Test
    void everythingAllowedGivesTheVanillaBatches() {
        MixtureDataset vanilla = mixture(0.35, 9);
        MixtureDataset ambient = mixture(0.35, 9);
        ambient.withNoiseAwareMixing(fixedLevel(ambient, 0, -1, null)); // t_n = 0: as good as clean
        for (long k = 0; k < 20; k++) {
            Batch a = vanilla.batch(k);
            Batch b = ambient.batch(k);
            assertArrayEquals(a.datasetIndex(), b.datasetIndex(), "batch " + k);
            assertArrayEquals(a.windowIndex(), b.windowIndex());
            assertArrayEquals(a.actions(), b.actions());
            assertArrayEquals(a.obs(), b.obs());
            assertTrue(Arrays.stream(b.minNoiseSteps()).allMatch(v -> v == -1));
        }
    }

    @Test
    void aStepWithNoAllowedDatasetIsAnError() {
        MixtureDataset m = mixture(0, 10); // all weight on the corrupt dataset
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> fixedLevel(m, 30, 29, null));
        assertTrue(e.getMessage().startsWith("at diffusion step 0 no dataset may be drawn"), e.getMessage());
    }
}
