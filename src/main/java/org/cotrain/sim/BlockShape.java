package org.cotrain.sim;

import java.util.Arrays;
import java.util.Locale;

/**
 * The pushed object: a union of convex polygons with disjoint interiors, in its body frame (pixels). The body
 * origin is the reference point of the pose (for the T, the middle of the top edge of its bar, as in Push-T);
 * the centre of mass is the area centroid unless a physics shift moves it.
 *
 * <p>Three shapes: the Push-T {@link #tee() T} (a 120 x 30 bar on a 30 x 90 stem), and, for the task shift, an
 * {@link #ell() L} and a {@link #plus() plus} of the same area and extent. Each has an outline (the boundary as
 * one simple polygon, counter-clockwise in (x, y), concave corners included: the contact model needs them) and
 * nine keypoints in the body frame (the low-dim observation {@code obs/keypoints}).
 */
public final class BlockShape {

    private final String name;
    private final double[][][] parts;   // convex parts, each (n, 2), counter-clockwise
    private final double[][] outline;   // (n, 2), counter-clockwise
    private final double[][] keypoints; // (9, 2)
    private final double area;
    private final double centroidX, centroidY;
    private final double polarMomentAboutCentroid; // integral of |p - c|^2 dA

    private BlockShape(String name, double[][][] parts, double[][] outline, double[][] keypoints) {
        this.name = name;
        this.parts = parts;
        this.outline = outline;
        this.keypoints = keypoints;
        double a = 0, cx = 0, cy = 0, j = 0;
        for (double[][] p : parts) {
            double pa = Polygons.area(p);
            if (pa <= 0) throw new IllegalArgumentException(name + ": a part is not counter-clockwise");
            double[] c = Polygons.centroid(p);
            a += pa;
            cx += pa * c[0];
            cy += pa * c[1];
            j += Polygons.polarMomentAboutOrigin(p);
        }
        if (Math.abs(Polygons.area(outline) - a) > 1e-9 * a) {
            throw new IllegalArgumentException(name + ": outline area " + Polygons.area(outline) + " != parts " + a);
        }
        this.area = a;
        this.centroidX = cx / a;
        this.centroidY = cy / a;
        this.polarMomentAboutCentroid = j - a * (centroidX * centroidX + centroidY * centroidY);
    }

    /** The Push-T block: bar x in [-60, 60], y in [0, 30]; stem x in [-15, 15], y in [30, 120]. */
    public static BlockShape tee() {
        double[][] bar = rect(-60, 0, 60, 30);
        double[][] stem = rect(-15, 30, 15, 120);
        double[][] outline = {{-60, 0}, {60, 0}, {60, 30}, {15, 30}, {15, 120}, {-15, 120}, {-15, 30}, {-60, 30}};
        return new BlockShape("tee", new double[][][] {bar, stem}, ccw(outline),
                withCentroid(outline, new double[][] {}));
    }

    /** An L of the T's area: the same bar, the stem under its left end. */
    public static BlockShape ell() {
        double[][] bar = rect(-60, 0, 60, 30);
        double[][] stem = rect(-60, 30, -30, 120);
        double[][] outline = {{-60, 0}, {60, 0}, {60, 30}, {-30, 30}, {-30, 120}, {-60, 120}};
        return new BlockShape("ell", new double[][][] {bar, stem}, ccw(outline),
                withCentroid(outline, new double[][] {{0, 30}, {-45, 75}}));
    }

    /** A plus of the T's area: a 120 x 30 cross bar at y in [30, 60] through a 30-wide stem from y 0 to 120. */
    public static BlockShape plus() {
        double[][] bar = rect(-60, 30, 60, 60);
        double[][] top = rect(-15, 0, 15, 30);
        double[][] bottom = rect(-15, 60, 15, 120);
        double[][] outline = {{-15, 0}, {15, 0}, {15, 30}, {60, 30}, {60, 60}, {15, 60}, {15, 120}, {-15, 120},
            {-15, 60}, {-60, 60}, {-60, 30}, {-15, 30}};
        double[][] keypoints = {{0, 0}, {60, 45}, {0, 120}, {-60, 45}, {15, 30}, {15, 60}, {-15, 60}, {-15, 30},
            {0, 45}};
        return new BlockShape("plus", new double[][][] {bar, top, bottom}, ccw(outline), keypoints);
    }

