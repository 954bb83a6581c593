package org.cotrain.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The quasi-static pusher-slider: the closed-form sticking twist and the sliding (cone-edge) twist for a single
 * contact, a push through the centre of mass, no motion without a push, penetration, the nook.
 *
 * <p>The reference. With W = diag(1, 1, 1/c^2) (the ellipsoidal limit surface, c = m_max / f_max) the block's
 * twist at the centre of mass for a pusher force F at r (from the centre of mass) is proportional to
 * (Fx, Fy, (r x F) / c^2), and the contact point moves at v + omega x r. Sticking means that velocity equals the
 * pusher's vp; solving the 2x2 system gives the closed form (Lynch et al. 1992)
 * <pre>
 *   vx = ((c^2 + rx^2) vpx + rx ry vpy) / (c^2 + rx^2 + ry^2)
 *   vy = (rx ry vpx + (c^2 + ry^2) vpy) / (c^2 + rx^2 + ry^2)
 *   omega = (rx vy - ry vx) / c^2
 * </pre>
 * valid while F (parallel to (vx, vy)) lies in the friction cone about the push direction d. Outside, F lies on the
 * cone's edge d + s mu t (s = +-1, the side where the pusher's slip on the block goes the same way as the friction it
 * exerts), and the twist is that F's, scaled so the contact point keeps up with the pusher along d.
 */
class QuasiStaticPhysicsTest {

    private static final double TOLERANCE = DynamicPhysicsTest.TOLERANCE;

    private final PhysicsParams pushT = PhysicsParams.pushT(PhysicsParams.QUASI_STATIC);
    private final BlockShape tee = BlockShape.tee();

    /** A contact on the T: body point, outward body normal. */
    private record Spot(double x, double y, double nx, double ny) {}

    private static final Spot[] SPOTS = {
        new Spot(30, 0, 0, -1),    // top face, right of the axis
        new Spot(-45, 0, 0, -1),   // top face, near the left end
        new Spot(60, 12, 1, 0),    // the bar's right end
        new Spot(-15, 95, -1, 0),  // low on the stem's left side
        new Spot(5, 120, 0, 1),    // the stem's bottom face
    };

    @Test
    void stickingTwistIsTheClosedForm() {
        for (double offset : new double[] {0, 15}) {
            QuasiStaticPhysics m = new QuasiStaticPhysics(tee, pushT.withComOffset(offset));
            int checked = 0;
            for (Spot spot : SPOTS) {
                for (double slant : new double[] {0, 0.3, -0.3}) {
                    PushState s = touching(m, spot, 0.4);
                    double[] d = pushDirection(s, spot), t = {-d[1], d[0]};
                    double vpx = 40 * (d[0] + slant * t[0]), vpy = 40 * (d[1] + slant * t[1]);
                    double[] r = leverArm(m, s, spot, vpx * t[0] + vpy * t[1], t);
                    double c = m.limitSurfaceRadius(), c2 = c * c;
                    double den = c2 + r[0] * r[0] + r[1] * r[1];
                    double vx = ((c2 + r[0] * r[0]) * vpx + r[0] * r[1] * vpy) / den;
                    double vy = (r[0] * r[1] * vpx + (c2 + r[1] * r[1]) * vpy) / den;
                    double w = (r[0] * vy - r[1] * vx) / c2;
                    // The force is parallel to (vx, vy): is it inside the cone? Only those cases are sticking.
                    double along = vx * d[0] + vy * d[1], across = vx * t[0] + vy * t[1];
                    if (Math.abs(across) > pushT.pusherFriction() * along) continue;
                    double[] tg = PushTesting.targetForVelocity(pushT, s, vpx, vpy);
                    m.step(s, tg[0], tg[1]);
                    String where = spot + " slant " + slant + " offset " + offset;
                    assertEquals(vx, s.bvx, 1e-9, where);
                    assertEquals(vy, s.bvy, 1e-9, where);
                    assertEquals(w, s.omega, 1e-11, where);
                    // Sticking: the contact point moves with the pusher.
                    assertEquals(vpx, s.bvx - w * r[1], 1e-9, where);
                    assertEquals(vpy, s.bvy + w * r[0], 1e-9, where);
                    checked++;
                }
            }
            assertTrue(checked >= 8, "too few sticking cases: " + checked);
        }
    }

