package org.cotrain.sim;

import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_H264;
import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_MPEG4;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_alloc;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_free;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_unref;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_alloc_context3;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_find_decoder;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_free_context;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_open2;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_parameters_to_context;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_receive_frame;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_send_packet;
import static org.bytedeco.ffmpeg.global.avformat.av_read_frame;
import static org.bytedeco.ffmpeg.global.avformat.avformat_close_input;
import static org.bytedeco.ffmpeg.global.avformat.avformat_find_stream_info;
import static org.bytedeco.ffmpeg.global.avformat.avformat_open_input;
import static org.bytedeco.ffmpeg.global.avutil.AVERROR_EAGAIN;
import static org.bytedeco.ffmpeg.global.avutil.AVERROR_EOF;
import static org.bytedeco.ffmpeg.global.avutil.AVMEDIA_TYPE_VIDEO;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_YUV420P;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_alloc;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_free;
import static org.bytedeco.ffmpeg.global.avutil.av_q2d;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.ffmpeg.avcodec.AVCodec;
import org.bytedeco.ffmpeg.avcodec.AVCodecContext;
import org.bytedeco.ffmpeg.avcodec.AVCodecParameters;
import org.bytedeco.ffmpeg.avcodec.AVPacket;
import org.bytedeco.ffmpeg.avformat.AVFormatContext;
import org.bytedeco.ffmpeg.avformat.AVStream;
import org.bytedeco.ffmpeg.avutil.AVDictionary;
import org.bytedeco.ffmpeg.avutil.AVFrame;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Videos written by Mp4Recorder are read back with FFmpeg's own demuxer and decoder: the frame count, size and
 * codec are right and the decoded pixels are close to the written ones (the codecs are lossy).
 */
class Mp4RecorderTest {
    @TempDir
    Path dir;

    @Test
    void rolloutFramesRoundTripWithTheDefaultEncoder() throws Exception {
        Path mp4 = dir.resolve("videos/sub/rollout.mp4"); // folders are created
        int size = 128, n = 30;
        List<byte[]> written = new ArrayList<>();
        String encoder;
        try (Renderer r = new Renderer(BlockShape.tee(), new Pose(256, 256, Math.PI / 4), 15,
                RenderParams.defaults(size)); Mp4Recorder v = Mp4Recorder.open(mp4, size, size, 10)) {
            encoder = v.encoder();
            assertEquals(size, v.videoWidth());
            assertEquals(size, v.videoHeight());
            for (int t = 0; t < n; t++) {
                byte[] frame = new byte[r.frameBytes()];
                r.render(150 + 5 * t, 200, 0.1 * t, 400 - 10 * t, 100, frame);
                v.write(frame);
                written.add(frame);
            }
            assertEquals(n, v.frames());
            assertEquals(mp4, v.path());
        }
        // This FFmpeg build has OpenH264; a build with libx264 would pick that. Either way it is H.264.
        assertTrue(encoder.equals("libopenh264") || encoder.equals("libx264"), encoder);
        Decoded d = decode(mp4);
        assertEquals(AV_CODEC_ID_H264, d.codecId);
        assertEquals(size, d.width);
        assertEquals(size, d.height);
        assertEquals(n, d.containerFrames, "nb_frames in the mp4 index");
        assertEquals(10.0, d.fps, 1e-9);
        assertEquals(n / 10.0, d.seconds, 1e-3, "duration, s");
        assertFramesClose(written, size, size, d, 3.0);
    }

    @Test
    void movingSquareRoundTripsWithBothEncoders() throws Exception {
        for (String encoder : new String[] {"libopenh264", "mpeg4"}) {
            Path mp4 = dir.resolve("square_" + encoder + ".mp4");
            int w = 96, h = 96, n = 30;
            List<byte[]> written = new ArrayList<>();
            try (Mp4Recorder v = Mp4Recorder.open(mp4, w, h, 10, encoder)) {
                assertEquals(encoder, v.encoder());
                for (int t = 0; t < n; t++) {
                    byte[] frame = square(w, h, 10 + 2 * t, 20 + t, 24);
                    v.write(frame);
                    written.add(frame);
                }
            }
            Decoded d = decode(mp4);
            assertEquals(encoder.equals("mpeg4") ? AV_CODEC_ID_MPEG4 : AV_CODEC_ID_H264, d.codecId, encoder);
            assertEquals(w, d.width);
            assertEquals(h, d.height);
            assertEquals(n, d.containerFrames, encoder);
            assertFramesClose(written, w, h, d, 4.0);
            // The square is where it was drawn: bright inside, dark outside, in the last frame.
            byte[] last = d.frames.get(n - 1);
            int sx = 10 + 2 * (n - 1) + 12, sy = 20 + (n - 1) + 12; // its centre
            assertTrue((last[(sy * w + sx) * 3] & 0xff) > 200, encoder + " square centre is bright");
            assertTrue((last[(5 * w + 5) * 3] & 0xff) < 80, encoder + " background is dark");
        }
    }

