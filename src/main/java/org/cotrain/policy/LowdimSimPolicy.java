package org.cotrain.policy;

import java.util.List;
import org.cotrain.sim.BatchPolicy;
import org.cotrain.sim.Observation;

/**
 * A low-dim Diffusion Policy driving sandbox episodes: each call denoises one batch for every episode that needs a
 * new chunk, from the last n_obs_steps observations (the config's obs_keys, concatenated in order, as in training),
 * and returns the n_action_steps executed actions of each chunk.
 */
public final class LowdimSimPolicy implements BatchPolicy {

    private final LowdimPolicy policy;
    private final List<String> obsKeys;
    private final long seed;
    private java.util.function.BiConsumer<float[], Integer> chunkListener;

    /**
     * @param obsKeys the observation keys the policy was trained on (task.dataset.obs_keys)
     * @param seed    the sampling noise's seed for a run (reset restarts it, so a run is reproducible)
     */
    public LowdimSimPolicy(LowdimPolicy policy, List<String> obsKeys, long seed) {
        this.policy = policy;
        this.obsKeys = List.copyOf(obsKeys);
        this.seed = seed;
        PusherCommands.requirePusherActions(policy.config().actionDim());
        for (String key : obsKeys) {
            if (key.equals("image")) {
                throw new IllegalArgumentException("obs key 'image': this checkpoint conditions on images; low-dim"
                        + " policies take agent_pos, keypoints and state");
            }
        }
    }

    /**
     * Hears every predicted chunk, (B, H, Da) in data units with its batch size B, before its executed actions are
     * returned (the analysis attributes them to training chunks).
     */
    public LowdimSimPolicy onChunks(java.util.function.BiConsumer<float[], Integer> listener) {
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
        int batch = episodes.length;
        int to = policy.config().nObsSteps();
        int dobs = policy.config().obsDim();
        int width = 0;
        for (String key : obsKeys) width += histories.get(0).get(0).lowdim(key).length;
        if (width != dobs) {
            throw new IllegalArgumentException("obs keys " + obsKeys + " give " + width + " values per step from the"
                    + " environment; the policy's obs_dim is " + dobs);
        }
        float[] obs = new float[batch * to * dobs]; // (B, To, Do)
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < to; t++) {
                int at = (b * to + t) * dobs;
                for (String key : obsKeys) {
                    for (double v : histories.get(b).get(t).lowdim(key)) obs[at++] = (float) v;
                }
            }
        }
        float[] chunk = policy.predictActionChunk(obs, batch);
        if (chunkListener != null) {
            chunkListener.accept(chunk, batch);
        }
        return PusherCommands.of(policy.executedActions(chunk, batch), batch, policy.actionSteps());
    }
}
