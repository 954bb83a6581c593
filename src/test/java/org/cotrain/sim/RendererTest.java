package org.cotrain.sim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Pixel-level sanity of the renderer: colours where the objects are, exact areas, sub-pixel and camera motion,
 * shading, determinism, parameter checks.
 */
class RendererTest {

    private static final Pose GOAL = new Pose(256, 256, Math.PI / 4);
    private static final int[] TABLE = {238, 238, 232}, BLOCK = {119, 136, 153}, PUSHER = {65, 105, 225},
            GOAL_COLOR = {144, 238, 144};

    private static RenderParams flat(int size) {
        return new RenderParams(size, TABLE, BLOCK, PUSHER, GOAL_COLOR, 0, 0, 0, 0);
    }

    private static RenderParams camera(int size, double dx, double dy, double rotDeg) {
        return new RenderParams(size, TABLE, BLOCK, PUSHER, GOAL_COLOR, 0, dx, dy, rotDeg);
    }

    private static int[] pixel(byte[] img, int size, int row, int col) {
        int o = 3 * (row * size + col);
        return new int[] {img[o] & 0xff, img[o + 1] & 0xff, img[o + 2] & 0xff};
    }

    /** The pixel containing workspace point (x, y) at zero camera offset. */
    private static int[] at(byte[] img, int size, double x, double y) {
        double s = size / 512.0;
        return pixel(img, size, (int) Math.floor(y * s), (int) Math.floor(x * s));
    }

    private static byte[] render(RenderParams p, double bx, double by, double th, double px, double py) {
        try (Renderer r = new Renderer(BlockShape.tee(), GOAL, 15, p)) {
            byte[] out = new byte[r.frameBytes()];
            r.render(bx, by, th, px, py, out);
            return out;
        }
    }

    @Test
    void objectsHaveTheirColours() {
        for (int size : new int[] {96, 512}) {
            for (double shading : new double[] {0, 0.5}) {
                RenderParams p = new RenderParams(size, TABLE, BLOCK, PUSHER, GOAL_COLOR, shading, 0, 0, 0);
                // Block at (100, 120) unrotated; pusher far from it and from the goal.
                byte[] img = render(p, 100, 120, 0, 400, 90);
                String where = "size " + size + " shading " + shading;
                assertArrayEquals(PUSHER, at(img, size, 400, 90), "pusher centre, " + where);
                assertArrayEquals(BLOCK, at(img, size, 100, 135), "middle of the bar, " + where);
                assertArrayEquals(BLOCK, at(img, size, 100, 190), "middle of the stem, " + where);
                // The goal T's stem is centred at body (0, 75): at 45 degrees that is (256 - 53, 256 + 53).
                double gx = 256 - 75 * Math.sin(Math.PI / 4), gy = 256 + 75 * Math.cos(Math.PI / 4);
                assertArrayEquals(GOAL_COLOR, at(img, size, gx, gy), "goal marker, " + where);
                if (shading == 0) {
                    assertArrayEquals(TABLE, at(img, size, 480, 480), "far table, " + where);
                    assertArrayEquals(TABLE, pixel(img, size, 0, 0), "corner, " + where);
                } else {
                    // The lighting gradient: brighter at the top left, darker at the bottom right, within 8% * shading.
                    int[] tl = pixel(img, size, 0, 0), br = pixel(img, size, size - 1, size - 1);
                    for (int c = 0; c < 3; c++) {
                        assertTrue(tl[c] >= TABLE[c] && br[c] < TABLE[c], where + " " + Arrays.toString(tl) + " "
                                + Arrays.toString(br));
                        assertTrue(TABLE[c] - br[c] <= Math.ceil(0.08 * shading * TABLE[c]), where);
                    }
                }
            }
        }
    }

    @Test
    void blockCoversWhatItsShapeCovers() {
        // At 512 pixels, one per workspace pixel: a pixel whose centre is 1.5 px inside the block's outline is
        // block-coloured, 1.5 px outside is not (anti-aliasing blends only the edge pixels).
        SplittableRandom rng = new SplittableRandom(2);
        BlockShape tee = BlockShape.tee();
        for (int t = 0; t < 5; t++) {
            Pose pose = new Pose(150 + 200 * rng.nextDouble(), 150 + 200 * rng.nextDouble(), 6 * rng.nextDouble());
            byte[] img = render(flat(512), pose.x(), pose.y(), pose.theta(), 15, 15);
            double[][] world = Polygons.transform(tee.outline(), pose);
            int checked = 0;
            for (int i = 0; i < 512; i += 3) {
                for (int j = 0; j < 512; j += 3) {
                    double x = j + 0.5, y = i + 0.5;
                    if (Math.hypot(x - 15, y - 15) < 20) continue; // the pusher
                    double d = Polygons.distanceToBoundary(world, x, y);
                    if (d < 1.5) continue;
                    boolean inside = Polygons.contains(world, x, y);
                    int[] px = pixel(img, 512, i, j);
                    if (inside) {
                        assertArrayEquals(BLOCK, px, "inside at " + x + ", " + y);
                        checked++;
                    } else {
                        assertFalse(Arrays.equals(BLOCK, px), "outside at " + x + ", " + y);
                    }
                }
            }
            assertTrue(checked > 500, "pixels inside checked: " + checked);
        }
    }

