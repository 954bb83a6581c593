package org.cotrain.sim;

import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imwrite;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_RGB2BGR;
import static org.bytedeco.opencv.global.opencv_imgproc.FONT_HERSHEY_SIMPLEX;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_NEAREST;
import static org.bytedeco.opencv.global.opencv_imgproc.LINE_AA;
import static org.bytedeco.opencv.global.opencv_imgproc.cvtColor;
import static org.bytedeco.opencv.global.opencv_imgproc.getTextSize;
import static org.bytedeco.opencv.global.opencv_imgproc.putText;
import static org.bytedeco.opencv.global.opencv_imgproc.resize;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Point;
import org.bytedeco.opencv.opencv_core.Rect;
import org.bytedeco.opencv.opencv_core.Scalar;
import org.bytedeco.opencv.opencv_core.Size;

/**
 * Writing rendered frames (RGB uint8, HWC) as PNG files: one frame, or a labelled grid of frames so that a person
 * can see what each environment preset looks like ({@code ./cotrain render}).
 */
public final class ImageFiles {

    /** Grid tiles are shown at least this large (small observations are enlarged by whole factors). */
    static final int MIN_TILE = 192;
    static final int PAD = 6;
    static final int LABEL_HEIGHT = 22;

    private ImageFiles() {}

    /** Writes an RGB image (width * height * 3 bytes, HWC) as a PNG file; the path must end in .png. */
    public static void writePng(byte[] rgb, int width, int height, Path out) throws IOException {
        checkPng(out);
        if (width <= 0 || height <= 0) throw new IllegalArgumentException("width and height must be > 0");
        checkFrame("rgb", rgb, width, height);
        try (Mat m = matOf(rgb, width, height)) {
            write(m, out);
        }
    }

    /**
     * Writes frames (each size * size * 3 bytes, RGB, HWC) as one PNG grid, {@code columns} tiles per row, each
     * tile enlarged by a whole factor to at least {@value #MIN_TILE} pixels (nearest neighbour: the pixels a
     * policy sees stay visible) with its label underneath (labels may be empty: no label row).
     */
    public static void writeGrid(List<byte[]> frames, int size, int columns, List<String> labels, Path out)
            throws IOException {
        checkPng(out);
        if (frames == null || frames.isEmpty()) throw new IllegalArgumentException("frames must not be empty");
        if (size <= 0) throw new IllegalArgumentException("size must be > 0, got " + size);
        if (columns <= 0) throw new IllegalArgumentException("columns must be > 0, got " + columns);
        if (labels == null) labels = List.of();
        if (!labels.isEmpty() && labels.size() != frames.size()) {
            throw new IllegalArgumentException("labels (" + labels.size() + ") must be empty or one per frame ("
                    + frames.size() + ")");
        }
        for (int i = 0; i < frames.size(); i++) checkFrame("frames[" + i + "]", frames.get(i), size, size);
        int factor = Math.max(1, (MIN_TILE + size - 1) / size);
        int tile = size * factor;
        int labelRow = labels.isEmpty() ? 0 : LABEL_HEIGHT;
        int cols = Math.min(columns, frames.size());
        int rows = (frames.size() + columns - 1) / columns;
        int width = PAD + cols * (tile + PAD);
        int height = PAD + rows * (tile + labelRow + PAD);
        try (Scalar white = new Scalar(255, 255, 255, 0); Scalar black = new Scalar(30, 30, 30, 0);
             Mat grid = new Mat(height, width, CV_8UC3, white); Size tileSize = new Size(tile, tile)) {
            for (int i = 0; i < frames.size(); i++) {
                int x = PAD + (i % columns) * (tile + PAD), y = PAD + (i / columns) * (tile + labelRow + PAD);
                try (Mat frame = matOf(frames.get(i), size, size); Rect r = new Rect(x, y, tile, tile);
                     Mat dst = new Mat(grid, r)) {
                    resize(frame, dst, tileSize, 0, 0, INTER_NEAREST);
                }
                if (!labels.isEmpty()) putLabel(grid, labels.get(i), x, y + tile, tile, black);
            }
            write(grid, out);
        }
    }

    /** writeGrid with as many columns as make the grid roughly square. */
    public static void writeGrid(List<byte[]> frames, int size, List<String> labels, Path out) throws IOException {
        int columns = (int) Math.ceil(Math.sqrt(frames == null ? 1 : Math.max(1, frames.size())));
        writeGrid(frames, size, columns, labels, out);
    }

    /** A label in the row under a tile, shrunk until it fits the tile's width. */
    private static void putLabel(Mat grid, String label, int x, int y, int width, Scalar color) {
        if (label == null || label.isEmpty()) return;
        double scale = 0.5;
        try (IntPointer baseline = new IntPointer(1)) {
            while (scale > 0.2) {
                try (Size s = getTextSize(label, FONT_HERSHEY_SIMPLEX, scale, 1, baseline)) {
                    if (s.width() <= width) break;
                }
                scale *= 0.9;
            }
        }
        try (Point at = new Point(x + 2, y + LABEL_HEIGHT - 7)) {
            putText(grid, label, at, FONT_HERSHEY_SIMPLEX, scale, color, 1, LINE_AA, false);
        }
    }

    /** A new RGB Mat holding a copy of the bytes. */
    static Mat matOf(byte[] rgb, int width, int height) {
        Mat m = new Mat(height, width, CV_8UC3);
        m.data().capacity(rgb.length).put(rgb, 0, rgb.length);
        return m;
    }

    /** imwrite expects BGR; the frames are RGB. */
    private static void write(Mat rgb, Path out) throws IOException {
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        try (Mat bgr = new Mat()) {
            cvtColor(rgb, bgr, COLOR_RGB2BGR);
            if (!imwrite(out.toString(), bgr)) throw new IOException("could not write image " + out);
        }
    }

    private static void checkPng(Path out) {
        if (out == null) throw new IllegalArgumentException("out must not be null");
        if (!out.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png")) {
            throw new IllegalArgumentException("out must be a .png file, got " + out);
        }
    }

    private static void checkFrame(String name, byte[] rgb, int width, int height) {
        if (rgb == null || rgb.length != width * height * 3) {
            throw new IllegalArgumentException(name + " must hold " + width + " x " + height + " x 3 = "
                    + width * height * 3 + " bytes, got " + (rgb == null ? "null" : rgb.length));
        }
    }
}
