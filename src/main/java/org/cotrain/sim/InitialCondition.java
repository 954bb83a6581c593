package org.cotrain.sim;

/** Where an episode starts: the pusher at rest at (agentX, agentY) and the block at rest at its pose. */
public record InitialCondition(double agentX, double agentY, Pose block) {}
