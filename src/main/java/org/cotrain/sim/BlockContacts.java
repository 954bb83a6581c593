package org.cotrain.sim;

/**
 * Contact detection between the circular pusher and the block's outline (a simple, possibly non-convex polygon).
 * The convex parts are not used: their shared internal edges are not boundary, and a disc touching the T where
 * stem meets bar must see the real corner.
 *
 * <p>The disc centre is moved into the block's body frame, then tested against the outline's features (Voronoi
 * regions of the exterior):
 * <ul>
 *   <li>an edge, when the centre projects inside the edge and lies on its outer side: the contact point is the
 *       projection and the normal the edge's outward normal;</li>
 *   <li>a convex vertex, when the centre lies in the vertex's normal cone (past the end of the incoming edge and
 *       before the start of the outgoing one): the contact point is the vertex and the normal points from it to
 *       the centre. The two edges meeting there both have that vertex as their closest point; handling it as one
 *       feature merges them into one contact;</li>
 *   <li>a concave vertex has an empty normal cone and never makes a contact of its own: a disc in the T's nook
 *       touches the two edges at two different points and gets two contacts, which is what keeps it from slipping
 *       through the corner.</li>
 * </ul>
 * Every feature closer than {@code radius + margin} is reported (a negative depth is a gap: a speculative contact
 * that lets the solver stop the pusher before it penetrates within the step). If the centre is inside the polygon
 * (deep penetration) the outside features are meaningless; the nearest boundary point gives the one contact, with
 * the normal from the centre toward it (out of the block: the edge's outward normal on an edge, the way out
 * through the corner at a concave vertex) and the depth radius + distance.
 *
 * <p>Results are kept in this object's arrays (no allocation per query), in the workspace frame: the contact point
 * on the block's surface, the unit normal from the block toward the disc centre, and the depth (radius - signed
 * distance, pixels; positive = overlap). One instance per thread.
 */
public final class BlockContacts {

    private final double radius;
    private final int n;                    // outline vertices
    private final double[] vx, vy;          // outline vertices, body frame
    private final double[] ex, ey;          // edge i: vertex i -> i+1, direction (unnormalised)
    private final double[] len2;            // squared edge lengths
    private final double[] nx, ny;          // edge outward unit normals
    private final boolean[] convex;         // vertex i turns left (interior angle < pi)
    private final double boundCx, boundCy, boundR; // a circle around the outline, for the broad phase

    private int count;
    private final double[] pointX, pointY, normalX, normalY, depth;

    public BlockContacts(BlockShape shape, double pusherRadius) {
        if (!(pusherRadius > 0) || !Double.isFinite(pusherRadius)) {
            throw new IllegalArgumentException("pusherRadius must be > 0, got " + pusherRadius);
        }
        this.radius = pusherRadius;
        double[][] o = shape.outline();
        n = o.length;
        vx = new double[n];
        vy = new double[n];
        ex = new double[n];
        ey = new double[n];
        len2 = new double[n];
        nx = new double[n];
        ny = new double[n];
        convex = new boolean[n];
        for (int i = 0; i < n; i++) {
            vx[i] = o[i][0];
            vy[i] = o[i][1];
        }
        for (int i = 0; i < n; i++) {
            int j = (i + 1) % n;
            ex[i] = vx[j] - vx[i];
            ey[i] = vy[j] - vy[i];
            len2[i] = ex[i] * ex[i] + ey[i] * ey[i];
            double l = Math.sqrt(len2[i]);
            // Counter-clockwise (positive signed area): the interior is on the left of each edge, so the outward
            // normal is the edge direction turned right, (ey, -ex).
            nx[i] = ey[i] / l;
            ny[i] = -ex[i] / l;
        }
        for (int i = 0; i < n; i++) {
            int p = (i + n - 1) % n;
            convex[i] = ex[p] * ey[i] - ey[p] * ex[i] > 0;
        }
        boundCx = shape.centroidX();
        boundCy = shape.centroidY();
        boundR = shape.radiusAbout(boundCx, boundCy);
        int max = 2 * n;
        pointX = new double[max];
        pointY = new double[max];
        normalX = new double[max];
        normalY = new double[max];
        depth = new double[max];
    }

    public double radius() {
        return radius;
    }

