package org.cotrain.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.cotrain.io.Safetensors;
import org.cotrain.ops.OpTesting;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * What {@link ConditionalUnet1D} hands the analysis ({@link EmbeddingCapture}), on the PyTorch fixtures' weights:
 * the final activations are what final_conv.1 (the 1x1 conv) maps to the output, in (C, T) order per sample; the
 * observation embedding is down_modules.0.0's FiLM [scale | bias]; errors before a forward and without a global
 * condition.
 */
class EmbeddingCaptureTest {

    @Test
    void unetFinalActivationsAreTheInputOfTheLastOneByOneConv() {
        Backend cpu = OpTesting.cpu();
        Safetensors f = ConditionalUnet1DParityTest.fixture("a");
        try (ConditionalUnet1D model = new ConditionalUnet1D(cpu, ConditionalUnet1DParityTest.config(f));
             Tensor sample = f.tensor("input.sample", cpu);
             Tensor timesteps = f.tensor("input.timesteps", cpu);
             Tensor cond = f.tensor("input.cond", cpu)) {
            model.loadWeights(f);
            assertThrows(IllegalStateException.class, model::finalActivations, "before a forward");
            float[] out = model.forward(sample, timesteps, cond).toFloatArray();   // (B, H, Da)
            float[][] fin = model.finalActivations();
            float[][] obs = model.observationEmbeddings();
            int b = 3;
            int h = 8;
            int da = 2;
            int c = 8;
            assertEquals(b, fin.length);
            assertEquals(c * h, fin[0].length);
            assertEquals(b, obs.length);
            assertEquals(2 * c, obs[0].length, "FiLM scale and bias of down_dims[0] channels");
            float[] w = f.floats("model.final_conv.1.weight");   // (Da, C, 1)
            float[] bias = f.floats("model.final_conv.1.bias");
            double[] expected = new double[b * h * da];
            for (int i = 0; i < b; i++) {
                for (int t = 0; t < h; t++) {
                    for (int d = 0; d < da; d++) {
                        double s = bias[d];
                        for (int k = 0; k < c; k++) {
                            s += (double) w[d * c + k] * fin[i][k * h + t];
                        }
                        expected[(i * h + t) * da + d] = s;
                    }
                }
            }
            double err = OpTesting.relativeError(out, expected);
            assertTrue(err < 1e-5, "final_conv.1 of the final activations vs the output: " + err);
            // the rows differ by the observations (the step features differ too here: 3, 57, 99)
            assertTrue(obs[0][0] != obs[1][0] && obs[1][0] != obs[2][0]);
        }
    }

    @Test
    void unetWithoutAGlobalConditionHasNoObservationEmbedding() {
        Backend cpu = OpTesting.cpu();
        Safetensors f = ConditionalUnet1DParityTest.fixture("c");   // the step features alone
        try (ConditionalUnet1D model = new ConditionalUnet1D(cpu, ConditionalUnet1DParityTest.config(f));
             Tensor sample = f.tensor("input.sample", cpu);
             Tensor timesteps = f.tensor("input.timesteps", cpu)) {
            model.loadWeights(f);
            assertThrows(IllegalStateException.class, model::observationEmbeddings, "before a forward");
            model.forward(sample, timesteps, null);
            IllegalStateException e = assertThrows(IllegalStateException.class, model::observationEmbeddings);
            assertTrue(e.getMessage().contains("no global condition"), e.getMessage());
            assertEquals(8 * 12, model.finalActivations()[0].length, "down_dims[0] 8 x horizon 12");
        }
    }
}
