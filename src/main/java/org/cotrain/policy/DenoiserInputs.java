package org.cotrain.policy;

import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;

/**
 * The input contract both denoisers check before any native call (TransformerForDiffusion, ConditionalUnet1D):
 * sample (B, horizon, input_dim), timesteps float32 (B), cond (B, n_obs_steps, cond_dim) when the model has a
 * condition and null otherwise, all on the model's backend. Errors name the model, the input and both shapes.
 */
final class DenoiserInputs {
    private DenoiserInputs() {}

    /**
     * Returns the batch B.
     *
     * @param model     the model's name, for messages
     * @param condition what the model calls its condition ("observation", "global"), for messages; with
     *                  {@code hasCond} false, a given cond is an error
     */
    static int check(String model, Backend backend, Tensor sample, Tensor timesteps, Tensor cond, int horizon,
                     int inputDim, boolean hasCond, int nObsSteps, int condDim, String condition) {
        if (sample.rank() != 3 || sample.dim(1) != horizon || sample.dim(2) != inputDim) {
            throw new IllegalArgumentException(model + ": sample has shape " + sample.shapeString() + ", expected (B, "
                    + horizon + ", " + inputDim + ") (horizon, input_dim)");
        }
        int b = sample.dim(0);
        if (b <= 0) {
            throw new IllegalArgumentException(model + ": empty batch " + sample.shapeString());
        }
        if (timesteps.dtype() != DType.F32 || !timesteps.hasShape(b)) {
            throw new IllegalArgumentException(model + ": timesteps must be float32 of shape (" + b + ",), got "
                    + timesteps.dtype() + " " + timesteps.shapeString());
        }
        if (hasCond) {
            if (cond == null || !cond.hasShape(b, nObsSteps, condDim)) {
                throw new IllegalArgumentException(model + ": cond has shape " + (cond == null ? "null"
                        : cond.shapeString()) + ", expected (" + b + ", " + nObsSteps + ", " + condDim
                        + ") (B, n_obs_steps, cond_dim)");
            }
        } else if (cond != null) {
            throw new IllegalArgumentException(model + ": cond " + cond.shapeString() + " given, but the model has no "
                    + condition + " condition (cond_dim 0)");
        }
        for (Tensor t : new Tensor[] {sample, timesteps, cond}) {
            if (t != null && t.backend() != backend) {
                throw new IllegalArgumentException(model + ": input on backend " + t.backend().name()
                        + ", the model is on " + backend.name());
            }
        }
        return b;
    }
}
