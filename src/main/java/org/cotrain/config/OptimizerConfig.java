package org.cotrain.config;

import java.util.List;

/**
 * optimizer: AdamW, with weight decay on weights only (none on biases, LayerNorm and position embeddings), as DP's
 * TransformerForDiffusion.configure_optimizers; image policies add DP's second group, the image encoder, with its own
 * decay on every parameter (DiffusionTransformerHybridImagePolicy.get_optimizer).
 *
 * @param learningRate          peak learning rate, > 0
 * @param weightDecay           >= 0: optimizer.weight_decay (low-dim) or optimizer.transformer_weight_decay (image)
 * @param beta1                 first of betas, in [0, 1)
 * @param beta2                 second of betas, in [0, 1)
 * @param obsEncoderWeightDecay >= 0: optimizer.obs_encoder_weight_decay of image configs; 0 for low-dim ones
 */
public record OptimizerConfig(double learningRate, double weightDecay, double beta1, double beta2,
                              double obsEncoderWeightDecay) {

    static OptimizerConfig read(ConfigReader r) {
        double learningRate = r.number("optimizer.learning_rate", 0, false, Double.POSITIVE_INFINITY, false);
        double weightDecay = r.number("optimizer.weight_decay", 0, true, Double.POSITIVE_INFINITY, false);
        List<Double> betas = r.numbers("optimizer.betas", 2, false, 0, true, 1, false);
        return new OptimizerConfig(learningRate, weightDecay, betas.get(0), betas.get(1), 0);
    }

    /**
     * A U-Net low-dim config's optimizer section: DP's torch.optim.AdamW arguments lr, betas, eps (the engine's
     * 1e-8) and weight_decay, which DP applies to every parameter of the model.
     */
    static OptimizerConfig readUnet(ConfigReader r) {
        double learningRate = r.number("optimizer.lr", 0, false, Double.POSITIVE_INFINITY, false);
        List<Double> betas = r.numbers("optimizer.betas", 2, false, 0, true, 1, false);
        double eps = r.number("optimizer.eps", 0, false, Double.POSITIVE_INFINITY, false);
        if (eps != ADAMW_EPS) {
            throw r.invalid("optimizer.eps", "1.0e-8 (DP's value, the one cotrain's AdamW uses)", eps);
        }
        double weightDecay = r.number("optimizer.weight_decay", 0, true, Double.POSITIVE_INFINITY, false);
        return new OptimizerConfig(learningRate, weightDecay, betas.get(0), betas.get(1), 0);
    }

    /** The epsilon of AdamW's denominator, DP's 1e-8 (the trainer's). */
    public static final double ADAMW_EPS = 1e-8;

    /** An image config's optimizer section (DP's hybrid workspace keys). */
    static OptimizerConfig readImage(ConfigReader r) {
        double transformer = r.number("optimizer.transformer_weight_decay", 0, true, Double.POSITIVE_INFINITY, false);
        double encoder = r.number("optimizer.obs_encoder_weight_decay", 0, true, Double.POSITIVE_INFINITY, false);
        double learningRate = r.number("optimizer.learning_rate", 0, false, Double.POSITIVE_INFINITY, false);
        List<Double> betas = r.numbers("optimizer.betas", 2, false, 0, true, 1, false);
        return new OptimizerConfig(learningRate, transformer, betas.get(0), betas.get(1), encoder);
    }
}
