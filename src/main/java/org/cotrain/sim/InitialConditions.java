package org.cotrain.sim;

import java.util.SplittableRandom;

/**
 * Seeded initial conditions: episode i of seed s is the same for every policy and every run (matched initial
 * conditions), whatever the order or thread it is run in. Push-T's distribution: the pusher uniform in
 * [agent_min, agent_max]^2, the block's origin uniform in [block_min, block_max]^2 with a uniform angle (or within
 * reset.angle_range_deg of the goal's angle, for easier tasks); draws where
 * the pusher overlaps the block (with a margin) or the block already covers the goal are redrawn.
 */
public final class InitialConditions {

    private InitialConditions() {}

    /** Initial condition {@code index} of {@code seed} for this environment. */
    public static InitialCondition sample(EnvConfig config, long seed, int index) {
        SplittableRandom random = new SplittableRandom(episodeSeed(seed, index));
        BlockShape shape = config.shape();
        double radius = config.physics().pusherRadius();
        double agentMin = config.number("reset.agent_min"), agentMax = config.number("reset.agent_max");
        double blockMin = config.number("reset.block_min"), blockMax = config.number("reset.block_max");
        Coverage coverage = new Coverage(shape);
        Pose goal = config.goal();
        double threshold = config.number("success.coverage");
        double angleRange = Math.toRadians(config.number("reset.angle_range_deg"));
        for (int attempt = 0; attempt < 1000; attempt++) {
            double ax = random.nextDouble(agentMin, agentMax), ay = random.nextDouble(agentMin, agentMax);
            double x = random.nextDouble(blockMin, blockMax), y = random.nextDouble(blockMin, blockMax);
            // The full circle draws as Push-T does; a narrower range is centred on the goal's angle.
            double theta = angleRange >= Math.PI ? random.nextDouble(-Math.PI, Math.PI)
                    : Pose.wrapAngle(goal.theta() + random.nextDouble(-angleRange, angleRange));
            Pose block = new Pose(x, y, theta);
            double[][] outline = Polygons.transform(shape.outline(), block);
            boolean overlaps = Polygons.contains(outline, ax, ay)
                    || Polygons.distanceToBoundary(outline, ax, ay) < radius + 2;
            if (!overlaps && coverage.coverage(block, goal) < threshold) return new InitialCondition(ax, ay, block);
        }
        throw new IllegalStateException("no valid initial condition in 1000 draws: check the reset.* ranges of "
                + config.name());
    }

    /** A well-mixed 64-bit seed for episode {@code index} of a run seeded {@code seed} (SplitMix64 finaliser). */
    public static long episodeSeed(long seed, int index) {
        long z = seed * 0x9E3779B97F4A7C15L + (index + 1) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
