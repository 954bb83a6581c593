package org.cotrain.sim;

/**
 * Quasi-static pushing (the source environment's physics by default): the pusher-slider model with an ellipsoidal
 * limit surface (Goyal et al.; Lynch, Maekawa and Tanie 1992; Hogan and Rodriguez 2016). The block has no inertia:
 * it moves only while, and exactly as much as, the pusher makes it.
 *
 * <p>The limit surface: table friction on a uniform pressure patch resists a twist V = (vx, vy, omega) at the
 * centre of mass with the wrench F = (fx, fy, tau) on the surface H(F) = (fx^2 + fy^2) / f_max^2 + tau^2 / m_max^2
 * = 1, and V is normal to it (maximum dissipation): V = k grad H ~ W F with W = diag(1/f_max^2, 1/f_max^2,
 * 1/m_max^2), k >= 0 free. Quasi-statically the pusher's wrench balances the table's, so the twist is W times the
 * pusher's wrench, up to the common scale k; and the contacts decide that scale. The solution at velocity level
 * therefore does not depend on the scale of W: only on c = m_max / f_max, the mean distance of the block's area from
 * the centre of mass. This model uses W = diag(1, 1, 1 / c^2); table friction coefficient, gravity and mass cancel.
 *
 * <p>Each step the twist starts from zero and {@link ContactSolver} finds the pusher impulses that satisfy the
 * contact constraints: the block's contact point recedes along the normal at least as fast as the pusher advances
 * (exactly, while pushed), and the tangential impulse stays in the Coulomb cone of pusherFriction: sticking (the
 * contact point moves with the pusher) when the needed force is inside the cone, sliding on the cone's edge
 * otherwise. One contact gives the closed-form motion cone; two (the nook) the small LCP's solution. Contacts are
 * found with the pusher at its end-of-step position, and a position correction after the step keeps the overlap
 * within the solver's slop, as in {@link DynamicPhysics}.
 *
 * <p>The state's (bvx, bvy, omega) is set to the step's centre-of-mass twist, for observation; it carries no
 * momentum (it only sizes the next step's contact margin).
 */
public final class QuasiStaticPhysics implements PhysicsModel {

    private final BlockShape shape;
    private final PhysicsParams params;
    private final double comBx, comBy;   // centre of mass, body frame (pixels)
    private final double c;              // m_max / f_max (pixels)
    private final double reachAboutCom;  // largest distance of the outline from the centre of mass (px)
    private final BlockContacts contacts;
    private final ContactSolver solver;

    public QuasiStaticPhysics(BlockShape shape, PhysicsParams params) {
        if (shape == null) throw new IllegalArgumentException("shape must not be null");
        if (params == null) throw new IllegalArgumentException("params must not be null");
        this.shape = shape;
        this.params = params;
        comBx = shape.centroidX();
        comBy = shape.centroidY() + params.comOffset();
        c = shape.meanDistanceFrom(comBx, comBy);
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

    /** The centre of mass in the body frame (pixels). */
    public double comBodyX() {
        return comBx;
    }

    public double comBodyY() {
        return comBy;
    }

    /** The limit surface's ratio m_max / f_max (pixels). */
    public double limitSurfaceRadius() {
        return c;
    }

    @Override
    public void step(PushState s, double targetX, double targetY) {
        if (!Double.isFinite(targetX) || !Double.isFinite(targetY)) {
            throw new IllegalArgumentException("pusher target must be finite, got (" + targetX + ", " + targetY + ")");
        }
        double dt = params.dt();
        s.pvx += (params.kp() * (targetX - s.px) - params.kv() * s.pvx) * dt;
        s.pvy += (params.kp() * (targetY - s.py) - params.kv() * s.pvy) * dt;

        double cs = Math.cos(s.theta), sn = Math.sin(s.theta);
        double comX = s.bx + cs * comBx - sn * comBy;
        double comY = s.by + sn * comBx + cs * comBy;
        // Contacts and margin as in DynamicPhysics: the pusher at its end-of-step position; the last step's twist
        // stands for how fast the block moves.
        double closing = Math.sqrt(s.pvx * s.pvx + s.pvy * s.pvy) + Math.sqrt(s.bvx * s.bvx + s.bvy * s.bvy)
                + Math.abs(s.omega) * reachAboutCom;
        double margin = 2 * closing * dt + 1;
        int n = contacts.find(s.bx, s.by, s.theta, s.px + s.pvx * dt, s.py + s.pvy * dt, margin);

        solver.begin(comX, comY, 1, 1 / (c * c), 0, 0, 0);
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
        s.bx += s.bvx * dt - ((c1 - cs) * comBx - (s1 - sn) * comBy);
        s.by += s.bvy * dt - ((s1 - sn) * comBx + (c1 - cs) * comBy);
        s.px += s.pvx * dt;
        s.py += s.pvy * dt;
        ContactSolver.separate(s, contacts, comBx, comBy, 1, 1 / (c * c));
    }
}
