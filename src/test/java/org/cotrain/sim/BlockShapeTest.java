package org.cotrain.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The block shapes' mass properties against plain arithmetic and numerical integration, and their outlines
 * against the union of their convex parts.
 */
class BlockShapeTest {

    private static final BlockShape[] SHAPES = {BlockShape.tee(), BlockShape.ell(), BlockShape.plus()};

    @Test
    void teeHasPushTAreaAndCentroid() {
        BlockShape t = BlockShape.tee();
        assertEquals(6300, t.area(), 1e-9);
        // Bar 120 x 30 centred at y 15, stem 30 x 90 centred at y 75.
        assertEquals(0, t.centroidX(), 1e-12);
        assertEquals((3600 * 15.0 + 2700 * 75.0) / 6300, t.centroidY(), 1e-12);
    }

    @Test
    void inertiaMatchesNumericalIntegration() {
        for (BlockShape shape : SHAPES) {
            double[][] points = {{shape.centroidX(), shape.centroidY()}, {7, 55}, {-20, 10}};
            for (double[] p : points) {
                // Midpoint rule on a 0.25 px grid over each part: integral of |x - p|^2 dA, times mass / area.
                double sum = 0, h = 0.25;
                for (double[][] part : shape.parts()) {
                    double[] box = box(part);
                    for (double y = box[1] + h / 2; y < box[3]; y += h) {
                        for (double x = box[0] + h / 2; x < box[2]; x += h) {
                            if (Polygons.containsConvex(part, x, y)) {
                                sum += ((x - p[0]) * (x - p[0]) + (y - p[1]) * (y - p[1])) * h * h;
                            }
                        }
                    }
                }
                double mass = 2.5;
                double expected = mass * sum / shape.area();
                double got = shape.inertiaAbout(mass, p[0], p[1]);
                assertEquals(expected, got, 1e-4 * expected, shape.name() + " inertia about " + p[0] + "," + p[1]);
            }
        }
        // And the closed form for the T about its centroid: two rectangles, parallel axes.
        BlockShape t = BlockShape.tee();
        double cy = t.centroidY();
        double bar = 3600 * ((120.0 * 120 + 30 * 30) / 12 + (15 - cy) * (15 - cy));
        double stem = 2700 * ((30.0 * 30 + 90 * 90) / 12 + (75 - cy) * (75 - cy));
        assertEquals((bar + stem) / 6300, t.inertiaAboutCentroid(1), 1e-9);
    }

    @Test
    void outlineIsTheUnionOfTheParts() {
        Random rng = new Random(7);
        for (BlockShape shape : SHAPES) {
            double partsArea = 0;
            for (double[][] part : shape.parts()) partsArea += Polygons.area(part);
            assertEquals(partsArea, Polygons.area(shape.outline()), 1e-9, shape.name() + " outline area");
            assertTrue(Polygons.area(shape.outline()) > 0, shape.name() + " outline counter-clockwise");
            int inside = 0;
            for (int i = 0; i < 20000; i++) {
                double x = -70 + 140 * rng.nextDouble(), y = -10 + 140 * rng.nextDouble();
                boolean inParts = false;
                for (double[][] part : shape.parts()) inParts |= Polygons.containsConvex(part, x, y);
                assertEquals(inParts, Polygons.contains(shape.outline(), x, y),
                        shape.name() + " containment of (" + x + ", " + y + ")");
                if (inParts) inside++;
            }
            // The fraction of hits estimates the area: 6300 / (140 * 140) of the box.
            assertEquals(shape.area() / (140.0 * 140), inside / 20000.0, 0.01, shape.name());
        }
    }

    @Test
    void nineKeypointsInTheBlocksBox() {
        // Not all on the block: the L's centroid, one of its keypoints, lies outside it.
        for (BlockShape shape : SHAPES) {
            double[][] k = shape.keypoints();
            assertEquals(9, k.length, shape.name());
            for (double[] p : k) {
                assertEquals(2, p.length);
                assertTrue(p[0] >= -60 && p[0] <= 60 && p[1] >= 0 && p[1] <= 120, shape.name() + " keypoint out of box");
            }
        }
    }

    @Test
    void meanDistanceMatchesFinerIntegration() {
        for (BlockShape shape : SHAPES) {
            double px = shape.centroidX(), py = shape.centroidY() + 10;
            double sum = 0, n = 0, h = 0.25;
            for (double[][] part : shape.parts()) {
                double[] box = box(part);
                for (double y = box[1] + h / 2; y < box[3]; y += h) {
                    for (double x = box[0] + h / 2; x < box[2]; x += h) {
                        if (Polygons.containsConvex(part, x, y)) {
                            sum += Math.hypot(x - px, y - py);
                            n++;
                        }
                    }
                }
            }
            assertEquals(sum / n, shape.meanDistanceFrom(px, py), 1e-3 * sum / n, shape.name());
        }
    }

    private static double[] box(double[][] p) {
        double[] b = {Double.MAX_VALUE, Double.MAX_VALUE, -Double.MAX_VALUE, -Double.MAX_VALUE};
        for (double[] v : p) {
            b[0] = Math.min(b[0], v[0]);
            b[1] = Math.min(b[1], v[1]);
            b[2] = Math.max(b[2], v[0]);
            b[3] = Math.max(b[3], v[1]);
        }
        return b;
    }
}
