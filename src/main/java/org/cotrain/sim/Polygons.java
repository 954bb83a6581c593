package org.cotrain.sim;

/**
 * Plain polygon geometry on (n, 2) vertex arrays: signed area, centroid, second moment, point tests, rigid
 * transforms and convex clipping. Counter-clockwise means positive signed area in (x, y).
 */
public final class Polygons {

    private Polygons() {}

    /** Signed area (shoelace): positive for counter-clockwise vertices. */
    public static double area(double[][] p) {
        double a = 0;
        for (int i = 0, n = p.length; i < n; i++) {
            double[] u = p[i], v = p[(i + 1) % n];
            a += u[0] * v[1] - v[0] * u[1];
        }
        return 0.5 * a;
    }

    /** Area centroid of a simple polygon. */
    public static double[] centroid(double[][] p) {
        double cx = 0, cy = 0;
        for (int i = 0, n = p.length; i < n; i++) {
            double[] u = p[i], v = p[(i + 1) % n];
            double cross = u[0] * v[1] - v[0] * u[1];
            cx += (u[0] + v[0]) * cross;
            cy += (u[1] + v[1]) * cross;
        }
        double a6 = 6 * area(p);
        return new double[] {cx / a6, cy / a6};
    }

    /** Integral of x^2 + y^2 over a counter-clockwise simple polygon (second polar moment about the origin). */
    public static double polarMomentAboutOrigin(double[][] p) {
        double j = 0;
        for (int i = 0, n = p.length; i < n; i++) {
            double[] u = p[i], v = p[(i + 1) % n];
            double cross = u[0] * v[1] - v[0] * u[1];
            j += cross * (u[0] * u[0] + u[0] * v[0] + v[0] * v[0] + u[1] * u[1] + u[1] * v[1] + v[1] * v[1]);
        }
        return j / 12;
    }

    /** Whether (x, y) lies inside or on a counter-clockwise convex polygon. */
    public static boolean containsConvex(double[][] p, double x, double y) {
        for (int i = 0, n = p.length; i < n; i++) {
            double[] u = p[i], v = p[(i + 1) % n];
            if ((v[0] - u[0]) * (y - u[1]) - (v[1] - u[1]) * (x - u[0]) < 0) return false;
        }
        return true;
    }

    /** Whether (x, y) lies inside a simple polygon (even-odd ray casting; boundary points may go either way). */
    public static boolean contains(double[][] p, double x, double y) {
        boolean inside = false;
        for (int i = 0, n = p.length, j = n - 1; i < n; j = i++) {
            double[] u = p[i], v = p[j];
            if ((u[1] > y) != (v[1] > y) && x < (v[0] - u[0]) * (y - u[1]) / (v[1] - u[1]) + u[0]) inside = !inside;
        }
        return inside;
    }

    /** Distance from (x, y) to the nearest point of the polygon's boundary. */
    public static double distanceToBoundary(double[][] p, double x, double y) {
        double best = Double.MAX_VALUE;
        for (int i = 0, n = p.length; i < n; i++) {
            double[] u = p[i], v = p[(i + 1) % n];
            double ex = v[0] - u[0], ey = v[1] - u[1];
            double t = Math.max(0, Math.min(1, ((x - u[0]) * ex + (y - u[1]) * ey) / (ex * ex + ey * ey)));
            best = Math.min(best, Math.hypot(u[0] + t * ex - x, u[1] + t * ey - y));
        }
        return best;
    }

    /** The polygon's vertices moved from the body frame to the workspace by the pose. */
    public static double[][] transform(double[][] p, Pose pose) {
        double c = Math.cos(pose.theta()), s = Math.sin(pose.theta());
        double[][] r = new double[p.length][2];
        for (int i = 0; i < p.length; i++) {
            r[i][0] = pose.x() + c * p[i][0] - s * p[i][1];
            r[i][1] = pose.y() + s * p[i][0] + c * p[i][1];
        }
        return r;
    }

    /**
     * The intersection of a polygon with a counter-clockwise convex polygon (Sutherland-Hodgman): each edge of
     * the clip polygon keeps the half-plane on its left. Exact up to rounding; an empty result has no vertices.
     */
    public static double[][] clipConvex(double[][] subject, double[][] convexClip) {
        double[][] out = subject;
        for (int i = 0, n = convexClip.length; i < n && out.length > 0; i++) {
            double[] a = convexClip[i], b = convexClip[(i + 1) % n];
            out = clipHalfPlane(out, a, b);
        }
        return out;
    }

    private static double[][] clipHalfPlane(double[][] p, double[] a, double[] b) {
        double ex = b[0] - a[0], ey = b[1] - a[1];
        double[][] out = new double[2 * p.length][];
        int m = 0;
        for (int i = 0, n = p.length; i < n; i++) {
            double[] u = p[i], v = p[(i + 1) % n];
            double su = ex * (u[1] - a[1]) - ey * (u[0] - a[0]);
            double sv = ex * (v[1] - a[1]) - ey * (v[0] - a[0]);
            if (su >= 0) out[m++] = u;
            if ((su >= 0) != (sv >= 0)) {
                double t = su / (su - sv);
                out[m++] = new double[] {u[0] + t * (v[0] - u[0]), u[1] + t * (v[1] - u[1])};
            }
        }
        return java.util.Arrays.copyOf(out, m);
    }
}
