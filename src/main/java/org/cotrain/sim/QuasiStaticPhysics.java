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
 * within the solver's slop, as in {@link DynamicPhysics} (the step is {@link PushPhysics}'s, shared with it).
 *
 * <p>The state's (bvx, bvy, omega) is set to the step's centre-of-mass twist, for observation; it carries no
 * momentum (it only sizes the next step's contact margin).
 */
public final class QuasiStaticPhysics extends PushPhysics {
    private final double c;              // m_max / f_max (pixels)

    public QuasiStaticPhysics(BlockShape shape, PhysicsParams params) {
        super(shape, params);
        c = shape.meanDistanceFrom(comBx, comBy);
    }

    /** The limit surface's ratio m_max / f_max (pixels). */
    public double limitSurfaceRadius() {
        return c;
    }

    /** W = diag(1, 1, 1 / c^2), the twist starting from zero each step (no momentum), no table friction term. */
    @Override
    protected void beginSolve(ContactSolver solver, double comX, double comY, PushState s, double dt) {
        solver.begin(comX, comY, 1, 1 / (c * c), 0, 0, 0);
    }

    @Override
    protected double inverseMass() {
        return 1;
    }

    @Override
    protected double inverseInertia() {
        return 1 / (c * c);
    }
}
