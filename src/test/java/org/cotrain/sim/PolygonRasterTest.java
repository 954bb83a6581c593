package org.cotrain.sim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Exact-area coverage: pixel values against analytic areas, clipping at every side, both orientations. */
class PolygonRasterTest {

    private static final int W = 24, H = 20;

    /** Coverage of every pixel (0..1, quantised to 1/255) after filling white over black. */
    private static double[] coverage(double[] xs, double[] ys) {
        PolygonRaster r = new PolygonRaster(W, H);
        byte[] img = new byte[W * H * 3];
        r.addPolygon(xs, ys, xs.length, 1);
        r.fill(img, 255, 255, 255);
        double[] c = new double[W * H];
        for (int p = 0; p < W * H; p++) {
            assertEquals(img[3 * p] & 0xff, img[3 * p + 1] & 0xff);
            c[p] = (img[3 * p] & 0xff) / 255.0;
        }
        return c;
    }

    private static double sum(double[] c) {
        double s = 0;
        for (double v : c) s += v;
        return s;
    }

    /** Analytic coverage of pixel (i, j) by the axis-aligned rectangle [x0, x1] x [y0, y1]. */
    private static double rectCover(int i, int j, double x0, double y0, double x1, double y1) {
        double w = Math.max(0, Math.min(j + 1, x1) - Math.max(j, x0));
        double h = Math.max(0, Math.min(i + 1, y1) - Math.max(i, y0));
        return w * h;
    }

    @Test
    void rectanglesMatchTheAnalyticCoveragePerPixel() {
        SplittableRandom rng = new SplittableRandom(1);
        for (int t = 0; t < 200; t++) {
            // Some rectangles stick out of the image on any side, some lie wholly outside.
            double x0 = -8 + 36 * rng.nextDouble(), y0 = -8 + 30 * rng.nextDouble();
            double x1 = x0 + 0.2 + 12 * rng.nextDouble(), y1 = y0 + 0.2 + 12 * rng.nextDouble();
            double[] xs = {x0, x1, x1, x0}, ys = {y0, y0, y1, y1};
            boolean reversed = rng.nextBoolean(); // either orientation covers the same pixels
            if (reversed) {
                xs = new double[] {x0, x0, x1, x1};
                ys = new double[] {y0, y1, y1, y0};
            }
            double[] c = coverage(xs, ys);
            for (int i = 0; i < H; i++) {
                for (int j = 0; j < W; j++) {
                    assertEquals(rectCover(i, j, x0, y0, x1, y1), c[i * W + j], 0.5 / 255 + 1e-12,
                            "pixel " + i + "," + j + " of [" + x0 + "," + x1 + "]x[" + y0 + "," + y1 + "]");
                }
            }
        }
    }

    @Test
    void rotatedConcaveShapeCoversItsArea() {
        SplittableRandom rng = new SplittableRandom(2);
        BlockShape tee = BlockShape.tee();
        double[][] outline = tee.outline();
        for (int t = 0; t < 100; t++) {
            // A T of 9.6 x 9.6 pixels turned about its centroid, which keeps it within 6.4 pixels: inside the image.
            double th = 2 * Math.PI * rng.nextDouble(), s = 0.08;
            double cx = 7 + 10 * rng.nextDouble(), cy = 7 + 6 * rng.nextDouble();
            double[] xs = new double[outline.length], ys = new double[outline.length];
            double[][] world = new double[outline.length][];
            for (int k = 0; k < outline.length; k++) {
                double bx = s * (outline[k][0] - tee.centroidX()), by = s * (outline[k][1] - tee.centroidY());
                xs[k] = cx + Math.cos(th) * bx - Math.sin(th) * by;
                ys[k] = cy + Math.sin(th) * bx + Math.cos(th) * by;
                world[k] = new double[] {xs[k], ys[k]};
            }
            double[] c = coverage(xs, ys);
            assertEquals(6300 * s * s, sum(c), W * H * 0.5 / 255, "area at " + th);
            // Pixels well inside are full, well outside empty.
            for (int i = 0; i < H; i++) {
                for (int j = 0; j < W; j++) {
                    double d = Polygons.distanceToBoundary(world, j + 0.5, i + 0.5);
                    if (d < 0.75) continue; // half the pixel's diagonal
                    double expected = Polygons.contains(world, j + 0.5, i + 0.5) ? 1 : 0;
                    assertEquals(expected, c[i * W + j], 1e-12, "pixel " + i + "," + j);
                }
            }
        }
    }

    @Test
    void shapesOutsideTheImageDrawNothingAndCoveringShapesFillAll() {
        assertEquals(0, sum(coverage(new double[] {-30, -5, 30}, new double[] {-10, 0, -1})), "above");
        assertEquals(0, sum(coverage(new double[] {-9, -2, -2, -9}, new double[] {2, 2, 9, 9})), "left");
        assertEquals(0, sum(coverage(new double[] {30, 40, 40, 30}, new double[] {2, 2, 9, 9})), "right");
        assertEquals(0, sum(coverage(new double[] {2, 9, 9, 2}, new double[] {25, 25, 40, 40})), "below");
        assertEquals(W * H, sum(coverage(new double[] {-50, 80, 80, -50}, new double[] {-50, -50, 70, 70})), 1e-9);
        // A triangle that leaves through the left and right sides at once.
        double[] c = coverage(new double[] {-10, 40, 12}, new double[] {5, 5, 15});
        double inside = 0;
        for (int i = 0; i < H; i++) {
            for (int j = 0; j < W; j++) inside += c[i * W + j];
        }
        // Area of the triangle within 0 <= x <= 24 by a fine midpoint rule.
        double[][] tri = {{-10, 5}, {40, 5}, {12, 15}};
        double ref = 0, h = 0.01;
        for (double y = 5 + h / 2; y < 15; y += h) {
            for (double x = h / 2; x < W; x += h) if (Polygons.contains(tri, x, y)) ref += h * h;
        }
        assertEquals(ref, inside, 0.05);
    }

    @Test
    void weightedSamplesAverageAndDarkenScales() {
        PolygonRaster r = new PolygonRaster(W, H);
        byte[] img = new byte[W * H * 3];
        Arrays.fill(img, (byte) 200);
        double[] xs = {2, 6, 6, 2}, ys = {2, 2, 6, 6};
        r.addPolygon(xs, ys, 4, 0.5);
        r.addPolygon(new double[] {4, 8, 8, 4}, ys, 4, 0.5);
        r.darken(img, 0.5);
        // x in [4, 6): both halves, coverage 1, so 200 * 0.5; x in [2, 4) one half: 200 * 0.75; [8, ...) untouched.
        assertEquals(100, img[3 * (3 * W + 5)] & 0xff);
        assertEquals(150, img[3 * (3 * W + 3)] & 0xff);
        assertEquals(150, img[3 * (3 * W + 7)] & 0xff);
        assertEquals(200, img[3 * (3 * W + 9)] & 0xff);
        // The accumulator is clear after compositing: filling with nothing added changes nothing.
        byte[] before = img.clone();
        r.fill(img, 0, 0, 0);
        assertArrayEquals(before, img);
        assertThrows(IllegalArgumentException.class, () -> new PolygonRaster(0, 5));
    }
}