    @Test
    void outsideTheMotionConeItSlidesOnTheConeEdge() {
        QuasiStaticPhysics m = new QuasiStaticPhysics(tee, pushT);
        double mu = pushT.pusherFriction(), c2 = m.limitSurfaceRadius() * m.limitSurfaceRadius();
        int checked = 0;
        for (Spot spot : SPOTS) {
            for (double slant : new double[] {1.5, -1.5, 3}) {
                PushState s = touching(m, spot, -0.9);
                double[] d = pushDirection(s, spot), t = {-d[1], d[0]};
                double vpx = 40 * (d[0] + slant * t[0]), vpy = 40 * (d[1] + slant * t[1]);
                double[] r = leverArm(m, s, spot, vpx * t[0] + vpy * t[1], t);
                // Sticking would need a force outside the cone (checked, else this case is not a sliding one).
                double c2r = c2 + r[0] * r[0] + r[1] * r[1];
                double sx = ((c2 + r[0] * r[0]) * vpx + r[0] * r[1] * vpy) / c2r;
                double sy = (r[0] * r[1] * vpx + (c2 + r[1] * r[1]) * vpy) / c2r;
                if (Math.abs(sx * t[0] + sy * t[1]) <= mu * (sx * d[0] + sy * d[1])) continue;
                double[] expected = null;
                for (int side = -1; side <= 1; side += 2) {
                    double fx = d[0] + side * mu * t[0], fy = d[1] + side * mu * t[1];
                    double fw = (r[0] * fy - r[1] * fx) / c2;
                    // The contact point's speed along d for the unit twist (fx, fy, fw): J_d W J_e^T.
                    double jd = fx * d[0] + fy * d[1] + (r[0] * d[1] - r[1] * d[0]) * fw;
                    double k = (vpx * d[0] + vpy * d[1]) / jd;
                    double vx = k * fx, vy = k * fy, w = k * fw;
                    // The pusher slips over the block point along t: friction on the block goes the same way.
                    double slip = (vpx - (vx - w * r[1])) * t[0] + (vpy - (vy + w * r[0])) * t[1];
                    if (k > 0 && slip * side > 0) {
                        assertTrue(expected == null, "two consistent sliding sides");
                        expected = new double[] {vx, vy, w};
                    }
                }
                assertTrue(expected != null, "no consistent sliding side for " + spot);
                double[] tg = PushTesting.targetForVelocity(pushT, s, vpx, vpy);
                m.step(s, tg[0], tg[1]);
                String where = spot + " slant " + slant;
                assertEquals(expected[0], s.bvx, 1e-9, where);
                assertEquals(expected[1], s.bvy, 1e-9, where);
                assertEquals(expected[2], s.omega, 1e-11, where);
                checked++;
            }
        }
        assertTrue(checked >= 10, "too few sliding cases: " + checked);
    }

