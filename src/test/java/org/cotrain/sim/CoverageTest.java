package org.cotrain.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Exact coverage against independent estimates and closed forms; pose-tolerance success. */
class CoverageTest {

    private static final List<BlockShape> SHAPES = List.of(BlockShape.tee(), BlockShape.ell(), BlockShape.plus());

    /** A block pose near the goal (overlapping more or less), or anywhere in the workspace. */
    private static Pose near(Pose goal, SplittableRandom rng, double spread) {
        return new Pose(goal.x() + spread * (2 * rng.nextDouble() - 1), goal.y() + spread * (2 * rng.nextDouble() - 1),
                Math.PI * (2 * rng.nextDouble() - 1));
    }

    private static boolean insideUnion(double[][][] worldParts, double x, double y) {
        for (double[][] p : worldParts) {
            if (Polygons.containsConvex(p, x, y)) return true;
        }
        return false;
    }

    private static double[][][] world(BlockShape shape, Pose pose) {
        double[][][] parts = shape.parts();
        double[][][] w = new double[parts.length][][];
        for (int i = 0; i < parts.length; i++) w[i] = Polygons.transform(parts[i], pose);
        return w;
    }

    /** Midpoint-rule estimate of coverage on a 200 x 200 grid over the goal's bounding box. */
    private static double gridCoverage(BlockShape shape, Pose block, Pose goal) {
        double[][][] g = world(shape, goal), b = world(shape, block);
        double minX = Double.MAX_VALUE, minY = Double.MAX_VALUE, maxX = -Double.MAX_VALUE, maxY = -Double.MAX_VALUE;
        for (double[][] p : g) {
            for (double[] v : p) {
                minX = Math.min(minX, v[0]);
                maxX = Math.max(maxX, v[0]);
                minY = Math.min(minY, v[1]);
                maxY = Math.max(maxY, v[1]);
            }
        }
        int n = 200;
        double hx = (maxX - minX) / n, hy = (maxY - minY) / n;
        long inGoal = 0, inBoth = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double x = minX + (j + 0.5) * hx, y = minY + (i + 0.5) * hy;
                if (insideUnion(g, x, y)) {
                    inGoal++;
                    if (insideUnion(b, x, y)) inBoth++;
                }
            }
        }
        return (double) inBoth / inGoal;
    }

    /** The same sum over part pairs with the allocating reference clipper Polygons.clipConvex. */
    private static double referenceArea(BlockShape shape, Pose block, Pose goal) {
        double a = 0;
        for (double[][] bp : world(shape, block)) {
            for (double[][] gp : world(shape, goal)) a += Polygons.area(Polygons.clipConvex(bp, gp));
        }
        return a;
    }

    @Test
    void matchesGridEstimateAtRandomPoses() {
        SplittableRandom rng = new SplittableRandom(7);
        Pose goal = new Pose(256, 256, Math.PI / 4);
        for (BlockShape shape : SHAPES) {
            Coverage coverage = new Coverage(shape);
            double worst = 0;
            int overlapping = 0;
            for (int t = 0; t < 25; t++) {
                Pose block = near(goal, rng, 70);
                double exact = coverage.coverage(block, goal);
                double estimate = gridCoverage(shape, block, goal);
                worst = Math.max(worst, Math.abs(exact - estimate));
                if (exact > 0.05) overlapping++;
                // The grid's cells are ~0.85 px: its error is a small fraction of the boundary cells' area.
                assertEquals(estimate, exact, 0.01, shape.name() + " at " + block);
            }
            assertTrue(overlapping >= 10, shape.name() + ": too few overlapping poses tested: " + overlapping);
            assertTrue(worst < 0.01, shape.name() + " worst |exact - grid| " + worst);
        }
    }

    @Test
    void matchesReferenceClipperToRounding() {
        SplittableRandom rng = new SplittableRandom(11);
        for (BlockShape shape : SHAPES) {
            Coverage coverage = new Coverage(shape);
            for (int t = 0; t < 200; t++) {
                Pose goal = new Pose(100 + 300 * rng.nextDouble(), 100 + 300 * rng.nextDouble(), 6 * rng.nextDouble());
                Pose block = near(goal, rng, 100);
                double expected = referenceArea(shape, block, goal);
                double got = coverage.intersectionArea(block.x(), block.y(), block.theta(), goal.x(), goal.y(),
                        goal.theta());
                assertEquals(expected, got, 1e-9 * shape.area(), shape.name() + " " + block + " vs " + goal);
            }
        }
    }

    @Test
    void identicalPosesCoverFully() {
        SplittableRandom rng = new SplittableRandom(3);
        for (BlockShape shape : SHAPES) {
            Coverage coverage = new Coverage(shape);
            for (int t = 0; t < 50; t++) {
                Pose p = new Pose(512 * rng.nextDouble(), 512 * rng.nextDouble(), 7 * (rng.nextDouble() - 0.5));
                assertEquals(1.0, coverage.coverage(p, p), 1e-9, shape.name() + " " + p);
                // The angle differs by a full turn: the same placement.
                Pose q = new Pose(p.x(), p.y(), p.theta() + 2 * Math.PI);
                assertEquals(1.0, coverage.coverage(q, p), 1e-9, shape.name() + " " + p);
            }
        }
    }

    @Test
    void farApartCoversNothing() {
        for (BlockShape shape : SHAPES) {
            Coverage coverage = new Coverage(shape);
            assertEquals(0.0, coverage.coverage(new Pose(60, 60, 0.3), new Pose(450, 450, 1.2)));
            // Bounding circles overlap but the shapes do not: the T's bar above, another T's stem far below.
            assertEquals(0.0, coverage.coverage(new Pose(256, 100, 0), new Pose(256, 221, 0)), 1e-12);
        }
    }

    @Test
    void symmetricInBlockAndGoal() {
        SplittableRandom rng = new SplittableRandom(5);
        for (BlockShape shape : SHAPES) {
            Coverage coverage = new Coverage(shape);
            for (int t = 0; t < 100; t++) {
                Pose a = new Pose(256 + 80 * rng.nextDouble(), 256 + 80 * rng.nextDouble(), 6 * rng.nextDouble());
                Pose b = near(a, rng, 80);
                double ab = coverage.intersectionArea(a.x(), a.y(), a.theta(), b.x(), b.y(), b.theta());
                double ba = coverage.intersectionArea(b.x(), b.y(), b.theta(), a.x(), a.y(), a.theta());
                assertEquals(ab, ba, 1e-9 * shape.area(), shape.name());
            }
        }
    }

    @Test
    void translatedTeeMatchesClosedForm() {
        Coverage coverage = new Coverage(BlockShape.tee());
        Pose goal = new Pose(256, 256, 0);
        for (double d = 0; d < 30; d += 2.5) {
            // Sideways: the bar loses a d-wide strip (30 d), the stem too (90 d).
            double side = (120 - d) * 30 + (30 - d) * 90;
            assertEquals(side, coverage.intersectionArea(256 + d, 256, 0, 256, 256, 0), 1e-9);
            assertEquals(side, coverage.intersectionArea(256 - d, 256, 0, 256, 256, 0), 1e-9);
            // Down the stem: bar ∩ bar 120 (30 - d), stem ∩ stem 30 (90 - d), and the moved bar's lower strip
            // covers the top of the goal's stem, 30 d: 6300 - 120 d in all. This sums over cross pairs of parts.
            assertEquals(6300 - 120 * d, coverage.intersectionArea(256, 256 + d, 0, 256, 256, 0), 1e-9);
        }
        // A half turn about the body origin (the bar's top middle) flips the T upwards: the shapes only touch.
        assertEquals(0.0, coverage.intersectionArea(256, 256, Math.PI, 256, 256, 0), 1e-9);
        // A half turn about the bar's centre (body point (0, 15)): the bars coincide, the stems point away.
        assertEquals(3600, coverage.intersectionArea(256, 286, Math.PI, 256, 256, 0), 1e-9);
    }

    @Test
    void goalCacheFollowsTheGoal() {
        SplittableRandom rng = new SplittableRandom(9);
        BlockShape shape = BlockShape.tee();
        Coverage reused = new Coverage(shape);
        for (int t = 0; t < 50; t++) {
            Pose goal = new Pose(200 + 100 * rng.nextDouble(), 200 + 100 * rng.nextDouble(), 6 * rng.nextDouble());
            Pose block = near(goal, rng, 50);
            assertEquals(new Coverage(shape).coverage(block, goal), reused.coverage(block, goal), 0.0);
        }
    }

    @Test
    void poseToleranceSuccess() {
        Pose goal = new Pose(256, 256, Math.PI / 4);
        double pos = 0.015 * 512, ang = Math.toRadians(3.5);
        assertTrue(Coverage.poseWithinTolerance(goal, goal, pos, ang));
        assertTrue(Coverage.poseWithinTolerance(new Pose(256 + 5, 256 - 5, Math.PI / 4 + 0.05), goal, pos, ang));
        assertFalse(Coverage.poseWithinTolerance(new Pose(256 + 6, 256 - 6, Math.PI / 4), goal, pos, ang),
                "8.5 px away (Euclidean) is outside 7.68");
        assertFalse(Coverage.poseWithinTolerance(new Pose(256, 256, Math.PI / 4 + 0.07), goal, pos, ang));
        // Angles wrap: -179 degrees is 2 degrees from 179.
        Pose flipped = new Pose(10, 10, Math.toRadians(179));
        assertTrue(Coverage.poseWithinTolerance(new Pose(10, 10, Math.toRadians(-179)), flipped, pos, ang));
        assertTrue(Coverage.poseWithinTolerance(new Pose(10, 10, Math.toRadians(179) + 4 * Math.PI), flipped, pos,
                ang));
        // A half turn is not the same placement for any of the shapes (none is rotationally symmetric).
        assertFalse(Coverage.poseWithinTolerance(new Pose(256, 256, Math.PI / 4 + Math.PI), goal, pos, ang));
    }

    @Test
    void badInputIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Coverage(null));
        Pose p = new Pose(0, 0, 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Coverage.poseWithinTolerance(p, p, -1, 0.1));
        assertTrue(e.getMessage().contains("positionTolerance"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Coverage.poseWithinTolerance(p, p, 1, Double.NaN));
        assertTrue(e.getMessage().contains("angleTolerance"), e.getMessage());
    }
}
