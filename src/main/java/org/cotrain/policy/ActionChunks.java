package org.cotrain.policy;

/** Diffusion Policy's receding horizon: of a predicted chunk of H actions, the Ta executed from index To - 1. */
final class ActionChunks {

    private ActionChunks() {}

    /** The Ta executed actions of each chunk, (B, Ta, Da), from chunks (B, H, Da). */
    static float[] executed(float[] chunk, int batch, int horizon, int actionDim, int nObsSteps, int nActionSteps) {
        if (chunk.length != batch * horizon * actionDim) {
            throw new IllegalArgumentException(chunk.length + " values are not " + batch + " chunks of (" + horizon
                    + ", " + actionDim + ")");
        }
        int start = nObsSteps - 1;
        float[] out = new float[batch * nActionSteps * actionDim];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(chunk, (b * horizon + start) * actionDim, out, b * nActionSteps * actionDim,
                    nActionSteps * actionDim);
        }
        return out;
    }
}
