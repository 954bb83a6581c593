package org.cotrain.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The dynamic model: conservation without friction, table friction's stopping distance and time, pushes through
 * (and beside) the centre of mass, penetration under random pushes, the T's nook, determinism.
 */
class DynamicPhysicsTest {

    /** The largest overlap allowed between pusher and block after any physics step (pixels). */
    static final double TOLERANCE = 0.5;

    private final PhysicsParams pushT = PhysicsParams.pushT(PhysicsParams.DYNAMIC);
    private final BlockShape tee = BlockShape.tee();

    @Test
    void freeBlockKeepsMomentumAndEnergy() {
        DynamicPhysics m = new DynamicPhysics(tee, pushT.withFriction(0.5, 0));
        PushState s = PushTesting.state(256, 256, 0.3, -5000, -5000); // pusher far away, at rest
        s.bvx = 30;
        s.bvy = -20;
        s.omega = 2.5;
        double mass = pushT.blockMass(), inertia = m.inertia();
        double e0 = energy(s, mass, inertia);
        double l0 = angularMomentum(s, m, mass, inertia);
        for (int i = 0; i < 1000; i++) {
            m.step(s, s.px, s.py);
            assertEquals(30, s.bvx, 0);
            assertEquals(-20, s.bvy, 0);
            assertEquals(2.5, s.omega, 0);
            assertEquals(e0, energy(s, mass, inertia), 1e-12 * e0);
            assertEquals(l0, angularMomentum(s, m, mass, inertia), 1e-9 * Math.abs(l0));
        }
        // The centre of mass went straight: 10 s at (30, -20) px/s.
        double[] c = PushTesting.com(s, m.comBodyX(), m.comBodyY());
        double[] c0 = PushTesting.com(PushTesting.state(256, 256, 0.3, 0, 0), m.comBodyX(), m.comBodyY());
        assertEquals(c0[0] + 300, c[0], 1e-8);
        assertEquals(c0[1] - 200, c[1], 1e-8);
    }

    @Test
    void slidingBlockStopsAtTheFrictionDistance() {
        DynamicPhysics m = new DynamicPhysics(tee, pushT);
        PushState s = PushTesting.state(256, 256, 1.1, -5000, -5000);
        double v0 = 200;
        s.bvx = 0.6 * v0;
        s.bvy = 0.8 * v0;
        double[] c0 = PushTesting.com(s, m.comBodyX(), m.comBodyY());
        double e = energy(s, 1, m.inertia());
        int steps = 0;
        while (s.bvx != 0 || s.bvy != 0) {
            m.step(s, s.px, s.py);
            double e1 = energy(s, 1, m.inertia());
            assertTrue(e1 <= e, "kinetic energy increased");
            e = e1;
            assertEquals(1.1, s.theta, 0, "a pure translation does not turn");
            assertTrue(++steps < 1000, "did not stop");
        }
        double[] c = PushTesting.com(s, m.comBodyX(), m.comBodyY());
        double mu = pushT.tableFriction(), g = pushT.gravity();
        double expected = v0 * v0 / (2 * mu * g);
        double distance = Math.hypot(c[0] - c0[0], c[1] - c0[1]);
        assertEquals(expected, distance, v0 * pushT.dt(), "stopping distance v0^2 / (2 mu g)");
        assertEquals(0.6, (c[0] - c0[0]) / distance, 1e-12, "straight line");
        // Static friction: it stays where it stopped.
        PushState rest = new PushState(s);
        for (int i = 0; i < 100; i++) m.step(s, s.px, s.py);
        assertEquals(rest.bx, s.bx, 0);
        assertEquals(rest.by, s.by, 0);
        assertEquals(rest.theta, s.theta, 0);
    }

    @Test
    void spinningBlockStopsWithoutReversing() {
        DynamicPhysics m = new DynamicPhysics(tee, pushT);
        PushState s = PushTesting.state(256, 256, 0, -5000, -5000);
        double w0 = 6;
        s.omega = w0;
        double[] c0 = PushTesting.com(s, m.comBodyX(), m.comBodyY());
        int steps = 0;
        double last = w0;
        while (s.omega != 0) {
            m.step(s, s.px, s.py);
            assertTrue(s.omega >= 0 && s.omega < last, "omega " + s.omega + " after " + last);
            last = s.omega;
            assertEquals(0, s.bvx, 0);
            assertEquals(0, s.bvy, 0);
            steps++;
        }
        // The torque is the limit surface's m_max = mu m g c throughout (c: the area's mean distance from the
        // centre of mass), so it takes I w0 / (m_max dt) steps.
        double mMax = pushT.tableFriction() * pushT.blockMass() * pushT.gravity()
                * tee.meanDistanceFrom(tee.centroidX(), tee.centroidY());
        double expected = tee.inertiaAboutCentroid(pushT.blockMass()) * w0 / (mMax * pushT.dt());
        assertEquals(Math.ceil(expected), steps, 1);
        // It turned about its centre of mass, which did not move.
        double[] c = PushTesting.com(s, m.comBodyX(), m.comBodyY());
        assertEquals(c0[0], c[0], 1e-9);
        assertEquals(c0[1], c[1], 1e-9);
    }