    @Test
    void cameraShiftMovesTheScene() {
        // 32 workspace px right and 16 up at 96 px is exactly 6 px right and 3 px up.
        int size = 96;
        byte[] a = render(flat(size), 200, 180, 0.7, 330, 300);
        byte[] b = render(camera(size, 32, -16, 0), 200, 180, 0.7, 330, 300);
        assertNotEquals(Arrays.hashCode(a), Arrays.hashCode(b));
        for (int i = 0; i < size; i++) {
            for (int j = 0; j < size; j++) {
                int si = i + 3, sj = j - 6; // where pixel (i, j) of b came from in a
                if (si < 0 || si >= size || sj < 0 || sj >= size) continue;
                assertArrayEquals(pixel(a, size, si, sj), pixel(b, size, i, j), "pixel " + i + ", " + j);
            }
        }
    }

    @Test
    void subPixelMotionIsSeenInBothDirections() {
        // Moving the block in steps of half a workspace pixel (0.09 image pixel at 96 x 96) moves its drawn centroid
        // by the same amount, across and down (OpenCV's fillPoly would move it down in whole-row jumps).
        int size = 96;
        double s = size / 512.0;
        for (double theta : new double[] {0, 0.3}) {
            double[] c0 = blockCentroid(render(flat(size), 200, 180, theta, 450, 450), size);
            for (double d = 0.5; d <= 6; d += 0.5) {
                double[] across = blockCentroid(render(flat(size), 200 + d, 180, theta, 450, 450), size);
                double[] down = blockCentroid(render(flat(size), 200, 180 + d, theta, 450, 450), size);
                assertEquals(d * s, across[0] - c0[0], 0.02, "across by " + d + " at " + theta);
                assertEquals(0, across[1] - c0[1], 0.02, "across by " + d + " at " + theta);
                assertEquals(d * s, down[1] - c0[1], 0.02, "down by " + d + " at " + theta);
                assertEquals(0, down[0] - c0[0], 0.02, "down by " + d + " at " + theta);
            }
        }
        // The camera shift does the same to the whole scene.
        double[] c1 = blockCentroid(render(camera(size, 5, 3, 0), 200, 180, 0.3, 450, 450), size);
        double[] c0 = blockCentroid(render(flat(size), 200, 180, 0.3, 450, 450), size);
        assertEquals(5 * s, c1[0] - c0[0], 0.01);
        assertEquals(3 * s, c1[1] - c0[1], 0.01);
    }

    @Test
    void drawnAreasAreTheTrueAreas() {
        // Exact-area anti-aliasing: the sum of each pixel's blend fraction is the shape's area in image pixels
        // (up to the 8-bit rounding of each pixel), at any pose.
        SplittableRandom rng = new SplittableRandom(6);
        for (int size : new int[] {96, 512}) {
            double s = size / 512.0;
            for (int t = 0; t < 10; t++) {
                double bx = 150 + 200 * rng.nextDouble(), by = 100 + 200 * rng.nextDouble(), th = 7 * rng.nextDouble();
                // The pusher in table colour: only the block shows; then the block in table colour.
                byte[] block = render(new RenderParams(size, TABLE, BLOCK, TABLE, TABLE, 0, 0, 0, 0), bx, by, th, 9, 9);
                byte[] disc = render(new RenderParams(size, TABLE, TABLE, BLOCK, TABLE, 0, 0, 0, 0), bx, by, th,
                        bx, by);
                double a = 0, b = 0;
                for (int p = 0; p < size * size; p++) {
                    a += (TABLE[1] - (block[3 * p + 1] & 0xff)) / (double) (TABLE[1] - BLOCK[1]);
                    b += (TABLE[1] - (disc[3 * p + 1] & 0xff)) / (double) (TABLE[1] - BLOCK[1]);
                }
                assertEquals(6300 * s * s, a, 0.002 * 6300 * s * s, "block area at size " + size);
                assertEquals(Math.PI * 15 * 15 * s * s, b, 0.003 * Math.PI * 15 * 15 * s * s, "disc at " + size);
            }
        }
    }