    /** The shape with this name: tee, ell or plus. */
    public static BlockShape named(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "tee", "t" -> tee();
            case "ell", "l" -> ell();
            case "plus", "+" -> plus();
            default -> throw new IllegalArgumentException("unknown block shape '" + name + "' (tee, ell, plus)");
        };
    }

    public String name() {
        return name;
    }

    /** Convex parts with disjoint interiors, counter-clockwise; do not modify. */
    public double[][][] parts() {
        return parts;
    }

    /** The boundary as one simple counter-clockwise polygon; do not modify. */
    public double[][] outline() {
        return outline;
    }

    /** Nine body-frame points, (9, 2); do not modify. */
    public double[][] keypoints() {
        return keypoints;
    }

    public double area() {
        return area;
    }

    public double centroidX() {
        return centroidX;
    }

    public double centroidY() {
        return centroidY;
    }

    /** Moment of inertia about the area centroid for a uniform body of this mass. */
    public double inertiaAboutCentroid(double mass) {
        return mass * polarMomentAboutCentroid / area;
    }

    /** Moment of inertia about the body point (px, py) for a uniform body of this mass (parallel axes). */
    public double inertiaAbout(double mass, double px, double py) {
        double dx = px - centroidX, dy = py - centroidY;
        return inertiaAboutCentroid(mass) + mass * (dx * dx + dy * dy);
    }

    /** Largest distance from the body point (px, py) to the shape: a bound for broad-phase tests. */
    public double radiusAbout(double px, double py) {
        double r = 0;
        for (double[] v : outline) r = Math.max(r, Math.hypot(v[0] - px, v[1] - py));
        return r;
    }

    /** The mean distance of the shape's area from the body point (px, py): the friction patch's lever arm. */
    public double meanDistanceFrom(double px, double py) {
        // Midpoint rule on a 1-pixel grid over each part: exact enough for a friction constant, computed once.
        double sum = 0, n = 0;
        for (double[][] p : parts) {
            double minX = Double.MAX_VALUE, minY = Double.MAX_VALUE, maxX = -Double.MAX_VALUE, maxY = -Double.MAX_VALUE;
            for (double[] v : p) {
                minX = Math.min(minX, v[0]);
                maxX = Math.max(maxX, v[0]);
                minY = Math.min(minY, v[1]);
                maxY = Math.max(maxY, v[1]);
            }
            for (double y = minY + 0.5; y < maxY; y += 1) {
                for (double x = minX + 0.5; x < maxX; x += 1) {
                    if (Polygons.containsConvex(p, x, y)) {
                        sum += Math.hypot(x - px, y - py);
                        n++;
                    }
                }
            }
        }
        return sum / n;
    }

    @Override
    public String toString() {
        return name + Arrays.deepToString(outline);
    }

    private static double[][] rect(double x0, double y0, double x1, double y1) {
        return new double[][] {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}};
    }

    /** The outline's vertices plus the centroid plus extra points, nine in all. */
    private static double[][] withCentroid(double[][] outline, double[][] extra) {
        double[] c = Polygons.centroid(ccw(outline));
        double[][] k = new double[outline.length + 1 + extra.length][];
        for (int i = 0; i < outline.length; i++) k[i] = outline[i].clone();
        k[outline.length] = c;
        for (int i = 0; i < extra.length; i++) k[outline.length + 1 + i] = extra[i].clone();
        if (k.length != 9) throw new IllegalStateException("a block shape needs 9 keypoints, got " + k.length);
        return k;
    }

    private static double[][] ccw(double[][] polygon) {
        if (Polygons.area(polygon) >= 0) return polygon;
        double[][] r = new double[polygon.length][];
        for (int i = 0; i < polygon.length; i++) r[i] = polygon[polygon.length - 1 - i];
        return r;
    }
}
