package org.cotrain.sim.expert;

/**
 * How a scripted expert pushes: the knobs that make the two demonstration styles differ the way human
 * teleoperation and planner data differ. Both styles run the same planner ({@link ScriptedExpert}).
 *
 * @param name             target or source
 * @param alignFirst       rotate the block to the goal angle first (cost on the angle only, with the block held
 *                         near where it was), then translate; otherwise one cost on the full pose error
 * @param alignEnterDeg    with alignFirst: the angle error (degrees) below which translation starts
 * @param alignExitDeg     with alignFirst: the angle error above which the expert goes back to rotating
 * @param anchorWeight     with alignFirst: weight of the centroid's drift (pixels) while rotating
 * @param angleWeight      weight of the angle error, in units of the block's radius of gyration times radians, in the
 *                         full pose cost |centroid error| + angleWeight * rho * |angle error|
 * @param coneFractions    push directions at a face, as multiples of the friction cone's half-angle atan(mu) away
 *                         from the inward normal (0 = straight in; |f| < 1 sticks, |f| > 1 slides along the face)
 * @param nookAnglesDeg    push directions into a concave corner, degrees from its inward bisector; empty: no nook
 * @param nookBonus        score multiplier for nook pushes while rotating (a teleoperator's habit: the corner holds
 *                         the pusher)
 * @param contactSpacing   pixels between candidate contacts along a face
 * @param cornerMargin     pixels a face contact keeps from a convex corner
 * @param noiseSigma       hand-like command noise, standard deviation per axis (pixels); 0 for none
 * @param noiseTau         its correlation time (seconds)
 * @param approachSpeed    cruise speed of approach moves, pixels/s
 * @param approachAccel    their acceleration, pixels/s^2
 * @param pushSpeedMin     slowest push, pixels per command (near the goal)
 * @param pushSpeedMax     fastest push, pixels per command
 * @param pushSpeedGain    push speed per unit of cost (pixels per command per pixel of pose error)
 * @param maxPushCommands  longest single push, commands
 */
public record ExpertStyle(String name, boolean alignFirst, double alignEnterDeg, double alignExitDeg,
                          double anchorWeight, double angleWeight, double[] coneFractions, double[] nookAnglesDeg,
                          double nookBonus, double contactSpacing, double cornerMargin, double noiseSigma,
                          double noiseTau, double approachSpeed, double approachAccel, double pushSpeedMin,
                          double pushSpeedMax, double pushSpeedGain, int maxPushCommands) {

    public ExpertStyle {
        if (alignFirst && !(alignEnterDeg > 0 && alignExitDeg > alignEnterDeg)) {
            throw new IllegalArgumentException("expert style " + name + ": need 0 < alignEnterDeg < alignExitDeg");
        }
        if (!(angleWeight > 0)) throw new IllegalArgumentException("expert style " + name + ": angleWeight must be > 0");
        if (coneFractions.length == 0) throw new IllegalArgumentException("expert style " + name + ": no push directions");
        if (!(pushSpeedMin > 0 && pushSpeedMax >= pushSpeedMin)) {
            throw new IllegalArgumentException("expert style " + name + ": need 0 < pushSpeedMin <= pushSpeedMax");
        }
        if (maxPushCommands < 1) throw new IllegalArgumentException("expert style " + name + ": maxPushCommands < 1");
        if (!(approachSpeed > 0 && approachAccel > 0)) {
            throw new IllegalArgumentException("expert style " + name + ": approach speed and acceleration must be > 0");
        }
    }

    /**
     * Stands for human teleoperation: orientation first, then translation; sliding pushes along the faces as well as
     * straight ones; the nook for rotating; a smooth wobble of about 2 pixels on every command.
     */
    public static ExpertStyle target() {
        return new ExpertStyle("target", true, 6, 20, 0.3, 1.5,
                new double[] {0, -0.5, 0.5, -1.4, 1.4, -2.2, 2.2}, new double[] {0, -25, 25, -45, 45}, 2.0,
                12, 4, 2.0, 0.6, 300, 1500, 1.5, 9, 0.12, 20);
    }

    /**
     * Stands for a planner: one cost on the full pose error (angle and position fall together); sticking pushes
     * near the inward normal of the flat faces only; crisp straight segments without noise.
     */
    public static ExpertStyle source() {
        return new ExpertStyle("source", false, 1, 2, 0, 1.6, new double[] {0, -0.4, 0.4}, new double[] {}, 1.0,
                10, 5, 0, 1, 350, 1800, 1.5, 10, 0.12, 20);
    }

    /** The style of this name: target or source. */
    public static ExpertStyle named(String name) {
        return switch (name) {
            case "target" -> target();
            case "source" -> source();
            default -> throw new IllegalArgumentException("unknown expert style '" + name + "' (target, source)");
        };
    }
}
