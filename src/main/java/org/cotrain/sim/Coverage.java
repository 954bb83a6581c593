package org.cotrain.sim;

import java.util.Arrays;

/**
 * The task's score: how much of the goal region the block covers, area(block ∩ goal) / area(goal), computed
 * exactly, and the alternative success test by pose tolerance.
 *
 * <p>The block and the goal are the same {@link BlockShape} at two poses. Both are unions of convex parts with
 * disjoint interiors, so their intersection is the disjoint union of the pairwise intersections of parts, and
 * area(block ∩ goal) = sum over part pairs (i, j) of area(blockPart_i ∩ goalPart_j). Each pairwise intersection
 * of two convex polygons is convex and is found exactly (up to rounding) by Sutherland-Hodgman clipping.
 *
 * <p>This runs every control step and inside the experts' look-ahead, so it allocates nothing per call: the
 * body-frame parts are flattened once, transformed into scratch arrays, clipped between two ping-pong buffers,
 * and part pairs whose bounding circles do not overlap are skipped. The goal's workspace parts are cached and
 * recomputed only when the goal pose changes. Not thread-safe: one instance per thread.
 */
public final class Coverage {

    private final BlockShape shape;
    private final int partCount;
    private final int[] partSize;          // vertices per part
    private final double[][] bodyParts;     // per part: x0, y0, x1, y1, ... in the body frame (pixels), CCW
    private final double[] bodyCx, bodyCy;  // per part: centre of its bounding circle (body frame)
    private final double[] radius;          // per part: bounding-circle radius (pixels)

    private final double[][] blockParts, goalParts; // the parts in the workspace, same layout as bodyParts
    private final double[] blockCx, blockCy, goalCx, goalCy;
    private double goalX = Double.NaN, goalY = Double.NaN, goalTheta = Double.NaN; // pose goalParts holds

    // Ping-pong buffers for clipping, x0, y0, x1, y1, ...: clipping a convex n-gon by one half-plane gives at most
    // n + 1 vertices, so a part pair (n, m) needs n + m. Rounding on nearly collinear edges (identical poses) can
    // flip a sign more than twice around the polygon; the buffers then grow (rarely, never in steady state).
    private double[] bufA, bufB;

    public Coverage(BlockShape shape) {
        if (shape == null) throw new IllegalArgumentException("shape must not be null");
        this.shape = shape;
        double[][][] parts = shape.parts();
        partCount = parts.length;
        partSize = new int[partCount];
        bodyParts = new double[partCount][];
        bodyCx = new double[partCount];
        bodyCy = new double[partCount];
        radius = new double[partCount];
        blockParts = new double[partCount][];
        goalParts = new double[partCount][];
        int maxSize = 0;
        for (int i = 0; i < partCount; i++) {
            double[][] p = parts[i];
            int n = p.length;
            partSize[i] = n;
            maxSize = Math.max(maxSize, n);
            bodyParts[i] = new double[2 * n];
            double cx = 0, cy = 0;
            for (int k = 0; k < n; k++) {
                bodyParts[i][2 * k] = p[k][0];
                bodyParts[i][2 * k + 1] = p[k][1];
                cx += p[k][0];
                cy += p[k][1];
            }
            // The vertex mean lies inside a convex part; the farthest vertex bounds the part around it.
            cx /= n;
            cy /= n;
            double r = 0;
            for (double[] v : p) r = Math.max(r, Math.hypot(v[0] - cx, v[1] - cy));
            bodyCx[i] = cx;
            bodyCy[i] = cy;
            radius[i] = r;
            blockParts[i] = new double[2 * n];
            goalParts[i] = new double[2 * n];
        }
        blockCx = new double[partCount];
        blockCy = new double[partCount];
        goalCx = new double[partCount];
        goalCy = new double[partCount];
        bufA = new double[4 * maxSize + 4];
        bufB = new double[4 * maxSize + 4];
    }

    public BlockShape shape() {
        return shape;
    }

    /** area(block ∩ goal) / area(goal), in [0, 1]. */
    public double coverage(Pose block, Pose goal) {
        return coverage(block.x(), block.y(), block.theta(), goal.x(), goal.y(), goal.theta());
    }

    /** area(block ∩ goal) / area(goal) for body-origin poses (pixels, radians), in [0, 1]. */
    public double coverage(double bx, double by, double btheta, double gx, double gy, double gtheta) {
        double c = intersectionArea(bx, by, btheta, gx, gy, gtheta) / shape.area();
        return Math.min(1.0, Math.max(0.0, c)); // rounding can leave 1 + 1e-16
    }

