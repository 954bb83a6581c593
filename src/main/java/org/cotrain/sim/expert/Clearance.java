package org.cotrain.sim.expert;

/**
 * Distances between the pusher's path and the block's outline in the workspace, for planning approaches that do
 * not touch the block. The outline is a flat array x0, y0, x1, y1, ... (a simple polygon, pixels).
 */
final class Clearance {

    private Clearance() {}

    /** Distance from (x, y) to the outline's boundary; negative when the point lies inside the polygon. */
    static double signedDistance(double[] outline, int n, double x, double y) {
        double d = Math.sqrt(squaredDistanceToBoundary(outline, n, x, y));
        return inside(outline, n, x, y) ? -d : d;
    }

    /** Smallest distance from the segment (ax, ay)-(bx, by) to the polygon; 0 if it touches or enters it. */
    static double segmentDistance(double[] outline, int n, double ax, double ay, double bx, double by) {
        if (inside(outline, n, ax, ay) || inside(outline, n, bx, by)) return 0;
        double best = Double.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            int j = (i + 1) % n;
            double ux = outline[2 * i], uy = outline[2 * i + 1], vx = outline[2 * j], vy = outline[2 * j + 1];
            if (segmentsCross(ax, ay, bx, by, ux, uy, vx, vy)) return 0;
            // Two segments that do not cross are closest at an endpoint of one of them.
            best = Math.min(best, pointSegment2(ax, ay, ux, uy, vx, vy));
            best = Math.min(best, pointSegment2(bx, by, ux, uy, vx, vy));
            best = Math.min(best, pointSegment2(ux, uy, ax, ay, bx, by));
            best = Math.min(best, pointSegment2(vx, vy, ax, ay, bx, by));
        }
        return Math.sqrt(best);
    }

    /**
     * The boundary point nearest to (x, y), written to out[0..1]; the return value is its squared distance.
     */
    static double nearestBoundaryPoint(double[] outline, int n, double x, double y, double[] out) {
        double best = Double.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            int j = (i + 1) % n;
            double ux = outline[2 * i], uy = outline[2 * i + 1];
            double ex = outline[2 * j] - ux, ey = outline[2 * j + 1] - uy;
            double t = Math.max(0, Math.min(1, ((x - ux) * ex + (y - uy) * ey) / (ex * ex + ey * ey)));
            double px = ux + t * ex, py = uy + t * ey;
            double d = (px - x) * (px - x) + (py - y) * (py - y);
            if (d < best) {
                best = d;
                out[0] = px;
                out[1] = py;
            }
        }
        return best;
    }

    static boolean inside(double[] p, int n, double x, double y) {
        boolean in = false;
        for (int i = 0, j = n - 1; i < n; j = i++) {
            double ux = p[2 * i], uy = p[2 * i + 1], vx = p[2 * j], vy = p[2 * j + 1];
            if ((uy > y) != (vy > y) && x < (vx - ux) * (y - uy) / (vy - uy) + ux) in = !in;
        }
        return in;
    }

    private static double squaredDistanceToBoundary(double[] p, int n, double x, double y) {
        double best = Double.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            int j = (i + 1) % n;
            best = Math.min(best, pointSegment2(x, y, p[2 * i], p[2 * i + 1], p[2 * j], p[2 * j + 1]));
        }
        return best;
    }

    private static double pointSegment2(double x, double y, double ux, double uy, double vx, double vy) {
        double ex = vx - ux, ey = vy - uy;
        double len2 = ex * ex + ey * ey;
        double t = len2 == 0 ? 0 : Math.max(0, Math.min(1, ((x - ux) * ex + (y - uy) * ey) / len2));
        double dx = ux + t * ex - x, dy = uy + t * ey - y;
        return dx * dx + dy * dy;
    }

    /** Whether the closed segments a-b and u-v intersect (proper crossings and touching). */
    private static boolean segmentsCross(double ax, double ay, double bx, double by, double ux, double uy, double vx,
                                         double vy) {
        double d1 = cross(ux, uy, vx, vy, ax, ay), d2 = cross(ux, uy, vx, vy, bx, by);
        double d3 = cross(ax, ay, bx, by, ux, uy), d4 = cross(ax, ay, bx, by, vx, vy);
        return ((d1 > 0) != (d2 > 0)) && ((d3 > 0) != (d4 > 0)) && d1 != 0 && d2 != 0 && d3 != 0 && d4 != 0;
    }

    private static double cross(double ox, double oy, double ax, double ay, double px, double py) {
        return (ax - ox) * (py - oy) - (ay - oy) * (px - ox);
    }
}
