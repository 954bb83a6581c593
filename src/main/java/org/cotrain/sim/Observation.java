package org.cotrain.sim;

/**
 * What a policy sees at one step, with the dataset key each field is stored under.
 *
 * @param agentPos  (2) pusher position ({@code obs/agent_pos})
 * @param keypoints (18) the block's nine keypoints in the workspace, x0 y0 x1 y1 ... ({@code obs/keypoints})
 * @param state     (5) agent x, agent y, block x, block y, block angle ({@code obs/state})
 * @param image     (96 * 96 * 3) RGB uint8 image, HWC ({@code obs/image}); null when the environment does not render
 */
public record Observation(double[] agentPos, double[] keypoints, double[] state, byte[] image) {

    /** The low-dim vector of one dataset key: agent_pos, keypoints or state. */
    public double[] lowdim(String key) {
        return switch (key) {
            case "agent_pos" -> agentPos;
            case "keypoints" -> keypoints;
            case "state" -> state;
            default -> throw new IllegalArgumentException("observation key '" + key + "' is not low-dim (agent_pos,"
                    + " keypoints, state)");
        };
    }
}
