package org.cotrain.sim.expert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.cotrain.sim.BlockShape;
import org.cotrain.sim.Polygons;
import org.cotrain.sim.Pose;
import org.junit.jupiter.api.Test;

/** The planner's parts: contacts, approach paths, motion cone, trajectory tracking, hand noise. */
class PlanningPartsTest {

    private static final double R = 15;

    @Test
    void teeContactsTouchTheirFaceAndTheNooksTouchBoth() {
        BlockShape tee = BlockShape.tee();
        ContactCandidates c = new ContactCandidates(tee, R, 12, 4, true);
        int nooks = 0;
        for (int i = 0; i < c.count; i++) {
            // Every disc centre is exactly one radius from the outline and outside it.
            double d = Polygons.distanceToBoundary(tee.outline(), c.cx[i], c.cy[i]);
            assertEquals(R, d, 1e-9, "contact " + i);
            assertTrue(!Polygons.contains(tee.outline(), c.cx[i], c.cy[i]));
            assertEquals(1, Math.hypot(c.nx[i], c.ny[i]), 1e-12);
            if (c.nook[i]) {
                nooks++;
                // The T's concave corners are (+-15, 30): the disc sits at (+-30, 45) touching the stem and the bar.
                assertEquals(30, Math.abs(c.cx[i]), 1e-9);
                assertEquals(45, c.cy[i], 1e-9);
                assertEquals(Math.signum(c.cx[i]) / Math.sqrt(2), c.nx[i], 1e-12);
                assertEquals(1 / Math.sqrt(2), c.ny[i], 1e-12);
            } else {
                // A face contact's normal points from the touching point to the disc centre.
                assertEquals(c.sx[i] + R * c.nx[i], c.cx[i], 1e-9);
                assertEquals(c.sy[i] + R * c.ny[i], c.cy[i], 1e-9);
            }
        }
        assertEquals(2, nooks);
        assertEquals(0, new ContactCandidates(tee, R, 12, 4, false).count - (c.count - 2));
        assertEquals(0, countNooks(new ContactCandidates(BlockShape.ell(), R, 12, 4, true)) - 1);
    }

    private static int countNooks(ContactCandidates c) {
        int k = 0;
        for (int i = 0; i < c.count; i++) if (c.nook[i]) k++;
        return k;
    }

    @Test
    void approachPathsGoAroundTheBlockWithClearance() {
        BlockShape tee = BlockShape.tee();
        ContactCandidates contacts = new ContactCandidates(tee, R, 12, 4, true);
        double clearance = R + 8;
        ApproachPlanner planner = new ApproachPlanner(16, clearance, 0, 512);
        SplittableRandom random = new SplittableRandom(11);
        double[] path = new double[2 * planner.maxPoints()];
        int reached = 0, tried = 0;
        for (int trial = 0; trial < 200; trial++) {
            Pose pose = new Pose(random.nextDouble(100, 400), random.nextDouble(100, 400),
                    random.nextDouble(-Math.PI, Math.PI));
            double[][] o = Polygons.transform(tee.outline(), pose);
            double[] flat = new double[2 * o.length];
            for (int i = 0; i < o.length; i++) {
                flat[2 * i] = o[i][0];
                flat[2 * i + 1] = o[i][1];
            }
            double sx, sy;
            do { // the pusher anywhere outside the block, sometimes touching it
                sx = random.nextDouble(0, 512);
                sy = random.nextDouble(0, 512);
            } while (Polygons.contains(o, sx, sy) || Polygons.distanceToBoundary(o, sx, sy) < R);
            double[] cb = new double[2];
            pose.toWorld(tee.centroidX(), tee.centroidY(), cb);
            planner.setScene(flat, o.length, cb[0], cb[1], tee.radiusAbout(tee.centroidX(), tee.centroidY()) + R + 14,
                    sx, sy);
            int i = random.nextInt(contacts.count);
            double[] g = new double[2], n = new double[2];
            pose.toWorld(contacts.cx[i] + 3 * contacts.nx[i], contacts.cy[i] + 3 * contacts.ny[i], g);
            double c = Math.cos(pose.theta()), s = Math.sin(pose.theta());
            n[0] = c * contacts.nx[i] - s * contacts.ny[i];
            n[1] = s * contacts.nx[i] + c * contacts.ny[i];
            tried++;
            int points = (int) planner.pathTo(g[0], g[1], n[0], n[1], 45, path);
            if (points == 0) continue;
            reached++;
            assertEquals(sx, path[0], 1e-12);
            assertEquals(g[0], path[2 * points - 2], 1e-12);
            assertEquals(g[1], path[2 * points - 1], 1e-12);
            for (int k = 0; k + 1 < points; k++) {
                double ax = path[2 * k], ay = path[2 * k + 1], bx = path[2 * k + 2], by = path[2 * k + 3];
                double d = Clearance.segmentDistance(flat, o.length, ax, ay, bx, by);
                // No leg comes closer to the block than the clearance, except where one of its ends is closer
                // (backing off from a close start, arriving at the pre-contact point), and then not by more than
                // half a pixel below that end; interior waypoints keep the full clearance.
                double ends = Math.min(Polygons.distanceToBoundary(o, ax, ay), Polygons.distanceToBoundary(o, bx, by));
                double need = Math.min(clearance, ends - 0.5) - 1e-9;
                assertTrue(d >= need, "trial " + trial + " leg " + k + " passes " + d + " px from the block");
                assertTrue(d > R, "trial " + trial + " leg " + k + " touches the block");
                if (k > 0 && k + 2 < points) {
                    assertTrue(Polygons.distanceToBoundary(o, bx, by) >= Math.min(clearance,
                            Polygons.distanceToBoundary(o, g[0], g[1]) - 0.5) - 1e-9, "waypoint too close");
                }
            }
        }
        assertTrue(reached >= 0.9 * tried, "reached " + reached + " of " + tried + " pre-contact points");
    }

