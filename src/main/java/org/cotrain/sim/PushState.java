package org.cotrain.sim;

/**
 * The full physical state of the pushing scene, mutable and copied for look-ahead: the pusher (a kinematic disc
 * that tracks the commanded position) and the block (pose of its body frame and twist of its centre of mass).
 * Units: pixels, radians, seconds.
 */
public final class PushState {
    /** Pusher centre and velocity. */
    public double px, py, pvx, pvy;
    /** Block pose: body origin and angle (see {@link Pose}). */
    public double bx, by, theta;
    /** Block centre-of-mass velocity and angular velocity. */
    public double bvx, bvy, omega;

    public PushState() {}

    public PushState(PushState o) {
        copyFrom(o);
    }

    public void copyFrom(PushState o) {
        px = o.px; py = o.py; pvx = o.pvx; pvy = o.pvy;
        bx = o.bx; by = o.by; theta = o.theta;
        bvx = o.bvx; bvy = o.bvy; omega = o.omega;
    }

    public Pose blockPose() {
        return new Pose(bx, by, theta);
    }

    /** (agent x, agent y, block x, block y, block angle): the {@code obs/state} vector. */
    public double[] toStateVector() {
        return new double[] {px, py, bx, by, theta};
    }

    @Override
    public String toString() {
        return String.format("pusher (%.2f, %.2f) v (%.2f, %.2f); block (%.2f, %.2f, %.4f) v (%.2f, %.2f, %.4f)",
                px, py, pvx, pvy, bx, by, theta, bvx, bvy, omega);
    }
}
