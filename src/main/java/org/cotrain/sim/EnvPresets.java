package org.cotrain.sim;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The named environments: {@code target} (stands for the real world: dynamic physics, the target expert's
 * demonstrations), {@code source} (stands for the simulator: quasi-static physics, the planner-like source expert)
 * and the graded shifts {@code source-<visual|physics|task>-<0..3>}, each the source environment with one kind of
 * shift at one level (level 0 is the source itself). A pure visual or task gap without the physics-model gap is
 * an override away: {@code --env source-visual-2 physics.model=dynamic}.
 *
 * <pre>
 * level  visual                                         physics                                task
 * 1      block and table colours shifted                centre of mass 15 px down the stem     goal +20 px, -10 px, +15 deg
 * 2      stronger shift, per-episode colour             centre of mass 30 px; pusher friction  goal +40 px, -25 px, +30 deg
 *        randomisation +-15%, camera offset (6,-4) px   0.3, table friction 0.35
 * 3      per-episode randomisation +-35%, camera        centre of mass 45 px; pusher friction  an L-shaped block instead of
 *        offset (14,-10) px and 3 deg rotation          0.2, table friction 0.25               the T
 * </pre>
 */
public final class EnvPresets {

    public static final List<String> SHIFTS = List.of("visual", "physics", "task");
    public static final int LEVELS = 4;

    private EnvPresets() {}

    /** Every preset name: target, source, then source-<shift>-<level>. */
    public static List<String> names() {
        List<String> names = new ArrayList<>(List.of("target", "source"));
        for (String shift : SHIFTS) {
            for (int level = 0; level < LEVELS; level++) names.add("source-" + shift + "-" + level);
        }
        return names;
    }

    /** The preset of this name; an unknown name is an error listing the presets. */
    public static EnvConfig get(String name) {
        if (name.equals("target")) return target();
        if (name.equals("source")) return source();
        String[] parts = name.split("-");
        if (parts.length == 3 && parts[0].equals("source") && SHIFTS.contains(parts[1]) && parts[2].matches("[0-3]")) {
            return shifted(parts[1], Integer.parseInt(parts[2])).named(name);
        }
        throw new IllegalArgumentException("unknown environment preset '" + name + "'; presets: target, source,"
                + " source-<visual|physics|task>-<0..3> (e.g. source-physics-2)");
    }

    private static EnvConfig target() {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("shape", "tee");
        v.put("goal.x", 256.0);
        v.put("goal.y", 256.0);
        v.put("goal.theta_deg", 45.0);
        PhysicsParams p = PhysicsParams.pushT(PhysicsParams.DYNAMIC);
        v.put("physics.model", p.model());
        v.put("physics.pusher_radius", p.pusherRadius());
        v.put("physics.block_mass", p.blockMass());
        v.put("physics.com_offset", p.comOffset());
        v.put("physics.pusher_friction", p.pusherFriction());
        v.put("physics.table_friction", p.tableFriction());
        v.put("physics.gravity", p.gravity());
        v.put("physics.kp", p.kp());
        v.put("physics.kv", p.kv());
        v.put("physics.physics_hz", (double) p.physicsHz());
        v.put("physics.control_hz", (double) p.controlHz());
        v.put("physics.solver_iterations", (double) p.solverIterations());
        // Push-T's reset distribution: pusher anywhere but the margin, block in the middle, any angle.
        v.put("reset.agent_min", 50.0);
        v.put("reset.agent_max", 450.0);
        v.put("reset.block_min", 100.0);
        v.put("reset.block_max", 400.0);
        v.put("reset.angle_range_deg", 180.0); // block angle uniform in goal angle +- this (180: any angle)
        v.put("success.criterion", "coverage");
        v.put("success.coverage", 0.95);
        v.put("success.position_tolerance", 0.015 * 512);
        v.put("success.angle_tolerance_deg", 3.5);
        v.put("max_steps", 300.0);
        v.put("render.table_color", new int[] {238, 238, 232});
        v.put("render.block_color", new int[] {119, 136, 153});
        v.put("render.pusher_color", new int[] {65, 105, 225});
        v.put("render.goal_color", new int[] {144, 238, 144});
        v.put("render.shading", 0.5);
        v.put("render.color_randomization", 0.0);
        v.put("render.camera_dx", 0.0);
        v.put("render.camera_dy", 0.0);
        v.put("render.camera_rotation_deg", 0.0);
        v.put("expert", "target");
        return new EnvConfig("target", v);
    }

    private static EnvConfig source() {
        return target().with("physics.model", PhysicsParams.QUASI_STATIC).with("expert", "source").named("source");
    }

    private static EnvConfig shifted(String shift, int level) {
        EnvConfig c = source();
        if (level == 0) return c;
        switch (shift) {
            case "visual" -> {
                c = c.with("render.block_color", level == 1 ? new int[] {150, 120, 100} : new int[] {170, 110, 80})
                        .with("render.table_color", level == 1 ? new int[] {232, 226, 214} : new int[] {222, 214, 196});
                if (level >= 2) {
                    c = c.with("render.color_randomization", level == 2 ? 0.15 : 0.35)
                            .with("render.camera_dx", level == 2 ? 6.0 : 14.0)
                            .with("render.camera_dy", level == 2 ? -4.0 : -10.0);
                }
                if (level == 3) c = c.with("render.camera_rotation_deg", 3.0);
            }
            case "physics" -> {
                c = c.with("physics.com_offset", 15.0 * level);
                if (level >= 2) {
                    c = c.with("physics.pusher_friction", level == 2 ? 0.3 : 0.2)
                            .with("physics.table_friction", level == 2 ? 0.35 : 0.25);
                }
            }
            case "task" -> {
                if (level == 3) {
                    c = c.with("shape", "ell");
                } else {
                    c = c.with("goal.x", 256.0 + 20 * level).with("goal.y", 256.0 - (level == 1 ? 10 : 25))
                            .with("goal.theta_deg", 45.0 + 15 * level);
                }
            }
            default -> throw new IllegalArgumentException("unknown shift " + shift);
        }
        return c;
    }
}