    @Test
    void oddSizeIsPaddedByRepeatingTheLastRowAndColumn() throws Exception {
        Path mp4 = dir.resolve("odd.mp4");
        int w = 97, h = 97, n = 10;
        List<byte[]> written = new ArrayList<>();
        try (Mp4Recorder v = Mp4Recorder.open(mp4, w, h, 10)) {
            assertEquals(98, v.videoWidth());
            assertEquals(98, v.videoHeight());
            assertThrows(IllegalArgumentException.class, () -> v.write(new byte[98 * 98 * 3]));
            for (int t = 0; t < n; t++) {
                byte[] frame = square(w, h, 60 + t, 60 + t, 37); // reaches the right and bottom edges
                v.write(frame);
                written.add(frame);
            }
        }
        Decoded d = decode(mp4);
        assertEquals(98, d.width);
        assertEquals(98, d.height);
        assertEquals(n, d.frames.size());
        // The top-left 97 x 97 of each decoded frame is the written frame; the padding repeats the last column.
        for (int t = 0; t < n; t++) {
            byte[] got = d.frames.get(t), want = written.get(t);
            double err = 0;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    for (int c = 0; c < 3; c++) {
                        err += Math.abs((got[(y * 98 + x) * 3 + c] & 0xff) - (want[(y * w + x) * 3 + c] & 0xff));
                    }
                }
            }
            assertTrue(err / (w * h * 3) < 4.0, "frame " + t + " mean abs error " + err / (w * h * 3));
            int y = 90; // inside the square, which covers the bottom-right corner
            assertEquals(got[(y * 98 + 96) * 3] & 0xff, got[(y * 98 + 97) * 3] & 0xff, 12.0, "padding column");
            assertTrue((got[(y * 98 + 97) * 3] & 0xff) > 200, "padding repeats the bright square, not black");
        }
    }

    @Test
    void sameFramesGiveTheSameBytesAndReplaceTheOldFile() throws Exception {
        Path a = dir.resolve("a.mp4"), b = dir.resolve("b.mp4");
        Files.write(b, new byte[123_456]); // replaced, not appended to
        for (Path p : new Path[] {a, b}) {
            try (Mp4Recorder v = Mp4Recorder.open(p, 64, 48, 12.5)) {
                for (int t = 0; t < 8; t++) v.write(square(64, 48, t, 2 * t, 10));
            }
        }
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        Decoded d = decode(b);
        assertEquals(8, d.frames.size());
        assertEquals(12.5, d.fps, 1e-9);
        assertEquals(8 / 12.5, d.seconds, 1e-3, "duration, s");
    }

    @Test
    void badArgumentsAreRejectedBeforeAnyNativeCall() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Mp4Recorder.open(dir.resolve("a.avi"), 96, 96, 10));
        assertTrue(e.getMessage().contains(".mp4"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Mp4Recorder.open(dir.resolve("mp4"), 96, 96, 10));
        assertThrows(IllegalArgumentException.class, () -> Mp4Recorder.open(null, 96, 96, 10));
        e = assertThrows(IllegalArgumentException.class, () -> Mp4Recorder.open(dir.resolve("a.mp4"), 96, 96, 0));
        assertTrue(e.getMessage().contains("fps"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Mp4Recorder.open(dir.resolve("a.mp4"), 96, 96, -10));
        assertThrows(IllegalArgumentException.class,
                () -> Mp4Recorder.open(dir.resolve("a.mp4"), 96, 96, Double.NaN));
        e = assertThrows(IllegalArgumentException.class, () -> Mp4Recorder.open(dir.resolve("a.mp4"), 0, 96, 10));
        assertTrue(e.getMessage().contains("width and height"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Mp4Recorder.open(dir.resolve("a.mp4"), 96, 5000, 10));
        assertThrows(IllegalArgumentException.class,
                () -> Mp4Recorder.open(dir.resolve("a.mp4"), 96, 96, 10, "h264_nvenc"));
        assertFalse(Files.exists(dir.resolve("a.mp4")));

        Path mp4 = dir.resolve("b.MP4"); // the extension is case-insensitive
        Mp4Recorder v = Mp4Recorder.open(mp4, 96, 64, 10);
        e = assertThrows(IllegalArgumentException.class, () -> v.write(new byte[96 * 96 * 3]));
        assertTrue(e.getMessage().contains("96 x 64 x 3"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> v.write(null));
        v.write(new byte[96 * 64 * 3]);
        v.close();
        assertDoesNotThrow(v::close); // idempotent
        assertThrows(IllegalStateException.class, () -> v.write(new byte[96 * 64 * 3]));
        assertEquals(1, decode(mp4).frames.size());
    }

    @Test
    void anUnwritablePathIsAnIOExceptionWithFfmpegsReason() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("taken.mp4")); // a folder where the file should go
        IOException e = assertThrows(IOException.class, () -> Mp4Recorder.open(folder, 32, 32, 10));
        assertTrue(e.getMessage().contains(folder.toString()), e.getMessage());
        // ...: could not open the file for writing: <av_strerror's message> (<code>)
        assertTrue(e.getMessage().matches(".*could not open the file for writing: [\\p{Print}]+ \\(-\\d+\\)"),
                e.getMessage());
        assertTrue(Files.isDirectory(folder), "the folder is left alone");
    }

    @Test
    void framesSmallerThanAMacroblockFallBackToMpeg4() throws Exception {
        Path mp4 = dir.resolve("tiny.mp4");
        try (Mp4Recorder v = Mp4Recorder.open(mp4, 8, 15, 10)) { // OpenH264 needs 16 x 16 and more
            assertEquals("mpeg4", v.encoder());
            for (int t = 0; t < 3; t++) v.write(square(8, 15, t, t, 4));
        }
        Decoded d = decode(mp4);
        assertEquals(AV_CODEC_ID_MPEG4, d.codecId);
        assertEquals(8, d.width);
        assertEquals(16, d.height);
        assertEquals(3, d.frames.size());
        try (Mp4Recorder v = Mp4Recorder.open(dir.resolve("tiny2.mp4"), 15, 15, 10)) { // padded to 16 x 16
            assertFalse(v.encoder().equals("mpeg4"), "H.264 at 16 x 16");
        }
        IOException e = assertThrows(IOException.class,
                () -> Mp4Recorder.open(dir.resolve("tiny3.mp4"), 8, 8, 10, "libopenh264"));
        assertTrue(e.getMessage().contains("at least 16 pixels"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("tiny3.mp4")));
    }

    /** A black frame with a white square of side s whose top-left corner is (x0, y0), clipped to the frame. */
    private static byte[] square(int w, int h, int x0, int y0, int s) {
        byte[] f = new byte[w * h * 3];
        for (int y = Math.max(0, y0); y < Math.min(h, y0 + s); y++) {
            for (int x = Math.max(0, x0); x < Math.min(w, x0 + s); x++) {
                f[(y * w + x) * 3] = (byte) 240;
                f[(y * w + x) * 3 + 1] = (byte) 230;
                f[(y * w + x) * 3 + 2] = (byte) 220;
            }
        }
        return f;
    }

    /** Each decoded frame is close to the written one: mean absolute error and per-channel means. */
    private static void assertFramesClose(List<byte[]> written, int w, int h, Decoded d, double maxMeanAbs) {
        assertEquals(written.size(), d.frames.size(), "decoded frames");
        for (int t = 0; t < written.size(); t++) {
            byte[] want = written.get(t), got = d.frames.get(t);
            assertEquals(want.length, got.length);
            double err = 0;
            double[] meanWant = new double[3], meanGot = new double[3];
            for (int i = 0; i < want.length; i++) {
                int a = want[i] & 0xff, b = got[i] & 0xff;
                err += Math.abs(a - b);
                meanWant[i % 3] += a;
                meanGot[i % 3] += b;
            }
            err /= want.length;
            assertTrue(err < maxMeanAbs, "frame " + t + " mean abs error " + err);
            for (int c = 0; c < 3; c++) {
                assertEquals(meanWant[c] / (w * h), meanGot[c] / (w * h), 2.0, "frame " + t + " channel " + c);
            }
        }
    }

    /** What a video holds: codec, size, the frame count in the container's index, and every frame as RGB. */
    private record Decoded(int codecId, int width, int height, long containerFrames, double fps, double seconds,
                           List<byte[]> frames) {}

    /** Demuxes and decodes the first video stream with FFmpeg, converting each frame to RGB24 (HWC). */
    private static Decoded decode(Path file) throws IOException {
        AVFormatContext in = new AVFormatContext(null);
        AVCodecContext ctx = null;
        AVPacket pkt = null;
        AVFrame frame = null;
        try {
            check(avformat_open_input(in, file.toString(), null, (AVDictionary) null), "open " + file);
            check(avformat_find_stream_info(in, (PointerPointer<?>) null), "find stream info");
            assertEquals(1, in.nb_streams(), "one stream");
            AVStream st = in.streams(0);
            AVCodecParameters par = st.codecpar();
            assertEquals(AVMEDIA_TYPE_VIDEO, par.codec_type());
            AVCodec dec = avcodec_find_decoder(par.codec_id());
            ctx = avcodec_alloc_context3(dec);
            check(avcodec_parameters_to_context(ctx, par), "parameters to context");
            check(avcodec_open2(ctx, dec, (AVDictionary) null), "open decoder");
            int w = par.width(), h = par.height();
            assertEquals(AV_PIX_FMT_YUV420P, par.format(), "decoded as yuv420p");
            pkt = av_packet_alloc();
            frame = av_frame_alloc();
            List<byte[]> frames = new ArrayList<>();
            boolean flushed = false;
            while (!flushed) {
                int ret = av_read_frame(in, pkt);
                if (ret == AVERROR_EOF) {
                    check(avcodec_send_packet(ctx, null), "flush decoder"); // then the decoder's last frames
                    flushed = true;
                } else {
                    check(ret, "read packet");
                    ret = avcodec_send_packet(ctx, pkt);
                    av_packet_unref(pkt);
                    check(ret, "send packet");
                }
                while (true) {
                    ret = avcodec_receive_frame(ctx, frame);
                    if (ret == AVERROR_EAGAIN() || ret == AVERROR_EOF) break;
                    check(ret, "decode");
                    assertEquals(AV_PIX_FMT_YUV420P, frame.format());
                    frames.add(toRgb(frame, w, h));
                }
            }
            return new Decoded(par.codec_id(), w, h, st.nb_frames(), av_q2d(st.avg_frame_rate()),
                    st.duration() * av_q2d(st.time_base()), frames);
        } finally {
            if (frame != null) av_frame_free(frame);
            if (pkt != null) av_packet_free(pkt);
            if (ctx != null) avcodec_free_context(ctx);
            if (!in.isNull()) avformat_close_input(in);
        }
    }

    /**
     * yuv420p (BT.601, limited range) to RGB24 by the textbook formulas, as a reference independent of swscale
     * (whose yuv -> RGB24 paths in this build either skip the last width % 8 pixels of a row or read 1-2 levels dark).
     */
    private static byte[] toRgb(AVFrame f, int w, int h) {
        byte[] out = new byte[w * h * 3];
        BytePointer yp = f.data(0), up = f.data(1), vp = f.data(2);
        int ys = f.linesize(0), us = f.linesize(1), vs = f.linesize(2);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double luma = 1.164383 * ((yp.get((long) y * ys + x) & 0xff) - 16);
                double cb = (up.get((long) (y / 2) * us + x / 2) & 0xff) - 128;
                double cr = (vp.get((long) (y / 2) * vs + x / 2) & 0xff) - 128;
                int i = (y * w + x) * 3;
                out[i] = clamp(luma + 1.596027 * cr);
                out[i + 1] = clamp(luma - 0.391762 * cb - 0.812968 * cr);
                out[i + 2] = clamp(luma + 2.017232 * cb);
            }
        }
        return out;
    }

    private static byte clamp(double v) {
        return (byte) Math.max(0, Math.min(255, Math.round(v)));
    }

    private static void check(int ret, String what) throws IOException {
        if (ret < 0) throw new IOException("could not " + what + ": " + Mp4Recorder.errorString(ret));
    }
}
