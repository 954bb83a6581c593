package org.cotrain.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.indexer.UByteIndexer;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_videoio.VideoCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A short rollout video is written and read back with the right frame count, size and content. */
class VideoRecorderTest {
    @TempDir
    Path dir;

    @Test
    void writesAndReadsBack() throws Exception {
        Path avi = dir.resolve("videos/rollout.avi");
        int size = 128, n = 12;
        try (Renderer r = new Renderer(BlockShape.tee(), new Pose(256, 256, Math.PI / 4), 15,
                RenderParams.defaults(size)); VideoRecorder v = VideoRecorder.open(avi, size, size, 10)) {
            byte[] frame = new byte[r.frameBytes()];
            for (int t = 0; t < n; t++) {
                r.render(150 + 5 * t, 200, 0.1 * t, 400 - 10 * t, 100, frame);
                v.write(frame);
            }
            assertEquals(n, v.frames());
        }
        assertTrue(Files.size(avi) > 1000);
        try (VideoCapture cap = new VideoCapture(avi.toString()); Mat f = new Mat()) {
            assertTrue(cap.isOpened(), "OpenCV reads its own Motion-JPEG AVI");
            int read = 0;
            while (cap.read(f)) {
                assertEquals(size, f.rows());
                assertEquals(size, f.cols());
                if (read == 0) {
                    // JPEG is lossy: the far table corner is close to the table colour (238, 238, 232), in BGR.
                    try (UByteIndexer ix = f.createIndexer()) {
                        assertEquals(232, ix.get(size - 4, 3, 0), 12);
                        assertEquals(238, ix.get(size - 4, 3, 2), 12);
                    }
                }
                read++;
            }
            assertEquals(n, read);
        }
    }

    @Test
    void mp4AndBadInputAreRefusedClearly() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VideoRecorder.open(dir.resolve("a.mp4"), 96, 96, 10));
        assertTrue(e.getMessage().contains("no mp4 encoder"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("a.mp4")));
        assertThrows(IllegalArgumentException.class, () -> VideoRecorder.open(dir.resolve("a.mkv"), 96, 96, 10));
        assertThrows(IllegalArgumentException.class, () -> VideoRecorder.open(dir.resolve("a.avi"), 0, 96, 10));
        assertThrows(IllegalArgumentException.class, () -> VideoRecorder.open(dir.resolve("a.avi"), 96, 96, 0));
    }

    @Test
    void wrongFrameSizeIsRejected() throws Exception {
        try (VideoRecorder v = VideoRecorder.open(dir.resolve("b.avi"), 96, 64, 10)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> v.write(new byte[96 * 96 * 3]));
            assertTrue(e.getMessage().contains("96 x 64 x 3"), e.getMessage());
            v.write(new byte[96 * 64 * 3]);
            v.close();
            assertThrows(IllegalStateException.class, () -> v.write(new byte[96 * 64 * 3]));
        }
    }
}
