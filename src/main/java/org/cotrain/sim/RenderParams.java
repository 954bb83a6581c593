package org.cotrain.sim;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * How a scene is drawn: image size, colours, shading and camera. These are what the visual shift presets vary.
 *
 * @param size              image width and height in pixels (96 for observations, e.g. 512 for videos)
 * @param tableColor        RGB 0..255 of the table (the background everywhere)
 * @param blockColor        RGB of the block
 * @param pusherColor       RGB of the pusher disc
 * @param goalColor         RGB of the goal marker (the block's outline filled at the goal pose, under the block)
 * @param shading           0..1: strength of the lighting gradient across the table (up to +-8% brightness, light
 *                          from the top left) and of the soft drop shadow under block and pusher (offset 5 workspace
 *                          px down and right, up to 35% darker); 0 draws flat colours
 * @param cameraDx          camera offset in workspace pixels: the whole scene appears shifted by (dx, dy) in the image
 * @param cameraDy          see cameraDx; y down
 * @param cameraRotationDeg camera roll in degrees: the scene appears rotated by this angle (y down, so positive turns
 *                          clockwise on screen) about the workspace centre (256, 256), before the shift
 */
public record RenderParams(int size, int[] tableColor, int[] blockColor, int[] pusherColor, int[] goalColor,
                           double shading, double cameraDx, double cameraDy, double cameraRotationDeg) {

    /** The workspace is 512 x 512 pixels (Push-T); the image shows all of it at camera offset zero. */
    public static final double WORKSPACE = 512;
    /** Largest image side accepted: videos at 4x the workspace are already more than anyone looks at. */
    public static final int MAX_SIZE = 2048;
    /** Largest camera shift (workspace pixels) and roll (degrees): a quarter of the workspace, a quarter turn. */
    public static final double MAX_CAMERA_SHIFT = 128, MAX_CAMERA_ROTATION_DEG = 90;

    public RenderParams {
        if (size < 8 || size > MAX_SIZE) {
            throw new IllegalArgumentException("render size must be in [8, " + MAX_SIZE + "], got " + size);
        }
        tableColor = checkColor("render.table_color", tableColor);
        blockColor = checkColor("render.block_color", blockColor);
        pusherColor = checkColor("render.pusher_color", pusherColor);
        goalColor = checkColor("render.goal_color", goalColor);
        if (!(shading >= 0 && shading <= 1)) {
            throw new IllegalArgumentException("render.shading must be in [0, 1], got " + shading);
        }
        checkRange("render.camera_dx", cameraDx, MAX_CAMERA_SHIFT);
        checkRange("render.camera_dy", cameraDy, MAX_CAMERA_SHIFT);
        checkRange("render.camera_rotation_deg", cameraRotationDeg, MAX_CAMERA_ROTATION_DEG);
    }

    /** Push-T's look: light table, slate-grey block, royal-blue pusher, light-green goal; mild shading. */
    public static RenderParams defaults(int size) {
        return new RenderParams(size, new int[] {238, 238, 232}, new int[] {119, 136, 153}, new int[] {65, 105, 225},
                new int[] {144, 238, 144}, 0.5, 0, 0, 0);
    }

    /**
     * The render.* keys of an environment config at this image size. Per-episode colour randomisation
     * ({@code render.color_randomization}) is not applied here: see {@link #withRandomizedColors}.
     */
    public static RenderParams fromConfig(EnvConfig config, int size) {
        return new RenderParams(size, config.color("render.table_color"), config.color("render.block_color"),
                config.color("render.pusher_color"), config.color("render.goal_color"), config.number("render.shading"),
                config.number("render.camera_dx"), config.number("render.camera_dy"),
                config.number("render.camera_rotation_deg"));
    }

    /**
     * Domain randomisation of colours for one episode: every channel of every colour multiplied by its own factor
     * 1 + u, u uniform in [-range, range], clamped to 0..255 (so range 0.15 is "+-15%"). Deterministic for the
     * generator's state; draws 12 numbers from it.
     */
    public RenderParams withRandomizedColors(double range, SplittableRandom rng) {
        if (!(range >= 0 && range <= 1)) {
            throw new IllegalArgumentException("render.color_randomization must be in [0, 1], got " + range);
        }
        if (range == 0) return this;
        return new RenderParams(size, jitter(tableColor, range, rng), jitter(blockColor, range, rng),
                jitter(pusherColor, range, rng), jitter(goalColor, range, rng), shading, cameraDx, cameraDy,
                cameraRotationDeg);
    }

    /** The same look at another image size. */
    public RenderParams withSize(int newSize) {
        return new RenderParams(newSize, tableColor, blockColor, pusherColor, goalColor, shading, cameraDx, cameraDy,
                cameraRotationDeg);
    }

    /** Colours are copies: the record's arrays must not change under a renderer that read them. */
    @Override
    public int[] tableColor() {
        return tableColor.clone();
    }

    @Override
    public int[] blockColor() {
        return blockColor.clone();
    }

    @Override
    public int[] pusherColor() {
        return pusherColor.clone();
    }

    @Override
    public int[] goalColor() {
        return goalColor.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RenderParams r && size == r.size && Arrays.equals(tableColor, r.tableColor)
                && Arrays.equals(blockColor, r.blockColor) && Arrays.equals(pusherColor, r.pusherColor)
                && Arrays.equals(goalColor, r.goalColor) && Double.compare(shading, r.shading) == 0
                && Double.compare(cameraDx, r.cameraDx) == 0 && Double.compare(cameraDy, r.cameraDy) == 0
                && Double.compare(cameraRotationDeg, r.cameraRotationDeg) == 0;
    }

    @Override
    public int hashCode() {
        int h = size;
        for (int[] c : new int[][] {tableColor, blockColor, pusherColor, goalColor}) h = 31 * h + Arrays.hashCode(c);
        h = 31 * h + Double.hashCode(shading);
        h = 31 * h + Double.hashCode(cameraDx);
        h = 31 * h + Double.hashCode(cameraDy);
        return 31 * h + Double.hashCode(cameraRotationDeg);
    }

    @Override
    public String toString() {
        return String.format("RenderParams[size=%d, table=%s, block=%s, pusher=%s, goal=%s, shading=%s, camera=(%s, %s,"
                        + " %s deg)]", size, Arrays.toString(tableColor), Arrays.toString(blockColor),
                Arrays.toString(pusherColor), Arrays.toString(goalColor), shading, cameraDx,
                cameraDy, cameraRotationDeg);
    }

    private static int[] jitter(int[] rgb, double range, SplittableRandom rng) {
        int[] out = new int[3];
        for (int i = 0; i < 3; i++) {
            double f = 1 + range * (2 * rng.nextDouble() - 1);
            out[i] = (int) Math.max(0, Math.min(255, Math.round(rgb[i] * f)));
        }
        return out;
    }

    private static int[] checkColor(String name, int[] rgb) {
        if (rgb == null || rgb.length != 3) {
            throw new IllegalArgumentException(name + " must be an RGB triple [r, g, b], got "
                    + (rgb == null ? "null" : Arrays.toString(rgb)));
        }
        for (int c : rgb) {
            if (c < 0 || c > 255) {
                throw new IllegalArgumentException(name + " components must be in 0..255, got "
                        + Arrays.toString(rgb));
            }
        }
        return rgb.clone();
    }

    private static void checkRange(String name, double v, double max) {
        if (!(Math.abs(v) <= max)) {
            throw new IllegalArgumentException(name + " must be in [-" + max + ", " + max + "], got " + v);
        }
    }
}
