package org.cotrain.policy;

import java.util.List;
import org.cotrain.diffusion.Denoiser;
import org.cotrain.io.Safetensors;
import org.cotrain.nn.Parameter;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * A denoiser the policies train: forward with gradients kept, backward, its parameters under DP's state_dict names,
 * initialisation and weights. {@link TransformerForDiffusion} (DP-T) and {@link ConditionalUnet1D} (DP-C) are the
 * two; a policy's loss ({@link DenoisingObjective}) and sampling ({@link ChunkSampling}) take either, and the analysis
 * reads the embeddings of either's last forward ({@link EmbeddingCapture}).
 */
public interface TrainableDenoiser extends Denoiser, EmbeddingCapture, AutoCloseable {
    /**
     * The prediction for sample (B, horizon, Da), timesteps (B) float32 and cond (B, n_obs_steps, cond_dim) or null;
     * training turns dropout on (where the denoiser has any) with masks from seed. Returns (B, horizon, Da), a buffer
     * valid until the next forward; the inputs must stay unchanged until {@link #backward}.
     */
    Tensor forward(Tensor sample, Tensor timesteps, Tensor cond, boolean training, long seed);

    /** Accumulates every parameter's gradient from dout (B, horizon, Da) of the last forward; writes the inputs'. */
    void backward(Tensor dout);

    /** d loss / d cond of the last backward, or null without a condition. */
    Tensor condGrad();

    /** Every parameter, in the order of DP's state_dict. */
    List<Parameter> parameters();

    long parameterCount();

    /** Initialises every parameter as DP does, from seed. */
    void initialize(long seed);

    void zeroGrad();

    /** Adds the denoiser's state_dict entries (parameters and buffers) under DP's names. */
    void addTo(Safetensors.Writer writer);

    /** Loads every parameter by name; missing or unknown names under the denoiser's prefix are errors naming them. */
    void loadWeights(Safetensors file);

    Backend backend();

    @Override
    void close();
}
