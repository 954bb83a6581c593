package org.cotrain.sim.expert;

import org.cotrain.sim.BlockShape;

/**
 * Where the pusher can touch the block, in the body frame, computed once from the shape's outline: points along
 * every face (the disc touching that face only) and every concave corner (the "nook", where the disc touches both
 * faces at once and cannot slip off either). Generic in the outline: nothing here knows it is a T.
 *
 * <p>For each contact: the disc centre when touching (cx, cy), the unit outward normal (nx, ny) along which the
 * pusher approaches and backs off (a nook's is the bisector of its two faces' normals), the touching point on the
 * surface (sx, sy), and whether it is a nook.
 */
final class ContactCandidates {

    final int count;
    final double[] cx, cy, nx, ny, sx, sy;
    final boolean[] nook;
    /** For a nook, the two faces' outward normals; unused for a face contact. */
    final double[] n1x, n1y, n2x, n2y;

    /**
     * @param shape        the block
     * @param radius       pusher radius (pixels)
     * @param spacing      target spacing of face contacts along a face (pixels)
     * @param cornerMargin how far a face contact stays from a convex corner, where the pusher would slip off
     * @param withNooks    include the concave corners
     */
    ContactCandidates(BlockShape shape, double radius, double spacing, double cornerMargin, boolean withNooks) {
        double[][] o = shape.outline();
        int n = o.length;
        // One pass counts, the second fills the arrays.
        count = fill(o, n, radius, spacing, cornerMargin, withNooks, null);
        cx = new double[count];
        cy = new double[count];
        nx = new double[count];
        ny = new double[count];
        sx = new double[count];
        sy = new double[count];
        n1x = new double[count];
        n1y = new double[count];
        n2x = new double[count];
        n2y = new double[count];
        nook = new boolean[count];
        fill(o, n, radius, spacing, cornerMargin, withNooks, this);
    }

    private static int fill(double[][] o, int n, double r, double spacing, double cornerMargin, boolean withNooks,
                            ContactCandidates into) {
        int k = 0;
        for (int i = 0; i < n; i++) {
            double[] u = o[i], v = o[(i + 1) % n];
            double ex = v[0] - u[0], ey = v[1] - u[1], len = Math.hypot(ex, ey);
            double tx = ex / len, ty = ey / len;
            // Counter-clockwise outline (positive signed area): the interior is on the left of each edge, so the
            // outward normal is the edge direction turned right, (ey, -ex).
            double onx = ty, ony = -tx;
            // Near a concave end (the neighbouring face turns toward the pusher) the disc would touch that face
            // too (at exactly one radius it is the nook contact), so face contacts stay a radius plus the margin
            // away; a convex end keeps them cornerMargin away so the push does not slip off the corner.
            double a = concave(o, n, i) ? r + cornerMargin : cornerMargin;
            double b = len - (concave(o, n, (i + 1) % n) ? r + cornerMargin : cornerMargin);
            if (b < a) continue;
            int m = Math.max(1, (int) Math.round((b - a) / spacing) + 1);
            for (int j = 0; j < m; j++) {
                double t = m == 1 ? 0.5 * (a + b) : a + (b - a) * j / (m - 1);
                if (into != null) {
                    double px = u[0] + tx * t, py = u[1] + ty * t;
                    into.set(k, px + onx * r, py + ony * r, onx, ony, px, py, false, 0, 0, 0, 0);
                }
                k++;
            }
        }
        if (withNooks) {
            for (int i = 0; i < n; i++) {
                if (!concave(o, n, i)) continue;
                if (into != null) {
                    double[] p = o[(i + n - 1) % n], c = o[i], q = o[(i + 1) % n];
                    double ax = c[0] - p[0], ay = c[1] - p[1], al = Math.hypot(ax, ay);
                    double bx = q[0] - c[0], by = q[1] - c[1], bl = Math.hypot(bx, by);
                    double m1x = ay / al, m1y = -ax / al, m2x = by / bl, m2y = -bx / bl;
                    // The disc centre at distance r from both faces' lines: c + r (m1 + m2) / (1 + m1.m2).
                    double dot = m1x * m2x + m1y * m2y;
                    double ccx = c[0] + r * (m1x + m2x) / (1 + dot), ccy = c[1] + r * (m1y + m2y) / (1 + dot);
                    double bxn = m1x + m2x, byn = m1y + m2y, bn = Math.hypot(bxn, byn);
                    into.set(k, ccx, ccy, bxn / bn, byn / bn, c[0], c[1], true, m1x, m1y, m2x, m2y);
                }
                k++;
            }
        }
        return k;
    }

    /** Whether outline vertex i is a concave (reflex) corner: the boundary turns clockwise there. */
    static boolean concave(double[][] o, int n, int i) {
        double[] p = o[(i + n - 1) % n], c = o[i], q = o[(i + 1) % n];
        double cross = (c[0] - p[0]) * (q[1] - c[1]) - (c[1] - p[1]) * (q[0] - c[0]);
        return cross < 0;
    }

    private void set(int k, double ccx, double ccy, double onx, double ony, double px, double py, boolean isNook,
                     double m1x, double m1y, double m2x, double m2y) {
        cx[k] = ccx;
        cy[k] = ccy;
        nx[k] = onx;
        ny[k] = ony;
        sx[k] = px;
        sy[k] = py;
        nook[k] = isNook;
        n1x[k] = m1x;
        n1y[k] = m1y;
        n2x[k] = m2x;
        n2y[k] = m2y;
    }
}
