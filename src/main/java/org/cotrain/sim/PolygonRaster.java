package org.cotrain.sim;

/**
 * Exact-area anti-aliased rasterization of polygons into an RGB image: each pixel gets the fraction of its square
 * that the polygon covers (a box filter, computed analytically), and the colour is blended by that fraction.
 *
 * <p>Why not OpenCV's {@code fillPoly(..., LINE_AA, shift)}: it rounds every vertex's y to a whole pixel row (its
 * sub-pixel {@code shift} only acts on x) and draws a one-pixel anti-aliased line over the filled edges, so at 96 x 96
 * (5.3 workspace pixels per image pixel) a block moving down jumps by whole rows, not monotonically, and is drawn
 * about 0.6 pixel fatter on every side. A policy that must place the block within a few workspace pixels needs to see
 * sub-pixel motion in both directions.
 *
 * <p>Method (signed-area accumulation, as in font rasterizers such as font-rs): every directed edge adds, to the cells
 * of each row it crosses, the signed area between itself and the cell's right side, split between the cell it passes
 * through and the next; a running sum along the row then gives, for each pixel, the signed area of the polygon
 * inside it. For a simple polygon (either orientation) the absolute value, capped at 1, is the exact coverage, and
 * several polygons added with weights give their weighted sum (used for the soft shadow). Edges are clipped
 * exactly: above and below the image by starting and ending rows; left of the image by moving the outside part onto
 * x = 0 (everything left of a pixel only counts through its total signed height, which that preserves); right of it
 * onto x = width, a padding column that is never read.
 *
 * <p>Coordinates: pixel (row i, column j) is the square [j, j + 1) x [i, i + 1). Doubles throughout: deterministic
 * (Java floating point is strict) and exact to rounding. No allocation after construction; not thread-safe.
 */
final class PolygonRaster {

    private final int width, height, stride;
    private final double[] acc; // (height, width + 2): signed-area contributions, zero between uses
    // Cells touched since the last composite (inclusive bounds, clamped to the buffer).
    private int minRow, maxRow, minCol, maxCol;

