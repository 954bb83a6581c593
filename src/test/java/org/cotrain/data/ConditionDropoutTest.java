package org.cotrain.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Condition dropout of classifier-free guidance: the drop mask's statistics and determinism, the null condition in
 * the batches (flag column, zeroed observations, domain labels kept), action-only files (always null, left out of
 * the obs statistics, and a clear error when not marked).
 */
class ConditionDropoutTest {
    private static final int H = 8;
    private static final int TO = 2;

    private final DemoDataset real = DataTesting.dataset("real.hdf5", 10, 20, 3, 2, 0f, 2);
    private final DemoDataset sim = DataTesting.dataset("sim.hdf5", 30, 12, 3, 2, 5000f, 3);

    @Test
    void dropFractionIsPUncondWithinFiveSigmaAndAPureFunctionOfSeedAndBatch() {
        double p = 0.3;
        ConditionDropout d = new ConditionDropout(p, true);
        int batch = 256;
        int batches = 100;
        long dropped = 0;
        boolean[] none = new boolean[batch];
        for (int k = 0; k < batches; k++) {
            for (boolean b : d.mask(42, k, none)) {
                dropped += b ? 1 : 0;
            }
        }
        double n = (double) batch * batches;
        double sigma = Math.sqrt(p * (1 - p) / n);
        double got = dropped / n;
        System.out.printf("dropped %.4f of %d samples, p_uncond %.2f +- %.4f (5 sigma)%n", got, (long) n, p,
                5 * sigma);
        assertTrue(Math.abs(got - p) < 5 * sigma, "dropped fraction " + got + ", expected " + p + " +- " + 5 * sigma);
        // same (seed, k): same mask, whatever was drawn before; another k or seed: another mask
        assertArrayEquals(d.mask(42, 7, none), d.mask(42, 7, none));
        assertFalse(Arrays.equals(d.mask(42, 7, none), d.mask(42, 8, none)));
        assertFalse(Arrays.equals(d.mask(42, 7, none), d.mask(43, 7, none)));
        // action-only samples are always dropped; p = 0 drops nothing else
        boolean[] actionOnly = new boolean[batch];
        actionOnly[3] = true;
        boolean[] m = new ConditionDropout(0, true).mask(42, 7, actionOnly);
        assertArrayEquals(actionOnly, m);
        assertThrows(IllegalArgumentException.class, () -> new ConditionDropout(1.0, true));
        assertThrows(IllegalArgumentException.class, () -> new ConditionDropout(-0.1, false));
    }

    private MixtureDataset mixture(List<DemoDataset> data, long seed) {
        return new MixtureDataset(data, MixtureDataset.alpha(0.5), MixtureDataset.fitNormalizer(data), H, TO, 4, 64,
                seed);
    }

    @Test
    void batchesCarryTheNullConditionBeforeTheDomainLabels() {
        List<DemoDataset> data = List.of(real, sim);
        MixtureDataset plain = mixture(data, 5).withDomainLabels(true);
        ConditionDropout d = new ConditionDropout(0.4, true);
        MixtureDataset guided = mixture(data, 5).withDomainLabels(true).withConditionDropout(d);
        assertEquals(3 + 1 + 2, guided.conditionDim());
        for (long k : new long[] {0, 9}) {
            Batch a = plain.batch(k);
            Batch b = guided.batch(k);
            assertEquals(6, b.obsDim());
            assertArrayEquals(a.datasetIndex(), b.datasetIndex()); // the dropout draws from its own stream
            assertArrayEquals(a.actions(), b.actions(), 0f);
            boolean[] mask = d.mask(5, k, new boolean[64]);
            int drops = 0;
            for (int i = 0; i < 64; i++) {
                drops += mask[i] ? 1 : 0;
                for (int t = 0; t < TO; t++) {
                    int row = i * TO + t;
                    for (int j = 0; j < 3; j++) {
                        assertEquals(mask[i] ? 0f : a.obs()[row * 5 + j], b.obs()[row * 6 + j]);
                    }
                    assertEquals(mask[i] ? 0f : 1f, b.obs()[row * 6 + 3], "the has-observation flag");
                    assertEquals(a.obs()[row * 5 + 3], b.obs()[row * 6 + 4], "domain labels are not dropped");
                    assertEquals(a.obs()[row * 5 + 4], b.obs()[row * 6 + 5]);
                }
            }
            assertTrue(drops > 0 && drops < 64, drops + " of 64 dropped");
            assertArrayEquals(b.obs(), guided.batch(k).obs(), 0f); // batch k again: the same mask
        }
        // validation drops nothing at random
        Batch v = guided.validationBatch(0, 8);
        for (int row = 0; row < 8 * TO; row++) {
            assertEquals(1f, v.obs()[row * 6 + 3]);
        }
        // zeros: no flag column, the dropped observations are 0
        MixtureDataset zeros = mixture(data, 5).withConditionDropout(new ConditionDropout(0.4, false));
        assertEquals(3, zeros.conditionDim());
        assertEquals(3, zeros.batch(0).obsDim());
    }

