package org.cotrain.sim;

/**
 * A planar rigid-body pose: the body frame's origin (x, y) in workspace pixels and its angle theta in radians.
 * A body point p maps to the workspace as R(theta) p + (x, y). The workspace is 512 x 512 with x to the right
 * and y down (image rows), as in Push-T.
 */
public record Pose(double x, double y, double theta) {

    /** The workspace position of the body-frame point (bx, by), written to out[0..1]. */
    public void toWorld(double bx, double by, double[] out) {
        double c = Math.cos(theta), s = Math.sin(theta);
        out[0] = x + c * bx - s * by;
        out[1] = y + s * bx + c * by;
    }

    /** theta wrapped to (-pi, pi]. */
    public static double wrapAngle(double a) {
        a = Math.IEEEremainder(a, 2 * Math.PI);
        return a <= -Math.PI ? a + 2 * Math.PI : a;
    }
}