    /** area(block ∩ goal) in square pixels, for body-origin poses (pixels, radians). */
    public double intersectionArea(double bx, double by, double btheta, double gx, double gy, double gtheta) {
        if (gx != goalX || gy != goalY || gtheta != goalTheta) {
            transformParts(gx, gy, gtheta, goalParts, goalCx, goalCy);
            goalX = gx;
            goalY = gy;
            goalTheta = gtheta;
        }
        transformParts(bx, by, btheta, blockParts, blockCx, blockCy);
        double area = 0;
        for (int i = 0; i < partCount; i++) {
            for (int j = 0; j < partCount; j++) {
                double dx = blockCx[i] - goalCx[j], dy = blockCy[i] - goalCy[j], r = radius[i] + radius[j];
                if (dx * dx + dy * dy >= r * r) continue; // bounding circles apart: the parts cannot overlap
                area += clippedArea(blockParts[i], partSize[i], goalParts[j], partSize[j]);
            }
        }
        return area;
    }

    /**
     * Success by pose tolerance: the block's body origin within {@code positionTolerance} pixels (Euclidean) of
     * the goal's, and its angle within {@code angleTolerance} radians of the goal angle (wrapped, so 359 degrees
     * is 1 degree from 0). The body frame is compared, not the shape: none of the shapes (T, L, plus) has a
     * rotational symmetry that would make two different angles the same placement.
     */
    public static boolean poseWithinTolerance(Pose block, Pose goal, double positionTolerance,
                                              double angleTolerance) {
        if (!(positionTolerance >= 0)) {
            throw new IllegalArgumentException("positionTolerance must be >= 0, got " + positionTolerance);
        }
        if (!(angleTolerance >= 0)) {
            throw new IllegalArgumentException("angleTolerance must be >= 0, got " + angleTolerance);
        }
        double dx = block.x() - goal.x(), dy = block.y() - goal.y();
        double dTheta = Math.abs(Pose.wrapAngle(block.theta() - goal.theta()));
        return dx * dx + dy * dy <= positionTolerance * positionTolerance && dTheta <= angleTolerance;
    }

    /** Every part moved from the body frame to the workspace: p -> R(theta) p + (x, y). */
    private void transformParts(double x, double y, double theta, double[][] out, double[] cxOut, double[] cyOut) {
        double c = Math.cos(theta), s = Math.sin(theta);
        for (int i = 0; i < partCount; i++) {
            double[] src = bodyParts[i], dst = out[i];
            for (int k = 0, n = 2 * partSize[i]; k < n; k += 2) {
                double px = src[k], py = src[k + 1];
                dst[k] = x + c * px - s * py;
                dst[k + 1] = y + s * px + c * py;
            }
            cxOut[i] = x + c * bodyCx[i] - s * bodyCy[i];
            cyOut[i] = y + s * bodyCx[i] + c * bodyCy[i];
        }
    }

    /**
     * Area of the intersection of two counter-clockwise convex polygons (flat x, y arrays): the subject clipped by
     * each edge's left half-plane in turn (Sutherland-Hodgman), then the shoelace formula.
     */
    private double clippedArea(double[] subject, int n, double[] clip, int m) {
        double[] in = bufA, out = bufB;
        System.arraycopy(subject, 0, in, 0, 2 * n);
        int count = n;
        for (int e = 0; e < m && count > 0; e++) {
            if (out.length < 4 * count) { // one step can at most double the vertex count
                in = Arrays.copyOf(in, 8 * count);
                out = new double[8 * count];
                bufA = in;
                bufB = out;
            }
            int e2 = e + 1 == m ? 0 : e + 1;
            double ax = clip[2 * e], ay = clip[2 * e + 1];
            double ex = clip[2 * e2] - ax, ey = clip[2 * e2 + 1] - ay;
            int kept = 0;
            double ux = in[2 * count - 2], uy = in[2 * count - 1];
            double su = ex * (uy - ay) - ey * (ux - ax); // > 0: u is left of the edge (inside)
            for (int k = 0; k < count; k++) {
                double vx = in[2 * k], vy = in[2 * k + 1];
                double sv = ex * (vy - ay) - ey * (vx - ax);
                if ((su >= 0) != (sv >= 0)) { // the edge u -> v crosses the clip line: keep the crossing point
                    double t = su / (su - sv);
                    out[2 * kept] = ux + t * (vx - ux);
                    out[2 * kept + 1] = uy + t * (vy - uy);
                    kept++;
                }
                if (sv >= 0) {
                    out[2 * kept] = vx;
                    out[2 * kept + 1] = vy;
                    kept++;
                }
                ux = vx;
                uy = vy;
                su = sv;
            }
            double[] t = in;
            in = out;
            out = t;
            count = kept;
        }
        if (count < 3) return 0;
        double twiceArea = 0;
        for (int k = 0, j = count - 1; k < count; j = k++) {
            twiceArea += in[2 * j] * in[2 * k + 1] - in[2 * k] * in[2 * j + 1];
        }
        return 0.5 * twiceArea;
    }
}