    @Test
    void motionConeMatchesTheClosedFormAndTranslatesThroughTheCentre() {
        double[] v = new double[3];
        double c = 40, mu = 0.5;
        // Through the centre of mass along the normal: pure translation at the pusher's speed.
        assertTrue(MotionCone.push(0, -50, 0, 1, 0, 1, mu, c, v));
        assertEquals(0, v[0], 1e-12);
        assertEquals(1, v[1], 1e-12);
        assertEquals(0, v[2], 1e-12);
        // Off-centre inside the cone: the sticking velocities, contact point moving with the pusher.
        double rx = 20, ry = -50;
        assertTrue(MotionCone.push(rx, ry, 0, 1, 0, 1, mu, c, v));
        double den = c * c + rx * rx + ry * ry;
        assertEquals(rx * ry / den, v[0], 1e-12);
        assertEquals((c * c + ry * ry) / den, v[1], 1e-12);
        assertEquals(v[0] - v[2] * ry, 0, 1e-12);  // contact point x velocity = pusher's (0)
        assertEquals(v[1] + v[2] * rx, 1, 1e-12);  // contact point y velocity = pusher's (1)
        // Far out on a long lever with low friction: it slides, the force sits on the cone edge, the normal
        // velocity of the contact still matches the pusher's.
        rx = 80;
        assertTrue(MotionCone.push(rx, ry, 0, 1, 0, 1, 0.1, c, v));
        double angle = Math.atan2(Math.abs(v[0]), v[1]);
        assertEquals(Math.atan(0.1), angle, 1e-9);
        assertEquals(1, v[1] + v[2] * rx, 1e-12);
        // Pulling does nothing.
        assertTrue(!MotionCone.push(0, -50, 0, 1, 0, -1, mu, c, v));
    }

    @Test
    void feedforwardTrajectoryKeepsThePdPusherOnThePath() {
        double kp = 100, kv = 20, dt = 0.01;
        ApproachTrajectory t = new ApproachTrajectory(8, 300, 1500, kp, kv, 0.1);
        double[] path = {100, 100, 300, 100, 300, 300, 150, 400};
        t.start(path, 4);
        double px = 100, py = 100, vx = 0, vy = 0, worst = 0;
        double[] c = new double[2];
        for (int k = 0; k < 40; k++) {
            t.next(c);
            for (int i = 0; i < 10; i++) { // the PD law of the physics models, semi-implicit Euler
                vx += (kp * (c[0] - px) - kv * vx) * dt;
                vy += (kp * (c[1] - py) - kv * vy) * dt;
                px += vx * dt;
                py += vy * dt;
                worst = Math.max(worst, distanceToPolyline(path, px, py));
            }
        }
        assertTrue(t.finished());
        assertTrue(worst < 6, "pusher strayed " + worst + " px from the path");
        assertEquals(150, px, 0.5);
        assertEquals(400, py, 0.5);
    }

    private static double distanceToPolyline(double[] p, double x, double y) {
        double best = Double.MAX_VALUE;
        for (int i = 0; i + 3 < p.length; i += 2) {
            double ex = p[i + 2] - p[i], ey = p[i + 3] - p[i + 1];
            double t = Math.max(0, Math.min(1, ((x - p[i]) * ex + (y - p[i + 1]) * ey) / (ex * ex + ey * ey)));
            best = Math.min(best, Math.hypot(p[i] + t * ex - x, p[i + 1] + t * ey - y));
        }
        return best;
    }

    @Test
    void handNoiseIsSeededSmoothAndOfTheRightSize() {
        HandNoise a = new HandNoise(2, 0.6, 0.1), b = new HandNoise(2, 0.6, 0.1);
        a.reset(5);
        b.reset(5);
        double sum2 = 0, lag = 0, prev = 0;
        int n = 20000;
        for (int i = 0; i < n; i++) {
            double x = a.next();
            assertEquals(x, b.next());
            assertEquals(a.y(), b.y());
            sum2 += x * x;
            if (i > 0) lag += x * prev;
            prev = x;
        }
        assertEquals(2, Math.sqrt(sum2 / n), 0.25);
        assertEquals(Math.exp(-0.1 / 0.6), lag / sum2, 0.05); // correlated over tau, not white
        b.reset(6);
        assertTrue(b.next() != new HandNoise(2, 0.6, 0.1).next());
    }
}
