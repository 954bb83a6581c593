package org.cotrain.sim;

/**
 * Draws the pushing scene top-down into an RGB uint8 image (H, W, 3), HWC, row-major: the table (with a lighting
 * gradient), the goal marker, a soft drop shadow, the block and the pusher disc, all anti-aliased by exact area
 * coverage ({@link PolygonRaster}; OpenCV's polygon fill rounds vertical positions to whole rows, see there).
 *
 * <p>Workspace to image: a workspace point p (pixels of the 512 x 512 workspace, y down) is first moved by the camera,
 * q = R(rotation) (p - (256, 256)) + (256, 256) + (dx, dy), then scaled by size / 512. Pixel (row i, column j) is the
 * square [j, j + 1) x [i, i + 1) of scaled coordinates, so at zero camera offset the workspace [0, 512]^2 fills the
 * image exactly, and a workspace pixel at 96 x 96 is 0.1875 image pixel, visible as a change of edge coverage.
 *
 * <p>Per frame: one copy of the precomputed background (table, gradient and goal marker do not move), the shadow
 * (block and disc at {@value #SHADOW_SAMPLES} offsets, averaged: a penumbra), then the block and the pusher, each
 * touching only the cells around its edges and its bounding box. No allocation per frame; not thread-safe, one
 * Renderer per thread. Java floating point is strict, so a frame is a pure function of its inputs, bit-identical
 * across runs and machines.
 */
public final class Renderer implements AutoCloseable {

    /** Sides of the polygon that draws the pusher disc, of the disc's area (radial error under 0.25%). */
    static final int DISC_SIDES = 40;
    /** Drop-shadow offset, down and right (light from the top left), in workspace pixels. */
    static final double SHADOW_OFFSET = 5;
    /** Width of the shadow's soft edge in workspace pixels (the spread of its samples). */
    static final double SHADOW_PENUMBRA = 4;
    static final int SHADOW_SAMPLES = 4;
    /** Fraction of the light the shadow takes away at shading 1. */
    static final double SHADOW_STRENGTH = 0.35;
    /** Relative brightness change of the table's lighting gradient at each corner at shading 1. */
    static final double GRADIENT = 0.08;

    private final Pose goal;
    private final double pusherRadius;
    private final double[] outlineX, outlineY; // body frame (pixels), counter-clockwise
    private final double[] discX, discY;       // unit regular polygon of the unit disc's area
    private final double[] polyX, polyY;       // scratch: one polygon in image coordinates

    private final int size, frameBytes;
    private RenderParams params;
    // Camera: u = ax x - ay y + u0, v = ay x + ax y + v0 (image pixels from workspace pixels).
    private double ax, ay, u0, v0;
    private int blockR, blockG, blockB, pusherR, pusherG, pusherB;

    private byte[] background;
    private PolygonRaster raster;

    /**
     * A renderer of this scene: the block's shape, the goal pose (drawn as a marker), the pusher radius (workspace
     * pixels) and the look.
     */
    public Renderer(BlockShape shape, Pose goal, double pusherRadius, RenderParams params) {
        if (shape == null) throw new IllegalArgumentException("shape must not be null");
        if (goal == null) throw new IllegalArgumentException("goal must not be null");
        if (params == null) throw new IllegalArgumentException("params must not be null");
        if (!(pusherRadius > 0) || !Double.isFinite(pusherRadius)) {
            throw new IllegalArgumentException("pusherRadius must be > 0, got " + pusherRadius);
        }
        this.goal = goal;
        this.pusherRadius = pusherRadius;
        double[][] o = shape.outline();
        outlineX = new double[o.length];
        outlineY = new double[o.length];
        for (int k = 0; k < o.length; k++) {
            outlineX[k] = o[k][0];
            outlineY[k] = o[k][1];
        }
        // A regular N-gon of circumradius R has area (N / 2) R^2 sin(2 pi / N): this R gives the unit disc's area.
        double circumradius = Math.sqrt(2 * Math.PI / (DISC_SIDES * Math.sin(2 * Math.PI / DISC_SIDES)));
        discX = new double[DISC_SIDES];
        discY = new double[DISC_SIDES];
        for (int k = 0; k < DISC_SIDES; k++) {
            double a = 2 * Math.PI * k / DISC_SIDES;
            discX[k] = circumradius * Math.cos(a);
            discY[k] = circumradius * Math.sin(a);
        }
        polyX = new double[Math.max(o.length, DISC_SIDES)];
        polyY = new double[Math.max(o.length, DISC_SIDES)];
        size = params.size();
        frameBytes = size * size * 3;
        background = new byte[frameBytes];
        raster = new PolygonRaster(size, size);
        setParams(params);
    }

    /** A renderer for an environment config's shape, goal, pusher and render.* keys, at this image size. */
    public static Renderer fromConfig(EnvConfig config, int size) {
        return new Renderer(config.shape(), config.goal(), config.physics().pusherRadius(),
                RenderParams.fromConfig(config, size));
    }

    /**
     * Changes the look (e.g. per-episode colour randomisation) without reallocating; the size must stay the same.
     * Redraws the background.
     */
    public void setParams(RenderParams p) {
        checkOpen();
        if (p == null) throw new IllegalArgumentException("params must not be null");
        if (p.size() != size) {
            throw new IllegalArgumentException("params.size " + p.size() + " differs from this renderer's " + size);
        }
        params = p;
        double scale = size / RenderParams.WORKSPACE;
        double rot = Math.toRadians(p.cameraRotationDeg());
        double c = Math.cos(rot), s = Math.sin(rot), mid = RenderParams.WORKSPACE / 2;
        ax = scale * c;
        ay = scale * s;
        u0 = scale * (mid - c * mid + s * mid + p.cameraDx());
        v0 = scale * (mid - s * mid - c * mid + p.cameraDy());
        int[] block = p.blockColor(), pusher = p.pusherColor();
        blockR = block[0];
        blockG = block[1];
        blockB = block[2];
        pusherR = pusher[0];
        pusherG = pusher[1];
        pusherB = pusher[2];
        drawBackground();
    }

