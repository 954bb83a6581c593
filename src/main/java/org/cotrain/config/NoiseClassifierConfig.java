package org.cotrain.config;

/**
 * cotrain.ambient.classifier: the noise-level classifier that gives each corrupt training window its t_n (ambient
 * diffusion (c)). An MLP over the flattened noisy action chunk, a sinusoidal embedding of the diffusion step and
 * optionally the observations, trained with binary cross-entropy to tell noisy clean chunks (label 0) from noisy
 * corrupt ones (label 1) at every step; a window's t_n is the lowest step at which its predicted probability of
 * "corrupt", averaged over noise draws, drops below 0.5 + epsilon.
 *
 * @param hidden       width of the two hidden layers
 * @param trainSteps   AdamW steps of classifier training
 * @param batchSize    chunks per step, half clean and half corrupt
 * @param learningRate AdamW learning rate (constant)
 * @param useObs       also condition on the window's normalised observations
 * @param noiseDraws   noise draws per window and step when annotating
 * @param epsilon      the margin above 0.5 below which the classifier "can no longer tell"
 * @param seed         seed of the classifier's initialisation, batches and noise
 */
public record NoiseClassifierConfig(int hidden, int trainSteps, int batchSize, double learningRate, boolean useObs,
                                    int noiseDraws, double epsilon, long seed) {

    static NoiseClassifierConfig read(ConfigReader r) {
        String p = "cotrain.ambient.classifier.";
        int hidden = r.integer(p + "hidden", 1);
        int trainSteps = r.integer(p + "train_steps", 1);
        int batchSize = r.integer(p + "batch_size", 2);
        double lr = r.number(p + "learning_rate", 0, false, Double.POSITIVE_INFINITY, false);
        boolean useObs = r.bool(p + "use_obs");
        int draws = r.integer(p + "noise_draws", 1);
        double epsilon = r.number(p + "epsilon", 0, true, 0.5, false);
        long seed = r.anyInteger(p + "seed");
        return new NoiseClassifierConfig(hidden, trainSteps, batchSize, lr, useObs, draws, epsilon, seed);
    }
}