    @Test
    void pushThroughTheCentreOfMassDoesNotTurn() {
        // Down the T's stem axis, on the middle of the top face, with the block turned: the line of the push is
        // the axis x_body = 0 through the centroid.
        for (double th : new double[] {0, 0.7, -2.1}) {
            DynamicPhysics m = new DynamicPhysics(tee, pushT);
            double c = Math.cos(th), sn = Math.sin(th);
            // Body point (0, -15.5): 0.5 px above the top face; the push goes along body +y.
            PushState s = PushTesting.state(256, 256, th, 256 + sn * 15.5, 256 - c * 15.5);
            for (int k = 0; k < 30; k++) {
                double tx = s.px - sn * 100, ty = s.py + c * 100; // 100 px further along body +y
                stepChecked(m, s, tx, ty);
            }
            assertEquals(th, s.theta, 1e-6, "turned while pushed through the centre of mass");
            assertTrue(Math.hypot(s.bx - 256, s.by - 256) > 100, "barely moved: " + s);
        }
    }

    @Test
    void sidePushThroughTheCentroidTurnsOnlyWithAnOffsetCentreOfMass() {
        // A small pusher (radius 5, clear of the bar) on the stem's left side at the centroid's height, pushing
        // along +x: through the centre of mass when it is the centroid, above it when the centre of mass is moved
        // 20 px down the stem.
        PhysicsParams small = new PhysicsParams(PhysicsParams.DYNAMIC, 5, 1, 0, 0.5, 0.5, 981, 100, 20, 100, 10, 20);
        double cy = tee.centroidY();
        for (double offset : new double[] {0, 20}) {
            DynamicPhysics m = new DynamicPhysics(tee, new PhysicsParams(small.model(), 5, 1, offset, 0.5, 0.5, 981,
                    100, 20, 100, 10, 20));
            PushState s = PushTesting.state(256, 256, 0, 256 - 15 - 5.5, 256 + cy);
            for (int k = 0; k < 5; k++) stepChecked(m, s, s.px + 100, 256 + cy);
            assertTrue(s.bx > 300, "barely moved: " + s);
            if (offset == 0) {
                assertEquals(0, s.theta, 1e-6, "turned while pushed through the centre of mass");
            } else {
                // r = contact - com = (-15, -20), push +x: torque r x F = 20 F > 0.
                assertTrue(s.theta > 0.05, "an offset centre of mass should turn the block: " + s.theta);
            }
        }
        // With the offset, the push through the moved centre of mass goes straight again.
        DynamicPhysics m = new DynamicPhysics(tee, new PhysicsParams(PhysicsParams.DYNAMIC, 5, 1, 20, 0.5, 0.5, 981,
                100, 20, 100, 10, 20));
        PushState s = PushTesting.state(256, 256, 0, 256 - 15 - 5.5, 256 + cy + 20);
        for (int k = 0; k < 5; k++) stepChecked(m, s, s.px + 100, 256 + cy + 20);
        assertEquals(0, s.theta, 1e-6);
    }

    @Test
    void randomPushesNeverPenetrateBeyondTolerance() {
        for (BlockShape shape : new BlockShape[] {tee, BlockShape.ell(), BlockShape.plus()}) {
            for (double offset : new double[] {0, 25}) {
                PhysicsModel m = new DynamicPhysics(shape, pushT.withComOffset(offset));
                PushTesting.RunStats r = PushTesting.randomPushes(m, 11, 8, 200);
                assertTrue(r.maxOverlap() <= TOLERANCE, shape.name() + " overlap " + r.maxOverlap());
                assertTrue(r.touchingSteps() > r.steps() / 10, "too few pushes to mean anything: " + r);
            }
        }
    }

    @Test
    void nookHoldsThePusherWithTwoContacts() {
        nook(new DynamicPhysics(tee, pushT));
    }