    /**
     * Finds the contacts of a disc centred at (px, py) with the block at pose (bx, by, theta): every outline
     * feature within radius + margin of the centre (margin >= 0, pixels). Returns the number of contacts.
     */
    public int find(double bx, double by, double theta, double px, double py, double margin) {
        count = 0;
        double c = Math.cos(theta), s = Math.sin(theta);
        // Disc centre in the body frame: q = R(theta)^T (p - b).
        double dx = px - bx, dy = py - by;
        double qx = c * dx + s * dy;
        double qy = -s * dx + c * dy;
        double reach = radius + margin;
        double bcx = qx - boundCx, bcy = qy - boundCy, bound = boundR + reach;
        if (bcx * bcx + bcy * bcy > bound * bound) return 0;

        if (inside(qx, qy)) {
            findDeep(qx, qy);
        } else {
            double reach2 = reach * reach;
            for (int i = 0; i < n; i++) {
                // Edge i: projection parameter t in [0, 1] and the signed distance along the outward normal.
                double t = ((qx - vx[i]) * ex[i] + (qy - vy[i]) * ey[i]) / len2[i];
                if (t >= 0 && t <= 1) {
                    double d = (qx - vx[i]) * nx[i] + (qy - vy[i]) * ny[i];
                    if (d >= 0 && d < reach) add(vx[i] + t * ex[i], vy[i] + t * ey[i], nx[i], ny[i], radius - d);
                }
                // Vertex i (strict inequalities: the cone's boundary rays belong to the edges).
                if (convex[i]) {
                    int p = (i + n - 1) % n;
                    double wx = qx - vx[i], wy = qy - vy[i];
                    if (wx * ex[p] + wy * ey[p] > 0 && wx * ex[i] + wy * ey[i] < 0) {
                        double d2 = wx * wx + wy * wy;
                        if (d2 < reach2) {
                            double d = Math.sqrt(d2); // > 0: the cone's interior excludes the vertex itself
                            add(vx[i], vy[i], wx / d, wy / d, radius - d);
                        }
                    }
                }
            }
        }
        // To the workspace: points by the pose, normals by the rotation.
        for (int k = 0; k < count; k++) {
            double lx = pointX[k], ly = pointY[k], mx = normalX[k], my = normalY[k];
            pointX[k] = bx + c * lx - s * ly;
            pointY[k] = by + s * lx + c * ly;
            normalX[k] = c * mx - s * my;
            normalY[k] = s * mx + c * my;
        }
        return count;
    }

    /** The centre is inside the block: one contact at the nearest boundary point, normal outward. */
    private void findDeep(double qx, double qy) {
        int best = 0;
        double bestD2 = Double.MAX_VALUE, bestT = 0;
        for (int i = 0; i < n; i++) {
            double t = ((qx - vx[i]) * ex[i] + (qy - vy[i]) * ey[i]) / len2[i];
            t = Math.max(0, Math.min(1, t));
            double wx = vx[i] + t * ex[i] - qx, wy = vy[i] + t * ey[i] - qy;
            double d2 = wx * wx + wy * wy;
            if (d2 < bestD2) {
                bestD2 = d2;
                best = i;
                bestT = t;
            }
        }
        double cx = vx[best] + bestT * ex[best], cy = vy[best] + bestT * ey[best], d = Math.sqrt(bestD2);
        if (d > 1e-9) {
            // The way out is toward the nearest boundary point: the edge's outward normal when that point is inside
            // the edge, the direction to the vertex when it is a concave corner (where no edge normal is outward).
            add(cx, cy, (cx - qx) / d, (cy - qy) / d, radius + d);
        } else {
            add(cx, cy, nx[best], ny[best], radius + d);
        }
    }

    /** Even-odd ray casting on the body-frame outline. */
    private boolean inside(double qx, double qy) {
        boolean in = false;
        for (int i = 0, j = n - 1; i < n; j = i++) {
            if ((vy[i] > qy) != (vy[j] > qy)
                    && qx < (vx[j] - vx[i]) * (qy - vy[i]) / (vy[j] - vy[i]) + vx[i]) {
                in = !in;
            }
        }
        return in;
    }

    private void add(double x, double y, double mx, double my, double pen) {
        pointX[count] = x;
        pointY[count] = y;
        normalX[count] = mx;
        normalY[count] = my;
        depth[count] = pen;
        count++;
    }

    /** The number of contacts found by the last {@link #find}. */
    public int count() {
        return count;
    }

    /** Contact point k on the block's surface, workspace x (pixels). */
    public double pointX(int k) {
        return pointX[k];
    }

    public double pointY(int k) {
        return pointY[k];
    }

    /** Unit normal of contact k, from the block toward the disc centre, workspace frame. */
    public double normalX(int k) {
        return normalX[k];
    }

    public double normalY(int k) {
        return normalY[k];
    }

    /** Overlap of contact k: radius - signed distance (pixels); negative is a gap. */
    public double depth(int k) {
        return depth[k];
    }
}
