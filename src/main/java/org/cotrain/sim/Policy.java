package org.cotrain.sim;

import java.util.List;

/**
 * The sandbox's only view of a controller, for one episode at a time: observation history in, action chunk out.
 * The scripted experts implement it; neural policies come in through {@link BatchPolicy}.
 */
public interface Policy {

    /** How many recent observations {@link #act} wants (Diffusion Policy's n_obs_steps). */
    default int historyLength() {
        return 1;
    }

    /** Starts an episode; the seed makes any randomness of the policy reproducible. */
    default void reset(long seed) {}

    /**
     * The next commanded pusher positions, executed in order: (n, 2), n >= 1. {@code history} holds the last
     * {@link #historyLength()} observations, oldest first (at an episode's start the first one repeated).
     */
    double[][] act(List<Observation> history);
}
