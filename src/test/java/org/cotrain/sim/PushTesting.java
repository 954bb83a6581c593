package org.cotrain.sim;

import java.util.Random;

/**
 * Shared pieces of the physics tests: an independent overlap measure (plain polygon geometry, not the contact
 * detector under test) and a seeded random pushing episode.
 */
final class PushTesting {

    private PushTesting() {}

    /** How far the pusher disc overlaps the block (pixels; negative is the gap), from the transformed outline. */
    static double overlap(BlockShape shape, double radius, PushState s) {
        double[][] outline = Polygons.transform(shape.outline(), s.blockPose());
        double d = Polygons.distanceToBoundary(outline, s.px, s.py);
        return Polygons.contains(outline, s.px, s.py) ? radius + d : radius - d;
    }

    /** The block's centre of mass in the workspace for a body-frame centre of mass (cx, cy). */
    static double[] com(PushState s, double cx, double cy) {
        double c = Math.cos(s.theta), sn = Math.sin(s.theta);
        return new double[] {s.bx + c * cx - sn * cy, s.by + sn * cx + c * cy};
    }

    /** A state with the block at (bx, by, theta) at rest and the pusher at rest at (px, py). */
    static PushState state(double bx, double by, double theta, double px, double py) {
        PushState s = new PushState();
        s.bx = bx;
        s.by = by;
        s.theta = theta;
        s.px = px;
        s.py = py;
        return s;
    }

    /**
     * The PD target that keeps the pusher at velocity (vx, vy) through one step: with v = target velocity, the law
     * v += (kp (T - p) - kv v) dt leaves v unchanged when kp (T - p) = kv v.
     */
    static double[] targetForVelocity(PhysicsParams p, PushState s, double vx, double vy) {
        s.pvx = vx;
        s.pvy = vy;
        return new double[] {s.px + p.kv() * vx / p.kp(), s.py + p.kv() * vy / p.kp()};
    }

    /** Summary of a random-push run. */
    record RunStats(double maxOverlap, int steps, int touchingSteps) {}

    /**
     * Random pushes: per episode a random block pose, the pusher starting outside the block, and {@code commands}
     * commands, most aimed at a random point near the block's centre (so the pusher keeps running into it, at the
     * speeds a 100-pixel command produces), some anywhere nearby. The overlap is measured after every physics step.
     */
    static RunStats randomPushes(PhysicsModel model, long seed, int episodes, int commands) {
        BlockShape shape = model.shape();
        double r = model.params().pusherRadius();
        Random rng = new Random(seed);
        double max = Double.NEGATIVE_INFINITY;
        int steps = 0, touching = 0;
        double reach = shape.radiusAbout(shape.centroidX(), shape.centroidY());
        for (int e = 0; e < episodes; e++) {
            PushState s = new PushState();
            s.bx = 180 + 150 * rng.nextDouble();
            s.by = 180 + 150 * rng.nextDouble();
            s.theta = Math.PI * (2 * rng.nextDouble() - 1);
            double[] c = com(s, shape.centroidX(), shape.centroidY());
            double a = 2 * Math.PI * rng.nextDouble();
            s.px = c[0] + (reach + r + 5) * Math.cos(a);
            s.py = c[1] + (reach + r + 5) * Math.sin(a);
            for (int k = 0; k < commands; k++) {
                c = com(s, shape.centroidX(), shape.centroidY());
                double tx, ty;
                if (rng.nextDouble() < 0.8) {
                    // Toward the block through a random point near its centre, 100 px from the pusher.
                    double gx = c[0] + 40 * rng.nextGaussian() - s.px, gy = c[1] + 40 * rng.nextGaussian() - s.py;
                    double g = Math.max(1e-9, Math.hypot(gx, gy));
                    tx = s.px + 100 * gx / g;
                    ty = s.py + 100 * gy / g;
                } else {
                    tx = c[0] + 150 * (2 * rng.nextDouble() - 1);
                    ty = c[1] + 150 * (2 * rng.nextDouble() - 1);
                }
                for (int i = 0; i < model.params().substeps(); i++) {
                    model.step(s, tx, ty);
                    double o = overlap(shape, r, s);
                    max = Math.max(max, o);
                    steps++;
                    if (o > -0.5) touching++;
                }
            }
        }
        return new RunStats(max, steps, touching);
    }
}