    @Test
    void pushThroughTheCentreOfMassTranslates() {
        for (double th : new double[] {0, 0.7, -2.1}) {
            QuasiStaticPhysics m = new QuasiStaticPhysics(tee, pushT);
            double c = Math.cos(th), sn = Math.sin(th);
            PushState s = PushTesting.state(256, 256, th, 256 + sn * 15.5, 256 - c * 15.5);
            for (int k = 0; k < 30; k++) {
                DynamicPhysicsTest.stepChecked(m, s, s.px - sn * 100, s.py + c * 100);
            }
            assertEquals(th, s.theta, 1e-6, "turned while pushed through the centre of mass");
            assertTrue(Math.hypot(s.bx - 256, s.by - 256) > 100, "barely moved: " + s);
            // Sticking, straight ahead: the block moves with the pusher.
            assertEquals(Math.hypot(s.pvx, s.pvy), Math.hypot(s.bvx, s.bvy), 1e-6);
        }
        // Sideways with an offset centre of mass: through it, straight; through the centroid, it turns.
        double cy = tee.centroidY();
        for (double at : new double[] {cy + 20, cy}) {
            QuasiStaticPhysics m = new QuasiStaticPhysics(tee, new PhysicsParams(PhysicsParams.QUASI_STATIC, 5, 1, 20,
                    0.5, 0.5, 981, 100, 20, 100, 10, 20));
            PushState s = PushTesting.state(256, 256, 0, 256 - 15 - 5.5, 256 + at);
            for (int k = 0; k < 5; k++) DynamicPhysicsTest.stepChecked(m, s, s.px + 100, 256 + at);
            assertTrue(s.bx > 280, "barely moved: " + s);
            if (at != cy) assertEquals(0, s.theta, 1e-6);
            else assertTrue(s.theta > 0.05, "the push above the centre of mass should turn it: " + s.theta);
        }
    }

    @Test
    void blockStopsWhenThePusherStopsOrLeaves() {
        QuasiStaticPhysics m = new QuasiStaticPhysics(tee, pushT);
        Spot spot = SPOTS[0];
        for (double leave : new double[] {0, -30}) {
            PushState s = touching(m, spot, 0.2);
            double[] d = pushDirection(s, spot);
            for (int k = 0; k < 3; k++) DynamicPhysicsTest.stepChecked(m, s, s.px + 100 * d[0], s.py + 100 * d[1]);
            assertTrue(Math.hypot(s.bvx, s.bvy) > 50, "was not being pushed: " + s);
            PushState pushed = new PushState(s);
            // Now the pusher stops dead (or backs away along d at 30 px/s).
            d = pushDirection(s, spot);
            for (int i = 0; i < 20; i++) {
                double[] tg = PushTesting.targetForVelocity(pushT, s, leave * d[0], leave * d[1]);
                m.step(s, tg[0], tg[1]);
                assertEquals(0, s.bvx, 0);
                assertEquals(0, s.bvy, 0);
                assertEquals(0, s.omega, 0);
                assertEquals(pushed.bx, s.bx, 0);
                assertEquals(pushed.by, s.by, 0);
                assertEquals(pushed.theta, s.theta, 0);
            }
        }
    }

    @Test
    void blockMovesOnlyWhilePushed() {
        // Random pushes: whenever the block moves in a step, the pusher touches it at the end of the step; and
        // whenever the block moves, it moves in contact, so a pusher in the open leaves it bit-exactly in place.
        Random rng = new Random(21);
        QuasiStaticPhysics m = new QuasiStaticPhysics(tee, pushT);
        double r = pushT.pusherRadius();
        int moved = 0, still = 0;
        PushState s = PushTesting.state(256, 256, 0.5, 256, 150);
        for (int k = 0; k < 300; k++) {
            double[] c = PushTesting.com(s, tee.centroidX(), tee.centroidY());
            double tx = c[0] + 120 * (2 * rng.nextDouble() - 1), ty = c[1] + 120 * (2 * rng.nextDouble() - 1);
            for (int i = 0; i < pushT.substeps(); i++) {
                PushState before = new PushState(s);
                m.step(s, tx, ty);
                boolean move = s.bx != before.bx || s.by != before.by || s.theta != before.theta;
                if (move) {
                    moved++;
                    // Touching (a contact sliding fast on a turning face may open by a few hundredths of a pixel).
                    assertTrue(PushTesting.overlap(tee, r, s) > -0.1, "moved without a push: " + s);
                } else {
                    still++;
                }
            }
        }
        assertTrue(moved > 100 && still > 100, "moved " + moved + ", still " + still);
    }

