package org.cotrain.config;

import java.util.List;

/**
 * optimizer: AdamW, with weight decay on weights only (none on biases, LayerNorm and position embeddings), as DP's
 * TransformerForDiffusion.configure_optimizers.
 *
 * @param learningRate peak learning rate, > 0
 * @param weightDecay  >= 0
 * @param beta1        first of betas, in [0, 1)
 * @param beta2        second of betas, in [0, 1)
 */
public record OptimizerConfig(double learningRate, double weightDecay, double beta1, double beta2) {

    static OptimizerConfig read(ConfigReader r) {
        double learningRate = r.number("optimizer.learning_rate", 0, false, Double.POSITIVE_INFINITY, false);
        double weightDecay = r.number("optimizer.weight_decay", 0, true, Double.POSITIVE_INFINITY, false);
        List<Double> betas = r.numbers("optimizer.betas", 2, false, 0, true, 1, false);
        return new OptimizerConfig(learningRate, weightDecay, betas.get(0), betas.get(1));
    }
}
