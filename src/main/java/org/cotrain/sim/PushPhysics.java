package org.cotrain.sim;

/**
 * What the two physics models of the pushing scene share ({@link DynamicPhysics}, {@link QuasiStaticPhysics}): the
 * block's centre of mass and reach, the contacts and the contact solver, and one step, in which only the block's
 * mobility differs (the subclasses' {@link #beginSolve} and {@link #inverseMass} / {@link #inverseInertia}):
 * <ol>
 *   <li>Pusher: the Push-T PD law, v += (kp (target - p) - kv v) dt, semi-implicit (velocity first, then position
 *       with the new velocity). It is kinematic (infinite mass): the block never pushes back.</li>
 *   <li>Contacts of the disc, at its end-of-step position, with the block where it is ({@link BlockContacts}).
 *       Within the margin they are speculative: their gap bounds how far the block may come toward the disc
 *       ({@link ContactSolver#normalTarget}). The margin is twice the distance the block's surface can cover in a
 *       step (its last twist, and the pusher's speed, which drives it), plus a pixel.</li>
 *   <li>{@link ContactSolver} with the model's mobility at the centre of mass.</li>
 *   <li>Integration of the centre of mass and the angle, then the pusher; position correction
 *       ({@link ContactSolver#separate}).</li>
 * </ol>
 */
abstract class PushPhysics implements PhysicsModel {
    protected final BlockShape shape;
    protected final PhysicsParams params;
    protected final double comBx, comBy;      // centre of mass, body frame (pixels)
    protected final double reachAboutCom;     // largest distance of the outline from the centre of mass (px)
    private final BlockContacts contacts;
    private final ContactSolver solver;

    PushPhysics(BlockShape shape, PhysicsParams params) {
        if (shape == null) throw new IllegalArgumentException("shape must not be null");
        if (params == null) throw new IllegalArgumentException("params must not be null");
        this.shape = shape;
        this.params = params;
        comBx = shape.centroidX();
        comBy = shape.centroidY() + params.comOffset();
        reachAboutCom = shape.radiusAbout(comBx, comBy);
        contacts = new BlockContacts(shape, params.pusherRadius());
        solver = new ContactSolver(2 * shape.outline().length);
    }

    /** Starts the solve: the mobility at the centre of mass (comX, comY), the twist it starts from, table friction. */
    protected abstract void beginSolve(ContactSolver solver, double comX, double comY, PushState s, double dt);

    /** The mobility's translational and rotational parts, for the position correction. */
    protected abstract double inverseMass();

    protected abstract double inverseInertia();

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

    @Override
    public final void step(PushState s, double targetX, double targetY) {
        if (!Double.isFinite(targetX) || !Double.isFinite(targetY)) {
            throw new IllegalArgumentException("pusher target must be finite, got (" + targetX + ", " + targetY + ")");
        }
        double dt = params.dt();
        s.pvx += (params.kp() * (targetX - s.px) - params.kv() * s.pvx) * dt;
        s.pvy += (params.kp() * (targetY - s.py) - params.kv() * s.pvy) * dt;

        double c = Math.cos(s.theta), sn = Math.sin(s.theta);
        double comX = s.bx + c * comBx - sn * comBy;
        double comY = s.by + sn * comBx + c * comBy;
        double closing = Math.sqrt(s.pvx * s.pvx + s.pvy * s.pvy) + Math.sqrt(s.bvx * s.bvx + s.bvy * s.bvy)
                + Math.abs(s.omega) * reachAboutCom;
        double margin = 2 * closing * dt + 1;
        int n = contacts.find(s.bx, s.by, s.theta, s.px + s.pvx * dt, s.py + s.pvy * dt, margin);

        beginSolve(solver, comX, comY, s, dt);
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
        ContactSolver.separate(s, contacts, comBx, comBy, inverseMass(), inverseInertia());
    }
}
