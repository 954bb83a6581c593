package org.cotrain.sim;

import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_RGB2BGR;
import static org.bytedeco.opencv.global.opencv_imgproc.cvtColor;
import static org.bytedeco.opencv.global.opencv_videoio.CAP_OPENCV_MJPEG;
import static org.bytedeco.opencv.global.opencv_videoio.VIDEOWRITER_PROP_QUALITY;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Size;
import org.bytedeco.opencv.opencv_videoio.VideoWriter;

/**
 * Writes rendered frames (RGB uint8, HWC) as a video file with OpenCV's VideoWriter, e.g. rollout videos.
 *
 * <p>Format: Motion-JPEG in an AVI container ({@code .avi}), OpenCV's built-in encoder. The bytedeco OpenCV build
 * this project uses (4.13.0-1.5.13) has no FFmpeg or GStreamer backend (its build information lists only v4l under
 * "Video I/O"), so it cannot write mp4: fourcc avc1 and mp4v both fail to open. A {@code .mp4} path is therefore
 * refused with that explanation rather than written as something else under an mp4 name. MJPEG AVI plays in VLC,
 * mpv, ffplay and most desktop players, and OpenCV's VideoCapture reads it back.
 */
public final class VideoRecorder implements AutoCloseable {

    /** JPEG quality of each frame, 0..100: high, since frames are small and flat-coloured. */
    static final int QUALITY = 95;

    private final Path path;
    private final int width, height;
    private final VideoWriter writer;
    private final Mat rgb, bgr;
    private final BytePointer rgbData;
    private final int frameBytes;
    private int frames;
    private boolean closed;

    private VideoRecorder(Path path, int width, int height, VideoWriter writer) {
        this.path = path;
        this.width = width;
        this.height = height;
        this.writer = writer;
        frameBytes = width * height * 3;
        rgb = new Mat(height, width, CV_8UC3);
        bgr = new Mat(height, width, CV_8UC3);
        rgbData = rgb.data().capacity(frameBytes);
    }

    /**
     * Opens a video file for frames of width x height pixels at fps frames per second. The path must end in
     * {@code .avi}; its folder is created if missing; an existing file is replaced.
     */
    public static VideoRecorder open(Path path, int width, int height, double fps) throws IOException {
        if (path == null) throw new IllegalArgumentException("path must not be null");
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".mp4")) {
            throw new IllegalArgumentException("cannot write " + path + ": this OpenCV build has no mp4 encoder (no"
                    + " FFmpeg); write an .avi (Motion-JPEG) instead");
        }
        if (!name.endsWith(".avi")) {
            throw new IllegalArgumentException("video path must end in .avi (Motion-JPEG), got " + path);
        }
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("width and height must be > 0, got " + width + " x " + height);
        }
        if (!(fps > 0) || !Double.isFinite(fps)) throw new IllegalArgumentException("fps must be > 0, got " + fps);
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        VideoWriter w = new VideoWriter();
        int mjpg = VideoWriter.fourcc((byte) 'M', (byte) 'J', (byte) 'P', (byte) 'G');
        boolean ok;
        try (Size frameSize = new Size(width, height)) {
            ok = w.open(path.toString(), CAP_OPENCV_MJPEG, mjpg, fps, frameSize,
                    new int[] {VIDEOWRITER_PROP_QUALITY, QUALITY});
        }
        if (!ok || !w.isOpened()) {
            w.close();
            throw new IOException("could not open video " + path + " for writing (OpenCV Motion-JPEG writer)");
        }
        return new VideoRecorder(path, width, height, w);
    }

    /** Appends one frame: width * height * 3 bytes, RGB, HWC. */
    public void write(byte[] rgbFrame) {
        if (closed) throw new IllegalStateException("video " + path + " is closed");
        if (rgbFrame == null || rgbFrame.length != frameBytes) {
            throw new IllegalArgumentException("rgbFrame must hold " + width + " x " + height + " x 3 = " + frameBytes
                    + " bytes, got " + (rgbFrame == null ? "null" : rgbFrame.length));
        }
        rgbData.put(rgbFrame, 0, frameBytes);
        cvtColor(rgb, bgr, COLOR_RGB2BGR); // VideoWriter takes OpenCV's BGR order
        writer.write(bgr);
        frames++;
    }

    /** Frames written so far. */
    public int frames() {
        return frames;
    }

    public Path path() {
        return path;
    }

    /** Finishes the file (writes the AVI index) and frees the buffers. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        writer.release();
        writer.close();
        rgb.close();
        bgr.close();
    }
}
