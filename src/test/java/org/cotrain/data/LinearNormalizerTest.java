package org.cotrain.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.cotrain.ops.OpTesting;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** DP's limits-mode LinearNormalizer: fit against a float64 reference, inverse, constant dimensions, tensors. */
class LinearNormalizerTest {
    private static float[] randomRows(long seed, int rows, int dim, double[] lo, double[] hi) {
        Random r = new Random(seed);
        float[] x = new float[rows * dim];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < dim; j++) {
                x[i * dim + j] = (float) (lo[j] + (hi[j] - lo[j]) * r.nextDouble());
            }
        }
        return x;
    }

    @Test
    void fitMatchesTheFloat64ReferenceAndMapsTheRangeToMinusOneOne() {
        int rows = 500;
        int dim = 3;
        float[] x = randomRows(1, rows, dim, new double[] {0, -512, 1e-3}, new double[] {512, 3, 2e-3});
        LinearNormalizer n = new LinearNormalizer();
        n.fit("obs", x, dim);
        LinearNormalizer.Field f = n.field("obs");
        for (int j = 0; j < dim; j++) {
            double min = Double.POSITIVE_INFINITY;
            double max = Double.NEGATIVE_INFINITY;
            double sum = 0;
            for (int i = 0; i < rows; i++) {
                min = Math.min(min, x[i * dim + j]);
                max = Math.max(max, x[i * dim + j]);
                sum += x[i * dim + j];
            }
            double mean = sum / rows;
            double var = 0;
            for (int i = 0; i < rows; i++) {
                var += (x[i * dim + j] - mean) * (x[i * dim + j] - mean);
            }
            double scale = 2.0 / (max - min);
            double offset = -1.0 - scale * min;
            assertEquals((float) min, f.min()[j]);
            assertEquals((float) max, f.max()[j]);
            assertEquals(mean, f.mean()[j], 1e-6 * Math.abs(mean) + 1e-9);
            assertEquals(Math.sqrt(var / (rows - 1)), f.std()[j], 1e-5 * Math.sqrt(var / (rows - 1)));
            assertEquals(scale, f.scale()[j], 1e-6 * scale);
            assertEquals(offset, f.offset()[j], 1e-5 * Math.max(1, Math.abs(offset)));
        }
        float[] y = n.normalize("obs", x);
        for (int j = 0; j < dim; j++) {
            float lo = Float.POSITIVE_INFINITY;
            float hi = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < rows; i++) {
                lo = Math.min(lo, y[i * dim + j]);
                hi = Math.max(hi, y[i * dim + j]);
            }
            assertEquals(-1f, lo, 1e-5f);
            assertEquals(1f, hi, 1e-5f);
        }
        float[] back = n.unnormalize("obs", y);
        for (int i = 0; i < x.length; i++) {
            assertEquals(x[i], back[i], 1e-5f * Math.max(1f, Math.abs(x[i])), "inverse at " + i);
        }
    }

    @Test
    void constantAndNearConstantDimensionsMapToZero() {
        // dimension 0 constant, 1 varies by 5e-5 (< range_eps 1e-4: treated as constant), 2 by 1e-3 (scaled)
        float[] x = {3.5f, 10f, 0f, 3.5f, 10.00005f, 0.001f, 3.5f, 10.00002f, 0.0005f};
        LinearNormalizer n = new LinearNormalizer();
        n.fit("action", x, 3);
        LinearNormalizer.Field f = n.field("action");
        assertEquals(1f, f.scale()[0]);
        assertEquals(-3.5f, f.offset()[0]);
        assertEquals(1f, f.scale()[1]);
        assertEquals(-10f, f.offset()[1]);
        assertEquals(2f / 0.001f, f.scale()[2], 1e-2f);
        float[] y = n.normalize("action", x);
        for (int i = 0; i < 3; i++) {
            assertEquals(0f, y[3 * i], "a constant dimension normalises to 0");
            assertEquals(0f, y[3 * i + 1], 1e-4f);
        }
        assertEquals(-1f, y[2], 1e-6f);
        assertEquals(1f, y[5], 1e-6f);
        assertArrayEquals(x, n.unnormalize("action", y), 1e-7f);
        assertEquals(0f, f.std()[0]);
    }

    @Test
    void tensorPathMatchesTheHostPath() {
        Backend cpu = OpTesting.cpu();
        int dim = 4;
        float[] x = randomRows(2, 2 * 3, dim, new double[] {-1, 0, 5, 100}, new double[] {1, 512, 5, 300});
        LinearNormalizer n = new LinearNormalizer();
        n.fit("obs", x, dim);
        float[] expected = n.normalize("obs", x);
        try (Tensor t = cpu.of(x, 2, 3, dim); Tensor out = cpu.zeros(2, 3, dim)) {
            n.normalize("obs", t, out);
            OpTesting.assertClose("normalize", out.toFloatArray(), expected, 1e-6);
            n.unnormalize("obs", out, out); // in place
            float[] back = out.toFloatArray();
            for (int i = 0; i < x.length; i++) {
                assertEquals(x[i], back[i], 1e-5f * Math.max(1f, Math.abs(x[i])));
            }
        }
        try (Tensor wrong = cpu.zeros(2, 3)) {
            assertThrows(IllegalArgumentException.class, () -> n.normalize("obs", wrong, wrong));
        }
    }

    @Test
    void stateDictUsesDiffusionPolicyNamesAndRoundTrips() {
        LinearNormalizer n = new LinearNormalizer();
        n.fit("obs", new float[] {0, 1, 2, 3, 4, 5}, 2);
        n.fit("action", new float[] {-1, 1, 3}, 1);
        Map<String, float[]> state = n.stateDict();
        assertEquals(List.of(
                "normalizer.params_dict.obs.scale", "normalizer.params_dict.obs.offset",
                "normalizer.params_dict.obs.input_stats.min", "normalizer.params_dict.obs.input_stats.max",
                "normalizer.params_dict.obs.input_stats.mean", "normalizer.params_dict.obs.input_stats.std",
                "normalizer.params_dict.action.scale", "normalizer.params_dict.action.offset",
                "normalizer.params_dict.action.input_stats.min", "normalizer.params_dict.action.input_stats.max",
                "normalizer.params_dict.action.input_stats.mean", "normalizer.params_dict.action.input_stats.std"),
                List.copyOf(state.keySet()));
        assertArrayEquals(new float[] {0.5f}, state.get("normalizer.params_dict.action.scale"));
        assertArrayEquals(new float[] {-0.5f}, state.get("normalizer.params_dict.action.offset"));
        assertArrayEquals(new float[] {2f}, state.get("normalizer.params_dict.action.input_stats.std"));

        LinearNormalizer back = LinearNormalizer.fromStateDict(state);
        float[] x = {0.3f, 4.2f, -7f, 1f};
        assertArrayEquals(n.normalize("obs", x), back.normalize("obs", x));
        assertArrayEquals(n.normalize("action", x), back.normalize("action", x));

        state.remove("normalizer.params_dict.obs.offset");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LinearNormalizer.fromStateDict(state));
        assertTrue(e.getMessage().contains("normalizer.params_dict.obs.offset"), e.getMessage());
    }

    @Test
    void unknownKeyAndBadShapesAreErrors() {
        LinearNormalizer n = new LinearNormalizer();
        n.fit("obs", new float[] {0, 1, 2, 3}, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> n.normalize("action", new float[2]));
        assertTrue(e.getMessage().contains("'action'") && e.getMessage().contains("obs"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> n.normalize("obs", new float[3]));
        assertThrows(IllegalArgumentException.class, () -> n.fit("x", new float[] {1, Float.NaN}, 1));
    }
}