    PolygonRaster(int width, int height) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("raster size must be > 0, got " + width + " x " + height);
        }
        this.width = width;
        this.height = height;
        stride = width + 2;
        acc = new double[height * stride];
        resetBounds();
    }

    /** Adds the polygon (xs, ys)[0..n) in image coordinates, with a weight (1 for a plain fill). */
    void addPolygon(double[] xs, double[] ys, int n, double weight) {
        for (int k = 0, prev = n - 1; k < n; prev = k++) addEdge(xs[prev], ys[prev], xs[k], ys[k], weight);
    }

    /**
     * Blends color (RGB 0..255) over the image (width * height * 3 bytes, RGB, HWC) by the accumulated coverage,
     * then clears the accumulator: out = out + (color - out) * coverage, rounded.
     */
    void fill(byte[] image, int r, int g, int b) {
        composite(image, r, g, b, 0);
    }

    /** Darkens the image by the accumulated coverage: out = out * (1 - strength * coverage); then clears. */
    void darken(byte[] image, double strength) {
        composite(image, 0, 0, 0, strength);
    }

    private void composite(byte[] image, int r, int g, int b, double darken) {
        if (minRow > maxRow) return; // nothing added
        for (int i = minRow; i <= maxRow; i++) {
            int row = i * stride;
            double sum = 0;
            for (int j = minCol; j <= maxCol; j++) {
                sum += acc[row + j];
                acc[row + j] = 0;
                if (j >= width) continue; // padding column: outside the image
                double cover = Math.min(1.0, Math.abs(sum));
                if (cover < 1e-9) continue;
                int o = 3 * (i * width + j);
                if (darken > 0) {
                    double f = 1 - darken * cover;
                    image[o] = (byte) (int) ((image[o] & 0xff) * f + 0.5);
                    image[o + 1] = (byte) (int) ((image[o + 1] & 0xff) * f + 0.5);
                    image[o + 2] = (byte) (int) ((image[o + 2] & 0xff) * f + 0.5);
                } else {
                    int v0 = image[o] & 0xff, v1 = image[o + 1] & 0xff, v2 = image[o + 2] & 0xff;
                    image[o] = (byte) (int) (v0 + (r - v0) * cover + 0.5);
                    image[o + 1] = (byte) (int) (v1 + (g - v1) * cover + 0.5);
                    image[o + 2] = (byte) (int) (v2 + (b - v2) * cover + 0.5);
                }
            }
        }
        resetBounds();
    }

    private void resetBounds() {
        minRow = Integer.MAX_VALUE;
        maxRow = Integer.MIN_VALUE;
        minCol = Integer.MAX_VALUE;
        maxCol = Integer.MIN_VALUE;
    }

    /** One directed edge, split where it leaves the image sideways; outside parts are moved onto x = 0 or width. */
    private void addEdge(double x0, double y0, double x1, double y1, double w) {
        if (y0 == y1) return; // horizontal edges add no area
        double lo = 0, hi = width;
        if ((x0 < lo) != (x1 < lo) || (x0 > hi) != (x1 > hi)) {
            // Cut at the crossings with x = 0 and x = width, in order along the edge (at most two).
            double dx = x1 - x0, dy = y1 - y0;
            double ta = (x0 < lo) != (x1 < lo) ? (lo - x0) / dx : 2;
            double tb = (x0 > hi) != (x1 > hi) ? (hi - x0) / dx : 2;
            double t1 = Math.min(ta, tb), t2 = Math.max(ta, tb);
            double xa = x0 + t1 * dx, ya = y0 + t1 * dy;
            addClamped(x0, y0, xa, ya, w);
            if (t2 <= 1) {
                double xb = x0 + t2 * dx, yb = y0 + t2 * dy;
                addClamped(xa, ya, xb, yb, w);
                addClamped(xb, yb, x1, y1, w);
            } else {
                addClamped(xa, ya, x1, y1, w);
            }
        } else {
            addClamped(x0, y0, x1, y1, w);
        }
    }

    private void addClamped(double x0, double y0, double x1, double y1, double w) {
        double hi = width;
        addLine(Math.max(0, Math.min(hi, x0)), y0, Math.max(0, Math.min(hi, x1)), y1, w);
    }

    /** An edge with 0 <= x <= width: its signed-area contributions, row by row (y clipped to the image). */
    private void addLine(double x0, double y0, double x1, double y1, double w) {
        if (y0 == y1) return;
        // Walk downwards; an upward edge counts negatively (dir), so that a polygon's edges sum to +-its coverage.
        double dir = w;
        if (y0 > y1) {
            double t = x0;
            x0 = x1;
            x1 = t;
            t = y0;
            y0 = y1;
            y1 = t;
            dir = -w;
        }
        double dxdy = (x1 - x0) / (y1 - y0);
        double top = Math.max(0, y0), bottom = Math.min(height, y1);
        if (top >= bottom) return;
        double x = x0 + (top - y0) * dxdy;
        int rowStart = (int) top, rowEnd = (int) Math.ceil(bottom) - 1;
        for (int i = rowStart; i <= rowEnd; i++) {
            double dy = Math.min(i + 1, bottom) - Math.max(i, top); // the edge's height within row i
            double xNext = x + dxdy * dy;
            double d = dy * dir;
            double xl = Math.min(x, xNext), xr = Math.max(x, xNext);
            int row = i * stride;
            int jl = (int) xl; // x >= 0: truncation is floor
            int jr = (int) Math.ceil(xr);
            if (jr <= jl + 1) {
                // Within one cell: the area right of the edge in that cell, (1 - mean x offset) of it; the rest of
                // the height goes to the next cell, so that the running sum carries the full d beyond.
                double xm = 0.5 * (x + xNext) - jl;
                acc[row + jl] += d * (1 - xm);
                acc[row + jl + 1] += d * xm;
                touch(i, jl, jl + 1);
            } else {
                // Across several cells: the edge's height is spread over x in proportion 1 / (xr - xl); the first and
                // last cells get the triangles, the middle ones full columns.
                double s = 1 / (xr - xl);
                double fl = xl - jl;
                double a0 = 0.5 * s * (1 - fl) * (1 - fl);
                double fr = xr - jr + 1;
                double am = 0.5 * s * fr * fr;
                acc[row + jl] += d * a0;
                if (jr == jl + 2) {
                    acc[row + jl + 1] += d * (1 - a0 - am);
                } else {
                    double a1 = s * (1.5 - fl);
                    acc[row + jl + 1] += d * (a1 - a0);
                    for (int j = jl + 2; j < jr - 1; j++) acc[row + j] += d * s;
                    double a2 = a1 + (jr - jl - 3) * s;
                    acc[row + jr - 1] += d * (1 - a2 - am);
                }
                acc[row + jr] += d * am;
                touch(i, jl, jr);
            }
            x = xNext;
        }
    }

    private void touch(int row, int colLo, int colHi) {
        if (row < minRow) minRow = row;
        if (row > maxRow) maxRow = row;
        if (colLo < minCol) minCol = colLo;
        if (colHi > maxCol) maxCol = colHi;
    }
}
