package org.cotrain.policy;

import java.util.List;
import org.cotrain.config.OptimizerConfig;
import org.cotrain.data.LinearNormalizer;
import org.cotrain.io.Safetensors;
import org.cotrain.nn.Parameter;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * What the one training loop ({@code org.cotrain.train.Trainer}) needs of a policy, low-dim ({@link LowdimPolicy}) or
 * image ({@link ImagePolicy}); {@link Policies} makes the one a config asks for. The loop zeroes the gradients, asks
 * for the loss of a batch on the backend and its backward, steps AdamW with the policy's weight decay per parameter,
 * averages every parameter (EMA) and writes the state dict.
 */
public interface TrainablePolicy extends AutoCloseable {

    Backend backend();

    /** Every learned tensor, in state_dict order: what the optimizer steps and the EMA averages. */
    List<Parameter> parameters();

    default long parameterCount() {
        long n = 0;
        for (Parameter p : parameters()) {
            n += p.numel();
        }
        return n;
    }

    default void zeroGrad() {
        for (Parameter p : parameters()) {
            p.zeroGrad();
        }
    }

    /** DP's optimizer groups as a weight decay per parameter, in the order of {@link #parameters()}. */
    float[] weightDecays(OptimizerConfig optimizer);

    /** DP's normaliser, as the state dict holds it (normalizer.params_dict.*). */
    LinearNormalizer normalizer();

    /**
     * What the data pipeline normalises batches with: "action", and "obs" over the low-dim observation vector the
     * batches carry (the low-dim keys concatenated in order).
     */
    LinearNormalizer dataNormalizer();

    /**
     * DP's compute_loss for training step {@code step} of a run seeded {@code seed} (or ambient diffusion's loss when
     * the batch carries each sample's step and t_n); keeps what {@link #backward} needs. training turns dropout and
     * random crops on.
     */
    float loss(BatchTensors batch, long seed, long step, boolean training, boolean ambientWeighting);

    /** Backpropagates lossScale * the last loss into every parameter's gradient (accumulating). */
    void backward(float lossScale);

    /** The denoiser's output of the last loss (B, H, Da), for diagnostics; null before one. */
    Tensor lastPrediction();

    /** Adds DP's policy state dict (weights, buffers, normaliser) under DP's names. */
    void addTo(Safetensors.Writer writer);

    /** Loads the weights (EMA ones when {@code ema} and the file has them) and the normaliser from a file. */
    void load(Safetensors file, boolean ema);

    @Override
    void close();
}
