package org.cotrain.policy;

/**
 * Two embeddings of a denoiser's last forward, for looking inside a trained policy (the analysis's sim-vs-real
 * probes and t-SNE maps): after a sampling call they are those of its last denoising step. Each is one row per
 * sample, flattened and copied to the host, read from buffers that the next forward overwrites.
 * <ul>
 *   <li>observation embedding: the observations as the network has encoded them for its condition path;</li>
 *   <li>final activations: the trunk's last hidden activations, just before the layer that maps them to the
 *       prediction.</li>
 * </ul>
 * Both denoisers implement it ({@link TrainableDenoiser} extends it); each says which of its activations these are:
 * {@link TransformerForDiffusion} (DP-T) and {@link ConditionalUnet1D} (DP-C).
 */
public interface EmbeddingCapture {
    /**
     * The observation embedding of each sample of the last forward, (B, D). Throws IllegalStateException, saying
     * why, before a forward or where the denoiser has no observation condition.
     */
    float[][] observationEmbeddings();

    /** The final activations of each sample of the last forward, (B, D); IllegalStateException before a forward. */
    float[][] finalActivations();

    /** Rows of a (B, ...) host array: row i is sample i's {@code width} values from {@code start} on. */
    static float[][] rows(float[] values, int batch, int stride, int start, int width) {
        float[][] r = new float[batch][];
        for (int i = 0; i < batch; i++) {
            r[i] = java.util.Arrays.copyOfRange(values, i * stride + start, i * stride + start + width);
        }
        return r;
    }
}
