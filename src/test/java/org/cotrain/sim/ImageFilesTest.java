package org.cotrain.sim;

import static org.bytedeco.opencv.global.opencv_imgcodecs.imread;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.indexer.UByteIndexer;
import org.bytedeco.opencv.opencv_core.Mat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PNG frames and labelled grids read back with the right size and colours. */
class ImageFilesTest {
    @TempDir
    Path dir;

    /** The RGB colour at (row, col) of a PNG read back by OpenCV (which reads BGR). */
    private static int[] rgbAt(Mat bgr, int row, int col) {
        try (UByteIndexer ix = bgr.createIndexer()) {
            return new int[] {ix.get(row, col, 2), ix.get(row, col, 1), ix.get(row, col, 0)};
        }
    }

    private static byte[] solid(int size, int r, int g, int b) {
        byte[] img = new byte[size * size * 3];
        for (int i = 0; i < size * size; i++) {
            img[3 * i] = (byte) r;
            img[3 * i + 1] = (byte) g;
            img[3 * i + 2] = (byte) b;
        }
        return img;
    }

    @Test
    void pngRoundTripsExactly() throws Exception {
        byte[] frame;
        try (Renderer r = new Renderer(BlockShape.tee(), new Pose(256, 256, Math.PI / 4), 15,
                RenderParams.defaults(96))) {
            frame = new byte[r.frameBytes()];
            r.render(180, 200, 1.0, 300, 120, frame);
        }
        Path png = dir.resolve("sub/frame.png");
        ImageFiles.writePng(frame, 96, 96, png);
        try (Mat m = imread(png.toString())) {
            assertEquals(96, m.rows());
            assertEquals(96, m.cols());
            for (int i = 0; i < 96; i += 7) {
                for (int j = 0; j < 96; j += 5) {
                    int o = 3 * (i * 96 + j);
                    assertArrayEquals(new int[] {frame[o] & 0xff, frame[o + 1] & 0xff, frame[o + 2] & 0xff},
                            rgbAt(m, i, j), "pixel " + i + ", " + j);
                }
            }
        }
    }

    @Test
    void gridTilesFramesWithLabels() throws Exception {
        List<byte[]> frames = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (int k = 0; k < 5; k++) {
            frames.add(solid(96, 40 * k, 200, 255 - 40 * k));
            labels.add("source-visual-" + k + " with a long label that must shrink to fit");
        }
        Path png = dir.resolve("grid.png");
        ImageFiles.writeGrid(frames, 96, 3, labels, png);
        int tile = 192, pad = ImageFiles.PAD, label = ImageFiles.LABEL_HEIGHT;
        try (Mat m = imread(png.toString())) {
            assertEquals(pad + 3 * (tile + pad), m.cols());
            assertEquals(pad + 2 * (tile + label + pad), m.rows());
            for (int k = 0; k < 5; k++) {
                int x = pad + (k % 3) * (tile + pad), y = pad + (k / 3) * (tile + label + pad);
                assertArrayEquals(new int[] {40 * k, 200, 255 - 40 * k}, rgbAt(m, y + tile / 2, x + tile / 2));
                assertArrayEquals(new int[] {40 * k, 200, 255 - 40 * k}, rgbAt(m, y, x));
                assertArrayEquals(new int[] {40 * k, 200, 255 - 40 * k}, rgbAt(m, y + tile - 1, x + tile - 1));
                // Some dark text in the label row.
                int dark = 0;
                for (int j = x; j < x + tile; j++) {
                    for (int i = y + tile; i < y + tile + label; i++) if (rgbAt(m, i, j)[0] < 128) dark++;
                }
                assertTrue(dark > 20, "label " + k + " has " + dark + " dark pixels");
            }
            assertArrayEquals(new int[] {255, 255, 255}, rgbAt(m, m.rows() - 2, m.cols() - 2), "empty cell");
        }
        ImageFiles.writeGrid(frames, 96, List.of(), dir.resolve("nolabels.png"));
        assertTrue(Files.size(dir.resolve("nolabels.png")) > 0);
    }

    @Test
    void badInputIsRejected() {
        byte[] f = solid(96, 1, 2, 3);
        Path png = dir.resolve("x.png");
        assertThrows(IllegalArgumentException.class, () -> ImageFiles.writePng(f, 96, 96, dir.resolve("x.jpg")));
        assertThrows(IllegalArgumentException.class, () -> ImageFiles.writePng(f, 95, 96, png));
        assertThrows(IllegalArgumentException.class, () -> ImageFiles.writeGrid(List.of(), 96, 2, List.of(), png));
        assertThrows(IllegalArgumentException.class, () -> ImageFiles.writeGrid(List.of(f), 96, 2, List.of("a", "b"),
                png));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ImageFiles.writeGrid(List.of(f, new byte[5]), 96, 2, List.of(), png));
        assertTrue(e.getMessage().contains("frames[1]"), e.getMessage());
    }
}