    /**
     * A pusher pressed diagonally into the T's concave corner (body (15, 30)): two contacts from the start, and
     * while the block has turned little (the first three commands) the disc stays in the nook's wedge touching both
     * edges, never slipping through the corner into the block, and the block's centre of mass advances along the
     * push every step (no jitter); over ten commands the overlap stays within tolerance. As the block turns, the
     * fixed world direction of the push leaves the nook and the disc slides out along the bar: that is physics,
     * not tested here. Shared with the quasi-static test.
     */
    static void nook(PhysicsModel m) {
        double r = m.params().pusherRadius();
        BlockShape shape = m.shape();
        double gap = 0.2, x0 = 15 + r + gap, y0 = 30 + r + gap;
        PushState s = PushTesting.state(256, 256, 0, 256 + x0, 256 + y0);
        BlockContacts bc = new BlockContacts(shape, r);
        assertEquals(2, bc.find(s.bx, s.by, s.theta, s.px, s.py, 1), "two contacts in the nook");
        double ux = -Math.sqrt(0.5), uy = -Math.sqrt(0.5); // into the corner
        double[] com0 = PushTesting.com(s, shape.centroidX(), shape.centroidY());
        double along = com0[0] * ux + com0[1] * uy, start = along;
        int twoContacts = 0, early = 3 * m.params().substeps();
        for (int k = 0, step = 0; k < 10; k++) {
            for (int i = 0; i < m.params().substeps(); i++, step++) {
                // Pressed: the target stays 100 px ahead, so the pusher speeds up steadily (toward kp 100 / kv =
                // 500 px/s) and never falls behind a block that slides on with its own momentum.
                m.step(s, s.px + 100 * ux, s.py + 100 * uy);
                assertTrue(PushTesting.overlap(shape, r, s) <= TOLERANCE, "overlap in the nook " + s);
                double[] com = PushTesting.com(s, shape.centroidX(), shape.centroidY());
                double a = com[0] * ux + com[1] * uy;
                if (step < early) {
                    assertTrue(a >= along - 1e-9, "the block moved back against the push");
                    // The disc centre in the body frame: in the wedge outside both edges.
                    double c = Math.cos(s.theta), sn = Math.sin(s.theta);
                    double qx = c * (s.px - s.bx) + sn * (s.py - s.by);
                    double qy = -sn * (s.px - s.bx) + c * (s.py - s.by);
                    assertTrue(qx > 15 + r - TOLERANCE && qy > 30 + r - TOLERANCE, "left the nook: " + qx + ", " + qy);
                    if (bc.find(s.bx, s.by, s.theta, s.px, s.py, TOLERANCE) == 2) twoContacts++;
                }
                along = a;
            }
        }
        assertTrue(along - start > 50, "the block hardly moved: " + s);
        assertTrue(twoContacts >= early * 9 / 10, "two contacts in only " + twoContacts + " of " + early + " steps");
    }

    @Test
    void sameInputsGiveBitIdenticalStates() {
        DynamicPhysics a = new DynamicPhysics(tee, pushT.withComOffset(10));
        DynamicPhysics b = new DynamicPhysics(tee, pushT.withComOffset(10));
        PushState sa = PushTesting.state(250, 240, 0.4, 150, 150), sb = new PushState(sa);
        Random ra = new Random(5), rb = new Random(5);
        for (int k = 0; k < 100; k++) {
            a.controlStep(sa, 200 + 100 * ra.nextDouble(), 200 + 100 * ra.nextDouble());
            b.controlStep(sb, 200 + 100 * rb.nextDouble(), 200 + 100 * rb.nextDouble());
        }
        assertEquals(sa.toString(), sb.toString());
        double[] x = {sa.px, sa.py, sa.pvx, sa.pvy, sa.bx, sa.by, sa.theta, sa.bvx, sa.bvy, sa.omega};
        double[] y = {sb.px, sb.py, sb.pvx, sb.pvy, sb.bx, sb.by, sb.theta, sb.bvx, sb.bvy, sb.omega};
        for (int i = 0; i < x.length; i++) assertEquals(Double.doubleToRawLongBits(x[i]), Double.doubleToRawLongBits(y[i]));
        assertTrue(Math.hypot(sa.bx - 250, sa.by - 240) > 1, "the sequence never touched the block");
    }

    @Test
    void factoryAndBadInput() {
        assertInstanceOf(DynamicPhysics.class, PhysicsModel.create(tee, pushT));
        assertInstanceOf(QuasiStaticPhysics.class, PhysicsModel.create(tee, pushT.withModel(PhysicsParams.QUASI_STATIC)));
        DynamicPhysics m = new DynamicPhysics(tee, pushT);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> m.step(new PushState(), Double.NaN, 0));
        assertTrue(e.getMessage().contains("target"));
        assertThrows(IllegalArgumentException.class, () -> new DynamicPhysics(null, pushT));
    }

    /** One command, checking the overlap after every physics step. */
    static void stepChecked(PhysicsModel m, PushState s, double tx, double ty) {
        for (int i = 0; i < m.params().substeps(); i++) {
            m.step(s, tx, ty);
            double o = PushTesting.overlap(m.shape(), m.params().pusherRadius(), s);
            assertTrue(o <= TOLERANCE, "overlap " + o + " at " + s);
        }
    }

    private static double energy(PushState s, double mass, double inertia) {
        return 0.5 * mass * (s.bvx * s.bvx + s.bvy * s.bvy) + 0.5 * inertia * s.omega * s.omega;
    }

    /** About the workspace origin: m (x vy - y vx) + I omega, with x the centre of mass. */
    private static double angularMomentum(PushState s, DynamicPhysics m, double mass, double inertia) {
        double[] c = PushTesting.com(s, m.comBodyX(), m.comBodyY());
        return mass * (c[0] * s.bvy - c[1] * s.bvx) + inertia * s.omega;
    }
}
