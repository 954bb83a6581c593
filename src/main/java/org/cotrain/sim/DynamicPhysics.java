package org.cotrain.sim;

/**
 * Rigid-body dynamics of the pushing scene (the target environment's physics): a kinematic disc pusher driven by
 * the Push-T PD law, and a block with mass and inertia sliding on a table, with Coulomb friction at the
 * pusher-block contact and a limit-surface friction from the table. No restitution. Semi-implicit Euler at
 * physicsHz.
 *
 * <p>One step (dt = 1 / physicsHz; the step is {@link PushPhysics}'s, shared with {@link QuasiStaticPhysics}):
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
public final class DynamicPhysics extends PushPhysics {
    private final double mass, inertia;       // mass units, mass * px^2
    private final double fMax, tMax;          // limit surface semi-axes: force, torque

    public DynamicPhysics(BlockShape shape, PhysicsParams params) {
        super(shape, params);
        mass = params.blockMass();
        inertia = shape.inertiaAbout(mass, comBx, comBy);
        fMax = params.tableFriction() * mass * params.gravity();
        tMax = fMax * shape.meanDistanceFrom(comBx, comBy);
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

    /** W = diag(1/m, 1/m, 1/I), the twist carried over from the last step (inertia), and the table's friction. */
    @Override
    protected void beginSolve(ContactSolver solver, double comX, double comY, PushState s, double dt) {
        solver.begin(comX, comY, 1 / mass, 1 / inertia, s.bvx, s.bvy, s.omega);
        solver.tableFriction(fMax * dt, tMax * dt);
    }

    @Override
    protected double inverseMass() {
        return 1 / mass;
    }

    @Override
    protected double inverseInertia() {
        return 1 / inertia;
    }
}
