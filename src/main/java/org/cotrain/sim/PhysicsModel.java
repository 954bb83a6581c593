package org.cotrain.sim;

/**
 * A physics model of the pushing scene. Deterministic: the same state and commands give the same trajectory.
 * Implementations keep scratch space, so one instance serves one thread.
 */
public interface PhysicsModel {

    /** The model params.model() names: {@link DynamicPhysics} or {@link QuasiStaticPhysics}. */
    static PhysicsModel create(BlockShape shape, PhysicsParams params) {
        if (params == null) throw new IllegalArgumentException("params must not be null");
        return switch (params.model()) {
            case PhysicsParams.DYNAMIC -> new DynamicPhysics(shape, params);
            case PhysicsParams.QUASI_STATIC -> new QuasiStaticPhysics(shape, params);
            default -> throw new IllegalArgumentException("physics.model '" + params.model()
                    + "': expected dynamic or quasi_static");
        };
    }

    BlockShape shape();

    PhysicsParams params();

    /** Advances one physics step (1 / physicsHz) with the pusher's PD law driving it toward (targetX, targetY). */
    void step(PushState s, double targetX, double targetY);

    /** One command: physicsHz / controlHz physics steps toward the commanded pusher position. */
    default void controlStep(PushState s, double targetX, double targetY) {
        for (int i = 0, n = params().substeps(); i < n; i++) step(s, targetX, targetY);
    }
}
