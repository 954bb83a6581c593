package org.cotrain.config;

/**
 * cotrain: the few settings Diffusion Policy has no key for.
 *
 * @param threads     CPU backend threads; 0 = COTRAIN_NUM_THREADS, else every core
 * @param maxGradNorm clip the global gradient norm to this before each optimizer step; null = no clipping (as DP)
 */
public record CotrainConfig(int threads, Double maxGradNorm) {

    static CotrainConfig read(ConfigReader r) {
        int threads = r.integer("cotrain.threads", 0);
        Double maxGradNorm = r.optionalPositive("cotrain.max_grad_norm");
        return new CotrainConfig(threads, maxGradNorm);
    }
}
