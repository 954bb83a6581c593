package org.cotrain.sim;

/**
 * The physical constants of a pushing scene. Units: pixels, seconds, and the block's mass unit; gravity 981
 * px/s^2 reads a pixel as a centimetre.
 *
 * @param model            which physics: {@code dynamic} (rigid body with inertia, Coulomb contact and table
 *                         friction) or {@code quasi_static} (pusher-slider with an ellipsoidal limit surface)
 * @param pusherRadius     radius of the circular pusher (Push-T: 15)
 * @param blockMass        mass of the block (Push-T: 1)
 * @param comOffset        centre of mass moved along the stem axis (body +y, towards the stem's end) from the
 *                         area centroid, in pixels: the physics shift
 * @param pusherFriction   Coulomb coefficient between pusher and block
 * @param tableFriction    Coulomb coefficient between block and table (uniform pressure over the block)
 * @param gravity          normal acceleration pressing the block on the table
 * @param kp               pusher PD gain on position error (Push-T: 100)
 * @param kv               pusher PD gain on velocity (Push-T: 20)
 * @param physicsHz        physics steps per second (Push-T: 100)
 * @param controlHz        commands per second (Push-T: 10)
 * @param solverIterations contact solver iterations per physics step
 */
public record PhysicsParams(String model, double pusherRadius, double blockMass, double comOffset,
                            double pusherFriction, double tableFriction, double gravity, double kp, double kv,
                            int physicsHz, int controlHz, int solverIterations) {

    public static final String DYNAMIC = "dynamic";
    public static final String QUASI_STATIC = "quasi_static";

    public PhysicsParams {
        if (!model.equals(DYNAMIC) && !model.equals(QUASI_STATIC)) {
            throw new IllegalArgumentException("physics.model '" + model + "': expected dynamic or quasi_static");
        }
        positive("physics.pusher_radius", pusherRadius);
        positive("physics.block_mass", blockMass);
        nonNegative("physics.pusher_friction", pusherFriction);
        nonNegative("physics.table_friction", tableFriction);
        nonNegative("physics.gravity", gravity);
        positive("physics.kp", kp);
        nonNegative("physics.kv", kv);
        if (physicsHz <= 0 || controlHz <= 0 || physicsHz % controlHz != 0) {
            throw new IllegalArgumentException("physics.physics_hz " + physicsHz + " must be a positive multiple of"
                    + " physics.control_hz " + controlHz);
        }
        if (solverIterations <= 0) throw new IllegalArgumentException("physics.solver_iterations must be > 0");
    }

    /** Push-T's constants with the given physics model. */
    public static PhysicsParams pushT(String model) {
        return new PhysicsParams(model, 15, 1, 0, 0.5, 0.5, 981, 100, 20, 100, 10, 20);
    }

    public PhysicsParams withModel(String m) {
        return new PhysicsParams(m, pusherRadius, blockMass, comOffset, pusherFriction, tableFriction, gravity, kp,
                kv, physicsHz, controlHz, solverIterations);
    }

    public PhysicsParams withComOffset(double offset) {
        return new PhysicsParams(model, pusherRadius, blockMass, offset, pusherFriction, tableFriction, gravity, kp,
                kv, physicsHz, controlHz, solverIterations);
    }

    public PhysicsParams withFriction(double pusher, double table) {
        return new PhysicsParams(model, pusherRadius, blockMass, comOffset, pusher, table, gravity, kp, kv,
                physicsHz, controlHz, solverIterations);
    }

    /** Seconds per physics step. */
    public double dt() {
        return 1.0 / physicsHz;
    }

    /** Physics steps per command. */
    public int substeps() {
        return physicsHz / controlHz;
    }

    private static void positive(String key, double v) {
        if (!(v > 0) || !Double.isFinite(v)) throw new IllegalArgumentException(key + " must be > 0, got " + v);
    }

    private static void nonNegative(String key, double v) {
        if (!(v >= 0) || !Double.isFinite(v)) throw new IllegalArgumentException(key + " must be >= 0, got " + v);
    }
}
