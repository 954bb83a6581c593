package org.cotrain.policy;

/** A diffusion policy's executed actions as sandbox commands: the commanded pusher position (x, y) per step. */
final class PusherCommands {

    private PusherCommands() {}

    /** Checked when a policy is put in the sandbox, before any denoising is spent on it. */
    static void requirePusherActions(int actionDim) {
        if (actionDim != 2) {
            throw new IllegalArgumentException("the policy's action_dim is " + actionDim + "; the sandbox commands a"
                    + " pusher position (2)");
        }
    }

    /** (B Ta 2) floats in data units -> (B, Ta, 2) commands. */
    static double[][][] of(float[] actions, int batch, int ta) {
        double[][][] out = new double[batch][ta][2];
        for (int b = 0; b < batch; b++) {
            for (int k = 0; k < ta; k++) {
                out[b][k][0] = actions[(b * ta + k) * 2];
                out[b][k][1] = actions[(b * ta + k) * 2 + 1];
            }
        }
        return out;
    }
}