    /** Centroid (column, row) of "blockness": how far each pixel's green is from table towards block. */
    private static double[] blockCentroid(byte[] img, int size) {
        double sw = 0, sx = 0, sy = 0;
        for (int i = 0; i < 70; i++) { // the pusher is kept in the bottom-right corner, outside this window
            for (int j = 0; j < 70; j++) {
                // Green separates the block (136) from table and goal marker (both 238).
                double w = (TABLE[1] - pixel(img, size, i, j)[1]) / (double) (TABLE[1] - BLOCK[1]);
                if (w <= 0) continue;
                sw += w;
                sx += w * (j + 0.5);
                sy += w * (i + 0.5);
            }
        }
        return new double[] {sx / sw, sy / sw};
    }

    @Test
    void cameraRotationTurnsTheSceneAboutTheCentre() {
        // A quarter turn (y down: clockwise on screen) takes the workspace point (400, 256) to (256, 400).
        int size = 512;
        byte[] img = render(camera(size, 0, 0, 90), 60, 60, 0, 400, 256);
        assertArrayEquals(PUSHER, at(img, size, 256, 400));
        assertArrayEquals(TABLE, at(img, size, 400, 256));
        try (Renderer r = new Renderer(BlockShape.tee(), GOAL, 15, camera(size, 0, 0, 90))) {
            double[] uv = r.toImage(400, 256);
            assertEquals(256, uv[0], 1e-9);
            assertEquals(400, uv[1], 1e-9);
        }
    }

    @Test
    void shadowDarkensTheTableBelowRight() {
        int size = 512;
        RenderParams shaded = new RenderParams(size, TABLE, BLOCK, PUSHER, GOAL_COLOR, 1, 0, 0, 0);
        byte[] withShadow = render(shaded, 60, 400, 0, 100, 100);
        byte[] flatImg = render(flat(size), 60, 400, 0, 100, 100);
        // Outside the pusher (19 px from its centre) but inside its shadow (12 px from the shadow's centre).
        int[] s = at(withShadow, size, 113.6, 113.6), f = at(flatImg, size, 113.6, 113.6);
        assertArrayEquals(TABLE, f);
        for (int c = 0; c < 3; c++) assertTrue(f[c] - s[c] > 30, Arrays.toString(s) + " vs " + Arrays.toString(f));
        // Above-left of the pusher there is no shadow: only the gradient's brightening.
        int[] above = at(withShadow, size, 100, 80);
        for (int c = 0; c < 3; c++) assertTrue(above[c] >= TABLE[c], Arrays.toString(above));
    }

    @Test
    void renderingIsDeterministicAndReusesTheBuffer() {
        RenderParams p = RenderParams.defaults(96);
        SplittableRandom rng = new SplittableRandom(4);
        try (Renderer r1 = new Renderer(BlockShape.tee(), GOAL, 15, p);
             Renderer r2 = new Renderer(BlockShape.tee(), GOAL, 15, p)) {
            byte[] a = new byte[r1.frameBytes()], b = new byte[r2.frameBytes()];
            for (int t = 0; t < 20; t++) {
                double bx = 512 * rng.nextDouble(), by = 512 * rng.nextDouble(), th = 7 * rng.nextDouble();
                double px = 512 * rng.nextDouble(), py = 512 * rng.nextDouble();
                r1.render(bx, by, th, px, py, a);
                r2.render(0, 0, 0, 0, 0, b); // a different frame in between must leave no trace
                r2.render(bx, by, th, px, py, b);
                assertArrayEquals(a, b);
            }
        }
    }

    @Test
    void renderFromStateAndConfig() {
        PushState s = new PushState();
        s.px = 400;
        s.py = 90;
        s.bx = 100;
        s.by = 120;
        for (String preset : EnvPresets.names()) {
            try (Renderer r = Renderer.fromConfig(EnvPresets.get(preset), 96)) {
                byte[] img = new byte[r.frameBytes()];
                r.render(s, img);
                if (preset.equals("target")) {
                    assertArrayEquals(render(RenderParams.defaults(96), 100, 120, 0, 400, 90), img);
                }
            }
        }
    }