    @Test
    void randomPushesNeverPenetrateBeyondTolerance() {
        for (BlockShape shape : new BlockShape[] {tee, BlockShape.ell(), BlockShape.plus()}) {
            for (double offset : new double[] {0, 25}) {
                PhysicsModel m = new QuasiStaticPhysics(shape, pushT.withComOffset(offset));
                PushTesting.RunStats r = PushTesting.randomPushes(m, 13, 8, 200);
                assertTrue(r.maxOverlap() <= TOLERANCE, shape.name() + " overlap " + r.maxOverlap());
                assertTrue(r.touchingSteps() > r.steps() / 10, "too few pushes to mean anything: " + r);
            }
        }
    }

    @Test
    void nookHoldsThePusherWithTwoContacts() {
        DynamicPhysicsTest.nook(new QuasiStaticPhysics(tee, pushT));
    }

    @Test
    void sameInputsGiveBitIdenticalStates() {
        QuasiStaticPhysics a = new QuasiStaticPhysics(tee, pushT), b = new QuasiStaticPhysics(tee, pushT);
        PushState sa = PushTesting.state(250, 240, 0.4, 150, 150), sb = new PushState(sa);
        Random ra = new Random(5), rb = new Random(5);
        for (int k = 0; k < 100; k++) {
            a.controlStep(sa, 200 + 100 * ra.nextDouble(), 200 + 100 * ra.nextDouble());
            b.controlStep(sb, 200 + 100 * rb.nextDouble(), 200 + 100 * rb.nextDouble());
        }
        double[] x = {sa.px, sa.py, sa.pvx, sa.pvy, sa.bx, sa.by, sa.theta, sa.bvx, sa.bvy, sa.omega};
        double[] y = {sb.px, sb.py, sb.pvx, sb.pvy, sb.bx, sb.by, sb.theta, sb.bvx, sb.bvy, sb.omega};
        for (int i = 0; i < x.length; i++) {
            assertEquals(Double.doubleToRawLongBits(x[i]), Double.doubleToRawLongBits(y[i]));
        }
        assertTrue(Math.hypot(sa.bx - 250, sa.by - 240) > 1, "the sequence never touched the block");
    }

    /**
     * The T at (250, 260, theta) and the pusher at rest outside the spot, its centre on the spot's normal at
     * radius + gap (gap < 0: overlapping by -gap, within the slop when tiny).
     */
    private static PushState touching(PhysicsModel m, Spot spot, double theta) {
        double c = Math.cos(theta), s = Math.sin(theta);
        double reach = m.params().pusherRadius();
        double bx = spot.x() + spot.nx() * reach, by = spot.y() + spot.ny() * reach;
        return PushTesting.state(250, 260, theta, 250 + c * bx - s * by, 260 + s * bx + c * by);
    }

    /** The direction into the block at the spot, workspace frame. */
    private static double[] pushDirection(PushState st, Spot spot) {
        double c = Math.cos(st.theta), s = Math.sin(st.theta);
        return new double[] {-(c * spot.nx() - s * spot.ny()), -(s * spot.nx() + c * spot.ny())};
    }

    /**
     * The contact point relative to the centre of mass, workspace frame. The model takes the contact where the
     * pusher will be at the end of the step: the spot moved along the face (tangent t) by the pusher's tangential
     * speed vt times dt.
     */
    private static double[] leverArm(QuasiStaticPhysics m, PushState st, Spot spot, double vt, double[] t) {
        double c = Math.cos(st.theta), s = Math.sin(st.theta);
        double x = spot.x() - m.comBodyX(), y = spot.y() - m.comBodyY();
        double shift = vt * m.params().dt();
        return new double[] {c * x - s * y + shift * t[0], s * x + c * y + shift * t[1]};
    }
}
