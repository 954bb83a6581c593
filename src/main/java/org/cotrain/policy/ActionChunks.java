package org.cotrain.policy;

/** Diffusion Policy's receding horizon: of a predicted chunk of H actions, the Ta executed from index To - 1. */
final class ActionChunks {

    private ActionChunks() {}

    /**
     * Checks an n_action_steps for execution: the executed actions start at To - 1, so at most H - To + 1 of a chunk
     * exist to execute.
     */
    static int checkActionSteps(int nActionSteps, int horizon, int nObsSteps) {
        int most = horizon - nObsSteps + 1;
        if (nActionSteps < 1 || nActionSteps > most) {
            throw new IllegalArgumentException("n_action_steps " + nActionSteps + ": a chunk of horizon " + horizon
                    + " executed from step n_obs_steps - 1 = " + (nObsSteps - 1) + " has 1.." + most + " actions");
        }
        return nActionSteps;
    }

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
