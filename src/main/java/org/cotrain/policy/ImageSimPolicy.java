package org.cotrain.policy;

import java.util.List;
import org.cotrain.config.ShapeMeta;
import org.cotrain.sim.BatchPolicy;
import org.cotrain.sim.Observation;

/**
 * An image Diffusion Policy driving sandbox episodes: each call denoises one batch for every episode that needs a new
 * chunk, from the last n_obs_steps rendered frames (the sandbox's one camera, obs key "image": uint8 HWC, as the
 * datasets store it) and low-dim keys (agent_pos, ...), and returns the n_action_steps executed actions of each chunk.
 * The environment must render (Evaluator's images option).
 */
public final class ImageSimPolicy implements BatchPolicy {
    /** The sandbox's camera key, as its datasets store the frames. */
    public static final String CAMERA = "image";

    private final ImagePolicy policy;
    private final long seed;
    private java.util.function.BiConsumer<float[], Integer> chunkListener;

    /** @param seed the sampling noise's seed for a run (reset restarts it, so a run is reproducible) */
    public ImageSimPolicy(ImagePolicy policy, long seed) {
        List<String> cameras = policy.config().cameras().stream().map(ShapeMeta.ObsKey::key).toList();
        if (!cameras.equals(List.of(CAMERA))) {
            throw new IllegalArgumentException("the sandbox renders one camera, obs key '" + CAMERA + "'; this policy's"
                    + " cameras are " + cameras);
        }
        for (ShapeMeta.ObsKey key : policy.config().lowdim()) {
            if (!List.of("agent_pos", "keypoints", "state").contains(key.key())) {
                throw new IllegalArgumentException("low-dim obs key '" + key.key() + "' is not one the sandbox has"
                        + " (agent_pos, keypoints, state)");
            }
        }
        PusherCommands.requirePusherActions(policy.config().actionDim());
        this.policy = policy;
        this.seed = seed;
    }

    /**
     * Hears every predicted chunk, (B, H, Da) in data units with its batch size B, before its executed actions are
     * returned (the analysis attributes them to training chunks).
     */
    public ImageSimPolicy onChunks(java.util.function.BiConsumer<float[], Integer> listener) {
        this.chunkListener = listener;
        return this;
    }

    @Override
    public int historyLength() {
        return policy.config().nObsSteps();
    }

    @Override
    public void reset(long[] seeds) {
        policy.setSeed(seed);
    }

    @Override
    public double[][][] act(int[] episodes, List<List<Observation>> histories) {
        ImagePolicyConfig c = policy.config();
        int batch = episodes.length;
        int to = c.nObsSteps();
        ShapeMeta.ObsKey camera = c.cameras().get(0);
        int frame = camera.height() * camera.width() * 3;
        int dl = c.lowdimDim();
        byte[] frames = new byte[batch * to * frame]; // (B, To, H, W, 3)
        float[] lowdim = new float[batch * to * dl];  // (B, To, Dl)
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < to; t++) {
                Observation o = histories.get(b).get(t);
                if (o.image() == null) {
                    throw new IllegalArgumentException("image policy: the environment was run without rendering");
                }
                if (o.image().length != frame) {
                    throw new IllegalArgumentException("image policy: the environment renders " + o.image().length
                            + " bytes per frame, the policy's camera '" + camera.key() + "' wants " + camera.height()
                            + "x" + camera.width() + "x3 = " + frame + " (render size vs task.shape_meta)");
                }
                System.arraycopy(o.image(), 0, frames, (b * to + t) * frame, frame);
                int at = (b * to + t) * dl;
                for (ShapeMeta.ObsKey key : c.lowdim()) {
                    double[] v = o.lowdim(key.key());
                    if (v.length != key.dim()) {
                        throw new IllegalArgumentException("obs key '" + key.key() + "' has " + v.length + " values"
                                + " in the sandbox, the policy's shape is " + key.shape());
                    }
                    for (double x : v) lowdim[at++] = (float) x;
                }
            }
        }
        float[] chunk = policy.predictActionChunk(List.of(frames), lowdim, batch);
        if (chunkListener != null) {
            chunkListener.accept(chunk, batch);
        }
        return PusherCommands.of(policy.executedActions(chunk, batch), batch, policy.actionSteps());
    }
}
