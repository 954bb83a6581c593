package org.cotrain.sim.expert;

/**
 * Commands that make the PD-driven pusher follow a polyline closely and stop at its end.
 *
 * <p>The pusher obeys a = kp (c - p) - kv v toward the held command c, so it lags a moving command by about
 * (kv / kp) v (0.2 s of travel in Push-T): a naive "command the next waypoint" cuts corners by tens of pixels. Here a
 * virtual point moves along the path with a speed profile (accelerate, cruise, slow down before sharp turns, stop at
 * the end; v^2 <= v_i^2 + 2 a s between vertex limits) and the command is the feedforward that makes that motion
 * a solution of the PD law: c = p + (kv v + a) / kp, taken at the middle of each control interval (the command
 * is held for the whole interval). Tracking error stays within a few pixels, which the planner's clearance covers.
 */
final class ApproachTrajectory {

    private static final int SUBSTEPS = 20;

    private final double vmax, amax, kp, kv, dt;
    private final double[] px, py, segLen, vLimit;
    private int points;
    private double s, total;
    private boolean finished = true;

    /**
     * @param maxPoints largest polyline
     * @param vmax      cruise speed, pixels/s
     * @param amax      acceleration of the virtual point, pixels/s^2
     * @param controlDt seconds per command
     */
    ApproachTrajectory(int maxPoints, double vmax, double amax, double kp, double kv, double controlDt) {
        this.vmax = vmax;
        this.amax = amax;
        this.kp = kp;
        this.kv = kv;
        this.dt = controlDt;
        px = new double[maxPoints];
        py = new double[maxPoints];
        segLen = new double[maxPoints];
        vLimit = new double[maxPoints];
    }

    /** Starts following the polyline xy (x0, y0, x1, y1, ...; count points) from its first point at rest. */
    void start(double[] xy, int count) {
        points = 0;
        for (int i = 0; i < count; i++) {
            double x = xy[2 * i], y = xy[2 * i + 1];
            if (points > 0 && Math.hypot(x - px[points - 1], y - py[points - 1]) < 1e-6) continue;
            px[points] = x;
            py[points] = y;
            points++;
        }
        total = 0;
        for (int i = 0; i + 1 < points; i++) {
            segLen[i] = Math.hypot(px[i + 1] - px[i], py[i + 1] - py[i]);
            total += segLen[i];
        }
        // Vertex speed limits: stop at both ends; at a turn the lagging pusher cuts the corner by about its lag
        // times the turn, so the sharper the turn the slower (a right angle at about a sixth of the cruise speed).
        vLimit[0] = 0;
        vLimit[points - 1] = 0;
        for (int i = 1; i + 1 < points; i++) {
            double ax = px[i] - px[i - 1], ay = py[i] - py[i - 1], bx = px[i + 1] - px[i], by = py[i + 1] - py[i];
            double cos = (ax * bx + ay * by) / (segLen[i - 1] * segLen[i]);
            vLimit[i] = vmax * Math.max(0.15, Math.min(1, (cos + 0.2) / 1.2));
        }
        // Forward and backward passes make the limits reachable with the acceleration bound.
        for (int i = 1; i < points; i++) {
            vLimit[i] = Math.min(vLimit[i], Math.sqrt(vLimit[i - 1] * vLimit[i - 1] + 2 * amax * segLen[i - 1]));
        }
        for (int i = points - 2; i >= 0; i--) {
            vLimit[i] = Math.min(vLimit[i], Math.sqrt(vLimit[i + 1] * vLimit[i + 1] + 2 * amax * segLen[i]));
        }
        s = 0;
        finished = points < 2;
    }

    boolean finished() {
        return finished;
    }

    /** The path's end point. */
    double endX() {
        return px[points - 1];
    }

    double endY() {
        return py[points - 1];
    }

    /** The next command (x, y) into out; after the end of the path it is the end point. */
    void next(double[] out) {
        if (finished) {
            out[0] = px[points - 1];
            out[1] = py[points - 1];
            return;
        }
        double h = dt / 2 / SUBSTEPS;
        for (int i = 0; i < SUBSTEPS; i++) s = Math.min(total, s + Math.max(speed(s), 2.0) * h);
        // Feedforward at the middle of the interval: c = p + (kv v + a) / kp along the path's direction.
        int seg = segment(s);
        double v = speed(s);
        double a = (speed(Math.min(total, s + 0.5)) - speed(Math.max(0, s - 0.5))) * v; // a = v dv/ds
        double along = s - startOf(seg);
        double ux = (px[seg + 1] - px[seg]) / segLen[seg], uy = (py[seg + 1] - py[seg]) / segLen[seg];
        double lead = (kv * v + a) / kp;
        out[0] = px[seg] + ux * (along + lead);
        out[1] = py[seg] + uy * (along + lead);
        for (int i = 0; i < SUBSTEPS; i++) s = Math.min(total, s + Math.max(speed(s), 2.0) * h);
        if (s >= total - 1e-9) finished = true;
    }

    /** The path's speed limit at arc length s: cruise, or what the neighbouring vertex limits allow. */
    private double speed(double arc) {
        int seg = segment(arc);
        double along = arc - startOf(seg);
        double v0 = vLimit[seg], v1 = vLimit[seg + 1];
        return Math.min(vmax, Math.min(Math.sqrt(v0 * v0 + 2 * amax * along),
                Math.sqrt(v1 * v1 + 2 * amax * Math.max(0, segLen[seg] - along))));
    }

    private int segment(double arc) {
        double acc = 0;
        for (int i = 0; i + 1 < points; i++) {
            if (arc <= acc + segLen[i] || i + 2 == points) return i;
            acc += segLen[i];
        }
        return 0;
    }

    private double startOf(int seg) {
        double acc = 0;
        for (int i = 0; i < seg; i++) acc += segLen[i];
        return acc;
    }
}
