package org.cotrain.train;

/**
 * A NaN or Inf in training: the loss, or the gradient norm, of a step is not finite. The message names the step
 * and the first non-finite tensor found (inputs first, then weights, then the prediction); the run stops before the
 * optimizer step, so the last checkpoint on disk is the last good state.
 */
public final class TrainingDivergedException extends RuntimeException {
    private final long step;

    public TrainingDivergedException(long step, String message) {
        super(message);
        this.step = step;
    }

    /** The global step (batch index) at which it happened. */
    public long step() {
        return step;
    }
}