    /** An action-only robomimic file: the actions of {@code demos} demos of 12 steps, no obs group. */
    private static Path writeActionsOnly(Path file, int demos) {
        try (RobomimicWriter w = RobomimicWriter.create(file)) {
            for (int d = 0; d < demos; d++) {
                float[] a = new float[12 * 2];
                for (int i = 0; i < a.length; i++) {
                    a[i] = 100f + d + 0.1f * i;
                }
                w.writeDemo("demo_" + d, new Demo(new FloatArray(new int[] {12, 2}, a), Map.of(), Map.of(), null,
                        null, null));
            }
        }
        return file;
    }

    @Test
    void actionOnlyFilesTrainWithTheNullConditionAndStayOutOfTheObsStatistics(@TempDir Path tmp) {
        Path file = writeActionsOnly(tmp.resolve("actions.hdf5"), 6);
        DatasetException e = assertThrows(DatasetException.class,
                () -> DemoDataset.load(file, List.of("x"), -1, -1));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("obs key 'x'")
                && e.getMessage().contains("cotrain.guidance.action_only"), e.getMessage());
        DemoDataset ao = DemoDataset.loadActionsOnly(file, List.of("x"), 3, 2).withValidationSplit(0.2, 0);
        assertTrue(ao.actionOnly());
        assertEquals(3, ao.obsDim());
        assertEquals(6 * 12, ao.numSteps());
        assertTrue(ao.withFirstTrainDemos(2).actionOnly());

        List<DemoDataset> data = List.of(real, ao);
        LinearNormalizer n = MixtureDataset.fitNormalizer(data);
        LinearNormalizer observedOnly = MixtureDataset.fitNormalizer(List.of(real));
        assertEquals(observedOnly.stateDict().keySet(), n.stateDict().keySet());
        for (String key : n.stateDict().keySet()) {
            if (key.contains(".obs.")) {
                assertArrayEquals(observedOnly.stateDict().get(key), n.stateDict().get(key), 0f, key);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> MixtureDataset.fitNormalizer(List.of(ao)));

        MixtureDataset noDropout = mixture(data, 3);
        assertThrows(IllegalStateException.class, () -> noDropout.batch(0));
        ConditionDropout d = new ConditionDropout(0, true); // p_uncond 0: only the action-only windows are null
        Batch b = mixture(data, 3).withConditionDropout(d).batch(0);
        int fromActions = 0;
        for (int i = 0; i < 64; i++) {
            boolean isAo = b.datasetIndex()[i] == 1;
            fromActions += isAo ? 1 : 0;
            for (int t = 0; t < TO; t++) {
                assertEquals(isAo ? 0f : 1f, b.obs()[(i * TO + t) * 4 + 3]);
            }
        }
        assertTrue(fromActions > 0 && fromActions < 64, fromActions + " of 64 from the action-only file");
    }
}