    @Test
    void setParamsChangesTheLookInPlace() {
        try (Renderer r = new Renderer(BlockShape.tee(), GOAL, 15, flat(96))) {
            byte[] img = new byte[r.frameBytes()];
            int[] red = {200, 30, 30};
            r.setParams(new RenderParams(96, TABLE, red, PUSHER, GOAL_COLOR, 0, 0, 0, 0));
            r.render(100, 120, 0, 400, 90, img);
            assertArrayEquals(red, at(img, 96, 100, 135));
            assertThrows(IllegalArgumentException.class, () -> r.setParams(flat(64)));
        }
    }

    @Test
    void colourRandomizationIsSeededAndBounded() {
        RenderParams p = RenderParams.defaults(96);
        assertEquals(p, p.withRandomizedColors(0, new SplittableRandom(1)));
        RenderParams a = p.withRandomizedColors(0.15, new SplittableRandom(42));
        RenderParams b = p.withRandomizedColors(0.15, new SplittableRandom(42));
        RenderParams c = p.withRandomizedColors(0.15, new SplittableRandom(43));
        assertEquals(a, b);
        assertNotEquals(a, c);
        int[][] base = {p.tableColor(), p.blockColor(), p.pusherColor(), p.goalColor()};
        int[][] jittered = {a.tableColor(), a.blockColor(), a.pusherColor(), a.goalColor()};
        for (int k = 0; k < 4; k++) {
            for (int ch = 0; ch < 3; ch++) {
                double expectedMax = Math.min(255, base[k][ch] * 1.15) + 0.5;
                assertTrue(jittered[k][ch] <= expectedMax && jittered[k][ch] >= base[k][ch] * 0.85 - 0.5,
                        Arrays.toString(base[k]) + " -> " + Arrays.toString(jittered[k]));
            }
        }
        assertThrows(IllegalArgumentException.class, () -> p.withRandomizedColors(1.5, new SplittableRandom(1)));
    }

    @Test
    void badParamsAreRejectedByName() {
        assertMessage(() -> new RenderParams(4, TABLE, BLOCK, PUSHER, GOAL_COLOR, 0, 0, 0, 0), "render size");
        assertMessage(() -> new RenderParams(96, new int[] {1, 2, 256}, BLOCK, PUSHER, GOAL_COLOR, 0, 0, 0, 0),
                "render.table_color");
        assertMessage(() -> new RenderParams(96, TABLE, new int[] {1, 2}, PUSHER, GOAL_COLOR, 0, 0, 0, 0),
                "render.block_color");
        assertMessage(() -> new RenderParams(96, TABLE, BLOCK, null, GOAL_COLOR, 0, 0, 0, 0), "render.pusher_color");
        assertMessage(() -> new RenderParams(96, TABLE, BLOCK, PUSHER, new int[] {-1, 0, 0}, 0, 0, 0, 0),
                "render.goal_color");
        assertMessage(() -> new RenderParams(96, TABLE, BLOCK, PUSHER, GOAL_COLOR, 1.5, 0, 0, 0), "render.shading");
        assertMessage(() -> new RenderParams(96, TABLE, BLOCK, PUSHER, GOAL_COLOR, Double.NaN, 0, 0, 0),
                "render.shading");
        assertMessage(() -> new RenderParams(96, TABLE, BLOCK, PUSHER, GOAL_COLOR, 0, 1000, 0, 0), "render.camera_dx");
        assertMessage(() -> new RenderParams(96, TABLE, BLOCK, PUSHER, GOAL_COLOR, 0, 0, Double.NaN, 0),
                "render.camera_dy");
        assertMessage(() -> new RenderParams(96, TABLE, BLOCK, PUSHER, GOAL_COLOR, 0, 0, 0, 180),
                "render.camera_rotation_deg");
        assertMessage(() -> new Renderer(BlockShape.tee(), GOAL, 0, flat(96)), "pusherRadius");
        assertMessage(() -> new Renderer(null, GOAL, 15, flat(96)), "shape");
        try (Renderer r = new Renderer(BlockShape.tee(), GOAL, 15, flat(96))) {
            assertMessage(() -> r.render(0, 0, 0, 0, 0, new byte[10]), "out must hold 27648");
            r.close();
            assertThrows(IllegalStateException.class, () -> r.render(0, 0, 0, 0, 0, new byte[27648]));
        }
        // The colour arrays are the record's own: changing a returned or passed array changes nothing.
        int[] mine = TABLE.clone();
        RenderParams p = new RenderParams(96, mine, BLOCK, PUSHER, GOAL_COLOR, 0, 0, 0, 0);
        mine[0] = 0;
        p.tableColor()[1] = 0;
        assertArrayEquals(TABLE, p.tableColor());
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable e, String part) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        assertTrue(x.getMessage().contains(part), "message lacks '" + part + "': " + x.getMessage());
    }
}
