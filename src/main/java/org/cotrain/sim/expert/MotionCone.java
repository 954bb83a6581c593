package org.cotrain.sim.expert;

/**
 * The quasi-static pusher-slider's block motion for a push at one point (Lynch and Mason, with an ellipsoidal limit
 * surface): a cheap first guess of what a push does, used to rank candidate pushes before the expensive look-ahead
 * on the environment's own physics model.
 *
 * <p>With the ellipsoidal limit surface the block's twist is parallel to (Fx, Fy, M / c^2) for the applied force F
 * and moment M, where c = m_max / f_max (the friction patch's lever arm). Sticking (the contact point moves with the
 * pusher, vp) gives, with r the contact point relative to the centre of mass:
 * vx = ((c^2 + rx^2) vpx + rx ry vpy) / D, vy = (rx ry vpx + (c^2 + ry^2) vpy) / D, D = c^2 + rx^2 + ry^2,
 * omega = (rx vy - ry vx) / c^2, and the force is parallel to (vx, vy). If that force leaves the friction cone
 * (half-angle atan mu about the inward normal) the pusher slides and the force lies on the cone's nearer edge; the
 * twist is then parallel to (F_edge, r x F_edge / c^2), scaled so the contact point keeps up with the pusher's
 * normal speed.
 */
final class MotionCone {

    private MotionCone() {}

    /**
     * The twist (vx, vy, omega) of the centre of mass per unit pusher speed, written to out, for a push in the unit
     * direction (dx, dy) at the point (rx, ry) (relative to the centre of mass) of a face with inward unit normal
     * (inx, iny). Any frame. Returns false when the pusher does not press on the face.
     */
    static boolean push(double rx, double ry, double inx, double iny, double dx, double dy, double mu, double c,
                        double[] out) {
        double pressing = dx * inx + dy * iny;
        if (pressing <= 1e-9) return false;
        double c2 = c * c, den = c2 + rx * rx + ry * ry;
        double vx = ((c2 + rx * rx) * dx + rx * ry * dy) / den;
        double vy = (rx * ry * dx + (c2 + ry * ry) * dy) / den;
        // Angle of the sticking force (parallel to (vx, vy)) from the inward normal.
        double fn = vx * inx + vy * iny, ft = -vx * iny + vy * inx; // ft along the normal turned counter-clockwise
        double cone = Math.atan(mu);
        if (fn > 0 && Math.abs(Math.atan2(ft, fn)) <= cone) {
            out[0] = vx;
            out[1] = vy;
            out[2] = (rx * vy - ry * vx) / c2;
            return true;
        }
        // Sliding: the force on the cone edge on the side of the sticking force.
        double side = ft >= 0 ? 1 : -1, cs = Math.cos(cone), sn = Math.sin(cone) * side;
        double fx = inx * cs - iny * sn, fy = iny * cs + inx * sn;
        double w = (rx * fy - ry * fx) / c2;
        // Contact point velocity v + w x r, its normal component must equal the pusher's.
        double cvx = fx - w * ry, cvy = fy + w * rx;
        double normal = cvx * inx + cvy * iny;
        if (normal <= 1e-12) return false;
        double scale = pressing / normal;
        out[0] = fx * scale;
        out[1] = fy * scale;
        out[2] = w * scale;
        return true;
    }
}