    public RenderParams params() {
        return params;
    }

    public int size() {
        return size;
    }

    /** Bytes of one frame: size * size * 3. */
    public int frameBytes() {
        return frameBytes;
    }

    /** Draws the state's block and pusher into out (size * size * 3 bytes, RGB, HWC). */
    public void render(PushState state, byte[] out) {
        render(state.bx, state.by, state.theta, state.px, state.py, out);
    }

    /**
     * Draws the block at body-origin pose (bx, by, theta) and the pusher centred at (px, py) (workspace pixels,
     * radians) into out (size * size * 3 bytes, RGB, HWC).
     */
    public void render(double bx, double by, double theta, double px, double py, byte[] out) {
        checkOpen();
        if (out == null || out.length != frameBytes) {
            throw new IllegalArgumentException("out must hold " + frameBytes + " bytes (" + size + " x " + size
                    + " x 3), got " + (out == null ? "null" : out.length));
        }
        System.arraycopy(background, 0, out, 0, frameBytes);
        double shading = params.shading();
        if (shading > 0) {
            // A soft shadow: block and disc moved down-right, at a 2 x 2 spread of offsets, averaged. It darkens
            // whatever lies under it (table or goal marker) by the same fraction.
            double w = 1.0 / SHADOW_SAMPLES;
            for (int k = 0; k < SHADOW_SAMPLES; k++) {
                double ox = SHADOW_OFFSET + SHADOW_PENUMBRA * ((k & 1) - 0.5);
                double oy = SHADOW_OFFSET + SHADOW_PENUMBRA * ((k >> 1) - 0.5);
                raster.addPolygon(polyX, polyY, loadBlock(bx, by, theta, ox, oy), w);
                raster.addPolygon(polyX, polyY, loadDisc(px, py, ox, oy), w);
            }
            raster.darken(out, SHADOW_STRENGTH * shading);
        }
        raster.addPolygon(polyX, polyY, loadBlock(bx, by, theta, 0, 0), 1);
        raster.fill(out, blockR, blockG, blockB);
        raster.addPolygon(polyX, polyY, loadDisc(px, py, 0, 0), 1);
        raster.fill(out, pusherR, pusherG, pusherB);
    }

    /** The image coordinates (column, row; continuous, pixel (i, j) spans [j, j + 1) x [i, i + 1)) of (x, y). */
    public double[] toImage(double x, double y) {
        return new double[] {ax * x - ay * y + u0, ay * x + ax * y + v0};
    }

    /** Releases the buffers; rendering afterwards is an error. */
    @Override
    public void close() {
        background = null;
        raster = null;
    }

    /**
     * The block's outline at the pose, moved by (ox, oy) image-aligned workspace pixels (the shadow's offset is
     * fixed to the light, not to the table), through the camera, into polyX/polyY; returns the vertex count.
     */
    private int loadBlock(double bx, double by, double theta, double ox, double oy) {
        double c = Math.cos(theta), s = Math.sin(theta), scale = size / RenderParams.WORKSPACE;
        double du = ox * scale, dv = oy * scale;
        for (int k = 0; k < outlineX.length; k++) {
            double x = bx + c * outlineX[k] - s * outlineY[k];
            double y = by + s * outlineX[k] + c * outlineY[k];
            polyX[k] = ax * x - ay * y + u0 + du;
            polyY[k] = ay * x + ax * y + v0 + dv;
        }
        return outlineX.length;
    }

    /** The pusher disc centred at (px, py), moved by (ox, oy) like {@link #loadBlock}; returns the vertex count. */
    private int loadDisc(double px, double py, double ox, double oy) {
        double scale = size / RenderParams.WORKSPACE;
        double cu = ax * px - ay * py + u0 + ox * scale, cv = ay * px + ax * py + v0 + oy * scale;
        double r = pusherRadius * scale; // the camera only rotates and shifts: the radius just scales
        for (int k = 0; k < DISC_SIDES; k++) {
            polyX[k] = cu + r * discX[k];
            polyY[k] = cv + r * discY[k];
        }
        return DISC_SIDES;
    }

    /** Table with its lighting gradient, and the goal marker: what every frame starts from. */
    private void drawBackground() {
        int[] table = params.tableColor();
        double g = GRADIENT * params.shading();
        for (int i = 0; i < size; i++) {
            for (int j = 0; j < size; j++) {
                // +g at the top-left corner, -g at the bottom-right: light falls from the top left.
                double f = 1 + g * (1 - (i + j + 1.0) / size);
                int o = 3 * (i * size + j);
                for (int ch = 0; ch < 3; ch++) {
                    background[o + ch] = (byte) Math.max(0, Math.min(255, Math.round(table[ch] * f)));
                }
            }
        }
        int[] goalColor = params.goalColor();
        raster.addPolygon(polyX, polyY, loadBlock(goal.x(), goal.y(), goal.theta(), 0, 0), 1);
        raster.fill(background, goalColor[0], goalColor[1], goalColor[2]);
    }

    private void checkOpen() {
        if (raster == null) throw new IllegalStateException("renderer is closed");
    }
}
