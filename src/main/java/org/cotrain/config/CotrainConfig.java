package org.cotrain.config;

import java.util.List;

/**
 * cotrain: the settings Diffusion Policy has no key for, cotraining's among them.
 *
 * @param threads                  CPU backend threads; 0 = COTRAIN_NUM_THREADS, else every core
 * @param maxGradNorm              clip the global gradient norm to this before each optimizer step; null = no
 *                                 clipping (as DP)
 * @param datasetMaxTrainEpisodes  per dataset of task.dataset.path: use the first n training demos; null = the
 *                                 single task.dataset.max_train_episodes for all
 * @param domainConditioning       append the one-hot dataset index to the observation condition
 * @param totalTrainSteps          train for exactly this many optimizer steps; null = training.num_epochs epochs
 * @param obsNoiseStd              Gaussian noise added to the normalised observations of every training batch (in
 *                                 normalised units, where the data spans [-1, 1]); 0 = none (as DP)
 * @param ambient                  ambient diffusion (cotrain.ambient.*); off unless cotrain.ambient.t_n is set
 * @param guidance                 classifier-free guidance (cotrain.guidance.*); off at the presets' values
 */
public record CotrainConfig(int threads, Double maxGradNorm, List<Integer> datasetMaxTrainEpisodes,
                            boolean domainConditioning, Integer totalTrainSteps, double obsNoiseStd,
                            AmbientConfig ambient, GuidanceConfig guidance) {

    static CotrainConfig read(ConfigReader r, int numDatasets, int numTimesteps) {
        int threads = r.integer("cotrain.threads", 0);
        Double maxGradNorm = r.optionalPositive("cotrain.max_grad_norm");
        String key = "cotrain.dataset_max_train_episodes";
        List<Double> max = r.numbers(key, -1, true, 1, true, Double.POSITIVE_INFINITY, false);
        List<Integer> perDataset = null;
        if (max != null) {
            if (max.size() != numDatasets) {
                throw r.invalid(key, "null or one count per file of task.dataset.path (" + numDatasets + ")",
                        r.value(key));
            }
            for (double n : max) {
                if (n != Math.rint(n)) throw r.invalid(key, "whole numbers of demos", r.value(key));
            }
            perDataset = max.stream().map(Double::intValue).toList();
        }
        boolean domain = r.bool("cotrain.domain_conditioning");
        Integer totalSteps = r.optionalInteger("cotrain.total_train_steps", 1);
        double obsNoise = r.number("cotrain.obs_noise_std", 0, true, 1, true);
        AmbientConfig ambient = AmbientConfig.read(r, numDatasets, numTimesteps);
        GuidanceConfig guidance = GuidanceConfig.read(r, numDatasets, domain);
        return new CotrainConfig(threads, maxGradNorm, perDataset, domain, totalSteps, obsNoise, ambient, guidance);
    }
}
