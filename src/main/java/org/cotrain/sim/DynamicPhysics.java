package org.cotrain.sim;

/**
 * Rigid-body dynamics of the pushing scene (the target environment's physics): a kinematic disc pusher driven by
 * the Push-T PD law, and a block with mass and inertia sliding on a table, with Coulomb friction at the
 * pusher-block contact and a limit-surface friction from the table. No restitution. Semi-implicit Euler at
 * physicsHz.
 *
 * <p>One step (dt = 1 / physicsHz):
 * <ol>
 *   <li>Pusher: v += (kp (target - p) - kv v) dt. It is kinematic (infinite mass): the block never pushes back.</li>
 *   <li>Contacts of the disc, at its end-of-step position, with the block's outline ({@link BlockContacts}),
 *       including speculative ones within the distance the block can cover in a step: the block must make room
 *       for where the pusher is going (see {@link ContactSolver#normalTarget}).</li>
 *   <li>{@link ContactSolver} with the mobility W = diag(1/m, 1/m, 1/I) at the centre of mass, the block's twist
 *       carried over from the last step (inertia), and the table's friction: a uniform pressure patch
 *       approximated by an ellipsoidal limit surface with largest force f_max = mu_table m g and largest torque
 *       m_max = mu_table m g c, where c is the mean distance of the block's area from the centre of mass (the
 *       torque a uniform patch spinning about the centre of mass resists, divided by its force). When the net
 *       push stays inside that surface the block stays still: static friction.</li>
 *   <li>Integration: the centre of mass moves by v dt and the angle by omega dt; the pose (the body origin, not
 *       the centre of mass) follows from them. The pusher moves by its new velocity.</li>
 *   <li>Position correction ({@link ContactSolver#separate}): the velocity constraints hold only to first order
 *       in dt; what overlap remains beyond the slop (0.05 px) is removed by moving the block, not by adding
 *       velocity. The overlap after a step stays within about the slop (tested: at most 0.5 px).</li>
 * </ol>
 * The state's (bvx, bvy, omega) is the centre of mass's twist and persists between steps. theta is not wrapped.
 */
public final class DynamicPhysics implements PhysicsModel {

    private final BlockShape shape;
    private final PhysicsParams params;
    private final double comBx, comBy;        // centre of mass, body frame (pixels)
    private final double mass, inertia;       // mass units, mass * px^2
    private final double fMax, tMax;          // limit surface semi-axes: force, torque
    private final double reachAboutCom;       // largest distance of the outline from the centre of mass (px)
    private final BlockContacts contacts;
    private final ContactSolver solver;

    public DynamicPhysics(BlockShape shape, PhysicsParams params) {
        if (shape == null) throw new IllegalArgumentException("shape must not be null");
        if (params == null) throw new IllegalArgumentException("params must not be null");
        this.shape = shape;
        this.params = params;
        comBx = shape.centroidX();
        comBy = shape.centroidY() + params.comOffset();
        mass = params.blockMass();
        inertia = shape.inertiaAbout(mass, comBx, comBy);
        fMax = params.tableFriction() * mass * params.gravity();
        tMax = fMax * shape.meanDistanceFrom(comBx, comBy);
        reachAboutCom = shape.radiusAbout(comBx, comBy);
        contacts = new BlockContacts(shape, params.pusherRadius());
        solver = new ContactSolver(2 * shape.outline().length);
    }

    @Override
    public BlockShape shape() {
        return shape;
    }

    @Override
    public PhysicsParams params() {
        return params;
    }

    /** The centre of mass in the body frame (pixels): the area centroid moved by comOffset along body +y. */
    public double comBodyX() {
        return comBx;
    }

    public double comBodyY() {
        return comBy;
    }

    /** Moment of inertia about the centre of mass (mass * px^2). */
    public double inertia() {
        return inertia;
    }

    /** The table's largest friction force (mass * px / s^2) and torque (mass * px^2 / s^2). */
    public double maxFrictionForce() {
        return fMax;
    }

    public double maxFrictionTorque() {
        return tMax;
    }

    @Override
    public void step(PushState s, double targetX, double targetY) {
        if (!Double.isFinite(targetX) || !Double.isFinite(targetY)) {
            throw new IllegalArgumentException("pusher target must be finite, got (" + targetX + ", " + targetY + ")");
        }
        double dt = params.dt();
        // Pusher: the PD law, semi-implicit (velocity first, then position with the new velocity).
        s.pvx += (params.kp() * (targetX - s.px) - params.kv() * s.pvx) * dt;
        s.pvy += (params.kp() * (targetY - s.py) - params.kv() * s.pvy) * dt;

        double c = Math.cos(s.theta), sn = Math.sin(s.theta);
        double comX = s.bx + c * comBx - sn * comBy;
        double comY = s.by + sn * comBx + c * comBy;
        // Contacts are found with the pusher where it will be at the end of the step (it is kinematic) and the block
        // where it is. Within the margin they are speculative: their gap bounds how far the block may come toward
        // the disc. The margin is twice the distance the block's surface can cover in a step (its last twist, and
        // the pusher's speed, which drives it), plus a pixel.
        double closing = Math.sqrt(s.pvx * s.pvx + s.pvy * s.pvy) + Math.sqrt(s.bvx * s.bvx + s.bvy * s.bvy)
                + Math.abs(s.omega) * reachAboutCom;
        double margin = 2 * closing * dt + 1;
        int n = contacts.find(s.bx, s.by, s.theta, s.px + s.pvx * dt, s.py + s.pvy * dt, margin);

        solver.begin(comX, comY, 1 / mass, 1 / inertia, s.bvx, s.bvy, s.omega);
        solver.tableFriction(fMax * dt, tMax * dt);
        for (int k = 0; k < n; k++) {
            solver.addContact(contacts.pointX(k), contacts.pointY(k), contacts.normalX(k), contacts.normalY(k),
                    ContactSolver.normalTarget(contacts.depth(k),
                            -(s.pvx * contacts.normalX(k) + s.pvy * contacts.normalY(k)), dt),
                    params.pusherFriction());
        }
        solver.solve(s.pvx, s.pvy, params.solverIterations());
        s.bvx = solver.vx;
        s.bvy = solver.vy;
        s.omega = solver.omega;

        // Integrate the centre of mass and the angle; the body origin b = com - R(theta) com_body moves by
        // v dt - (R(theta') - R(theta)) com_body (written as a difference, so that a block at rest stays bit-exact).
        s.theta += s.omega * dt;
        double c1 = Math.cos(s.theta), s1 = Math.sin(s.theta);
        s.bx += s.bvx * dt - ((c1 - c) * comBx - (s1 - sn) * comBy);
        s.by += s.bvy * dt - ((s1 - sn) * comBx + (c1 - c) * comBy);
        s.px += s.pvx * dt;
        s.py += s.pvy * dt;
        ContactSolver.separate(s, contacts, comBx, comBy, 1 / mass, 1 / inertia);
    }
}
