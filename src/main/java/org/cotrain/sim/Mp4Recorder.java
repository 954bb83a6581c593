package org.cotrain.sim;

import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_FLAG_GLOBAL_HEADER;
import static org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_FLAG_QSCALE;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_alloc;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_free;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_rescale_ts;
import static org.bytedeco.ffmpeg.global.avcodec.av_packet_unref;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_alloc_context3;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_find_encoder_by_name;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_free_context;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_open2;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_parameters_from_context;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_receive_packet;
import static org.bytedeco.ffmpeg.global.avcodec.avcodec_send_frame;
import static org.bytedeco.ffmpeg.global.avformat.AVFMT_GLOBALHEADER;
import static org.bytedeco.ffmpeg.global.avformat.AVIO_FLAG_WRITE;
import static org.bytedeco.ffmpeg.global.avformat.av_interleaved_write_frame;
import static org.bytedeco.ffmpeg.global.avformat.av_write_trailer;
import static org.bytedeco.ffmpeg.global.avformat.avformat_alloc_output_context2;
import static org.bytedeco.ffmpeg.global.avformat.avformat_free_context;
import static org.bytedeco.ffmpeg.global.avformat.avformat_new_stream;
import static org.bytedeco.ffmpeg.global.avformat.avformat_write_header;
import static org.bytedeco.ffmpeg.global.avformat.avio_closep;
import static org.bytedeco.ffmpeg.global.avformat.avio_open;
import static org.bytedeco.ffmpeg.global.avutil.AVCOL_RANGE_MPEG;
import static org.bytedeco.ffmpeg.global.avutil.AVCOL_SPC_SMPTE170M;
import static org.bytedeco.ffmpeg.global.avutil.AVERROR_EAGAIN;
import static org.bytedeco.ffmpeg.global.avutil.AVERROR_EOF;
import static org.bytedeco.ffmpeg.global.avutil.AV_ERROR_MAX_STRING_SIZE;
import static org.bytedeco.ffmpeg.global.avutil.AV_LOG_ERROR;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_RGB24;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_YUV420P;
import static org.bytedeco.ffmpeg.global.avutil.FF_QP2LAMBDA;
import static org.bytedeco.ffmpeg.global.avutil.av_d2q;
import static org.bytedeco.ffmpeg.global.avutil.av_dict_free;
import static org.bytedeco.ffmpeg.global.avutil.av_dict_set;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_alloc;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_free;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_get_buffer;
import static org.bytedeco.ffmpeg.global.avutil.av_frame_make_writable;
import static org.bytedeco.ffmpeg.global.avutil.av_inv_q;
import static org.bytedeco.ffmpeg.global.avutil.av_log_set_level;
import static org.bytedeco.ffmpeg.global.avutil.av_opt_set;
import static org.bytedeco.ffmpeg.global.avutil.av_strerror;
import static org.bytedeco.ffmpeg.global.swscale.SWS_BILINEAR;
import static org.bytedeco.ffmpeg.global.swscale.sws_freeContext;
import static org.bytedeco.ffmpeg.global.swscale.sws_getContext;
import static org.bytedeco.ffmpeg.global.swscale.sws_scale;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.bytedeco.ffmpeg.avcodec.AVCodec;
import org.bytedeco.ffmpeg.avcodec.AVCodecContext;
import org.bytedeco.ffmpeg.avcodec.AVPacket;
import org.bytedeco.ffmpeg.avformat.AVFormatContext;
import org.bytedeco.ffmpeg.avformat.AVIOContext;
import org.bytedeco.ffmpeg.avformat.AVStream;
import org.bytedeco.ffmpeg.avutil.AVDictionary;
import org.bytedeco.ffmpeg.avutil.AVFrame;
import org.bytedeco.ffmpeg.avutil.AVRational;
import org.bytedeco.ffmpeg.swscale.SwsContext;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * Writes rendered frames (RGB uint8, HWC) as an {@code .mp4} video through FFmpeg's C API (the bytedeco FFmpeg
 * preset), e.g. rollout videos. (OpenCV's VideoWriter cannot: the bytedeco OpenCV build has no FFmpeg backend and
 * writes only Motion-JPEG AVI.)
 *
 * <p>Encoder: the first of {@link #ENCODERS} that this FFmpeg build has and that opens. H.264 plays everywhere
 * (browsers included); the bytedeco build (8.0.1-1.5.13, LGPL) has libopenh264 but not libx264 (GPL builds only).
 * MPEG-4 Part 2 ("mpeg4") is FFmpeg's own encoder, in every build, and plays in VLC, mpv, ffplay and desktop
 * players. Hardware encoders (nvenc, vaapi, qsv) are not tried: they need a device and give nothing at these sizes.
 *
 * <p>Pixels: RGB24 is converted to yuv420p (BT.601, limited range, as tagged in the stream) by swscale. 4:2:0
 * chroma covers 2x2 pixel blocks, so the coded size must be even: an odd width or height is padded by one column
 * or row that repeats the last one (no dark seam), and the video is then {@link #videoWidth()} x
 * {@link #videoHeight()}, one pixel larger than the frames written.
 *
 * <p>Errors: arguments are checked in Java before any native call (a bad frame size would otherwise read past the
 * buffer in native code). Every FFmpeg return code is checked; a failure in {@link #open} is an IOException, in
 * {@link #write} and {@link #close} an UncheckedIOException (so that the recorder can be used inside a
 * parallel lambda), naming the file and FFmpeg's error string. Native objects are freed on every
 * path. One recorder is used by one thread at a time. FFmpeg's log is limited to errors, set once for the process.
 */
public final class Mp4Recorder implements AutoCloseable {

    /** Encoders tried in order: H.264 (x264, then OpenH264), then FFmpeg's built-in MPEG-4 Part 2. */
    static final String[] ENCODERS = {"libx264", "libopenh264", "mpeg4"};

    /** Largest width or height accepted, pixels (H.264 level 5.1 allows 4096 wide; rollout videos are small). */
    static final int MAX_SIZE = 4096;

    /** Allowed frame rates, frames per second. */
    static final double MIN_FPS = 0.01, MAX_FPS = 1000;

    /** x264 constant-rate factor: 18 is visually lossless for flat synthetic frames. */
    static final String X264_CRF = "18";

    /**
     * OpenH264 quantiser ceiling (H.264 QP, 0..51): its rate control may not coarsen past this, so flat colours and
     * thin edges stay clean whatever the bit budget. Measured on a 300-frame 256x256 Push-T rollout: decoded frames
     * are 0.9 grey levels (mean absolute) from the rendered ones; the larger errors sit on colour edges, where 4:2:0
     * halves the chroma resolution.
     */
    static final int OPENH264_MAX_QP = 26;

    /** OpenH264 encodes nothing narrower or lower than one macroblock, pixels. */
    static final int OPENH264_MIN_SIZE = 16;

    /**
     * OpenH264 target bit rate, bits per pixel per frame. Generous for flat rendered frames: the 256x256 rollout
     * above used about a third of it (55 kbit/s of 164), so the QP ceiling, not the budget, sets the quality.
     */
    static final double OPENH264_BITS_PER_PIXEL = 0.25;

    /** MPEG-4 Part 2 fixed quantiser (2..31, lower is finer): 3 gives about 1 grey level mean error on the rollout. */
    static final int MPEG4_QSCALE = 3;

    /** Seconds between key frames (every frame after one decodes without earlier key frames). */
    static final double KEY_FRAME_SECONDS = 2;

    static {
        // Only errors: the encoders' info and warning lines (e.g. OpenH264's per-stream notes) would flood the logs of
        // an evaluation that writes dozens of videos. Errors still print, and each also becomes an exception here.
        av_log_set_level(AV_LOG_ERROR);
    }

    private final Path path;
    private final int width, height;             // frames written, pixels
    private final int codedWidth, codedHeight;   // the video's size: width, height rounded up to even
    private String encoder;                      // set once by open()
    private int quality;                         // per-frame lambda for a fixed-quantiser encoder, else 0
    private final byte[] padded;                 // scratch RGB frame at the coded size (odd sizes only)

    // Native state, owned by this recorder and freed once by release().
    private AVFormatContext format;
    private AVIOContext io;
    private AVCodecContext codec;
    private AVStream stream;
    private AVFrame frame;
    private AVPacket packet;
    private SwsContext sws;
    private BytePointer rgb;
    private PointerPointer<BytePointer> rgbPlanes;
    private IntPointer rgbStride;

    private long nextPts;
    private int frames;
    private boolean closed;

    private Mp4Recorder(Path path, int width, int height) {
        this.path = path;
        this.width = width;
        this.height = height;
        codedWidth = width + (width & 1);
        codedHeight = height + (height & 1);
        padded = codedWidth != width || codedHeight != height ? new byte[codedWidth * codedHeight * 3] : null;
    }

    /**
     * Opens an mp4 file for frames of width x height pixels at fps frames per second. The path must end in
     * {@code .mp4}; its folder is created if missing; an existing file is replaced. On failure nothing native is
     * left allocated and a partly written file is deleted.
     */
    public static Mp4Recorder open(Path path, int width, int height, double fps) throws IOException {
        return open(path, width, height, fps, ENCODERS);
    }

    /** As {@link #open(Path, int, int, double)}, trying only the given encoders (names from ENCODERS), in order. */
    static Mp4Recorder open(Path path, int width, int height, double fps, String... encoders) throws IOException {
        if (encoders == null || encoders.length == 0) throw new IllegalArgumentException("encoders must not be empty");
        for (String name : encoders) {
            if (!List.of(ENCODERS).contains(name)) {
                throw new IllegalArgumentException("encoders: unknown encoder " + name + ", expected one of "
                        + String.join(", ", ENCODERS));
            }
        }
        if (path == null) throw new IllegalArgumentException("path must not be null");
        if (path.getFileName() == null
                || !path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".mp4")) {
            throw new IllegalArgumentException("video path must end in .mp4, got " + path);
        }
        if (width < 1 || height < 1 || width > MAX_SIZE || height > MAX_SIZE) {
            throw new IllegalArgumentException("width and height must be in 1.." + MAX_SIZE + ", got " + width
                    + " x " + height);
        }
        if (!(fps >= MIN_FPS && fps <= MAX_FPS)) {
            throw new IllegalArgumentException("fps must be in " + MIN_FPS + ".." + MAX_FPS + ", got " + fps);
        }
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);

        Mp4Recorder r = new Mp4Recorder(path, width, height);
        boolean fileOpened = false;
        try {
            String file = path.toString();
            r.format = new AVFormatContext(null);
            r.check(avformat_alloc_output_context2(r.format, null, "mp4", file), "allocate the mp4 muxer");
            boolean globalHeader = (r.format.oformat().flags() & AVFMT_GLOBALHEADER) != 0;

            // Frame rate as a rational with numerator and denominator <= 65535: MPEG-4 Part 2 stores the time base
            // denominator in 16 bits. One tick of the codec time base is one frame, so pts counts frames.
            AVRational frameRate = av_d2q(fps, 65535);

            List<String> failures = new ArrayList<>();
            for (String name : encoders) {
                if (r.openEncoder(name, frameRate, globalHeader, fps, failures)) break;
            }
            if (r.codec == null) {
                throw new IOException("cannot write " + path + ": no usable video encoder among "
                        + String.join(", ", encoders) + (failures.isEmpty() ? " (none in this FFmpeg build)"
                        : " (" + String.join("; ", failures) + ")"));
            }

            r.stream = avformat_new_stream(r.format, null);
            if (r.stream == null || r.stream.isNull()) throw new IOException("cannot write " + path
                    + ": could not add a video stream");
            r.check(avcodec_parameters_from_context(r.stream.codecpar(), r.codec), "copy the encoder parameters");
            r.stream.time_base(r.codec.time_base()); // a hint: the muxer may pick a finer one in write_header
            r.stream.avg_frame_rate(frameRate);

            r.frame = av_frame_alloc();
            r.packet = av_packet_alloc();
            if (r.frame == null || r.frame.isNull() || r.packet == null || r.packet.isNull()) {
                throw new IOException("cannot write " + path + ": out of memory allocating a frame or packet");
            }
            r.frame.format(AV_PIX_FMT_YUV420P);
            r.frame.width(r.codedWidth);
            r.frame.height(r.codedHeight);
            r.check(av_frame_get_buffer(r.frame, 0), "allocate the frame buffer");

            // Same size in and out: swscale only converts colour (and averages chroma over 2x2 blocks).
            r.sws = sws_getContext(r.codedWidth, r.codedHeight, AV_PIX_FMT_RGB24, r.codedWidth, r.codedHeight,
                    AV_PIX_FMT_YUV420P, SWS_BILINEAR, null, null, (DoublePointer) null);
            if (r.sws == null || r.sws.isNull()) throw new IOException("cannot write " + path
                    + ": could not create the RGB to yuv420p converter");
            r.rgb = new BytePointer((long) r.codedWidth * r.codedHeight * 3);
            r.rgbPlanes = new PointerPointer<>(1);
            r.rgbPlanes.put(0, r.rgb);
            r.rgbStride = new IntPointer(new int[] {r.codedWidth * 3});

            r.io = new AVIOContext(null);
            r.check(avio_open(r.io, file, AVIO_FLAG_WRITE), "open the file for writing");
            fileOpened = true;
            r.format.pb(r.io);
            // faststart: the index (moov) goes before the frames once the file is finished, so that a browser can
            // start playing before it has the whole file.
            AVDictionary options = new AVDictionary(null);
            try {
                r.check(av_dict_set(options, "movflags", "+faststart", 0), "set the mp4 options");
                r.check(avformat_write_header(r.format, options), "write the mp4 header");
            } finally {
                av_dict_free(options);
            }
            return r;
        } catch (IOException | RuntimeException e) {
            r.release();
            if (fileOpened) {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /**
     * Tries one encoder: if this build has it and it opens with our settings, it becomes this recorder's codec and
     * the answer is true; otherwise its context is freed, the reason (if any) is added to failures, and false.
     */
    private boolean openEncoder(String name, AVRational frameRate, boolean globalHeader, double fps,
                                List<String> failures) throws IOException {
        AVCodec c = avcodec_find_encoder_by_name(name);
        if (c == null || c.isNull()) return false;
        if (name.equals("libopenh264") && (codedWidth < OPENH264_MIN_SIZE || codedHeight < OPENH264_MIN_SIZE)) {
            // It opens, then refuses every frame ("less than 16"): decide here, while another encoder can be tried.
            failures.add(name + ": needs a width and height of at least " + OPENH264_MIN_SIZE + " pixels");
            return false;
        }
        AVCodecContext ctx = avcodec_alloc_context3(c);
        if (ctx == null || ctx.isNull()) throw new IOException("cannot write " + path
                + ": out of memory allocating the " + name + " encoder context");
        ctx.width(codedWidth);
        ctx.height(codedHeight);
        ctx.pix_fmt(AV_PIX_FMT_YUV420P);
        ctx.time_base(av_inv_q(frameRate));
        ctx.framerate(frameRate);
        ctx.gop_size((int) Math.max(1, Math.round(KEY_FRAME_SECONDS * fps)));
        ctx.max_b_frames(0);                 // decode order = display order: pts is simply the frame index
        ctx.thread_count(1);                 // small frames; one thread keeps the output bytes deterministic
        ctx.colorspace(AVCOL_SPC_SMPTE170M); // the matrix swscale converts RGB with (BT.601), for players
        ctx.color_range(AVCOL_RANGE_MPEG);   // swscale writes limited-range (16..235) luma
        if (globalHeader) ctx.flags(ctx.flags() | AV_CODEC_FLAG_GLOBAL_HEADER);
        int q = 0;
        int ret = 0;
        switch (name) {
            case "libx264" -> {
                ret = av_opt_set(ctx.priv_data(), "crf", X264_CRF, 0);
                if (ret >= 0) ret = av_opt_set(ctx.priv_data(), "preset", "veryfast", 0);
            }
            case "libopenh264" -> {
                ctx.bit_rate(Math.max(100_000L, Math.round(OPENH264_BITS_PER_PIXEL * codedWidth * codedHeight * fps)));
                ctx.qmax(OPENH264_MAX_QP);
            }
            case "mpeg4" -> {
                // Fixed quantiser, so quality does not hang on a bit-rate guess. The lambda also travels with each
                // frame (AVFrame.quality), which is where the encoder reads it.
                ctx.flags(ctx.flags() | AV_CODEC_FLAG_QSCALE);
                q = FF_QP2LAMBDA * MPEG4_QSCALE;
                ctx.global_quality(q);
            }
            default -> { // unreachable: open() checks the names
                avcodec_free_context(ctx);
                throw new IllegalStateException("no settings for encoder " + name);
            }
        }
        if (ret >= 0) ret = avcodec_open2(ctx, c, (AVDictionary) null);
        if (ret < 0) {
            failures.add(name + ": " + errorString(ret));
            avcodec_free_context(ctx);
            return false;
        }
        codec = ctx;
        encoder = name;
        quality = q;
        return true;
    }

    /** Appends one frame: width * height * 3 bytes, RGB, HWC. */
    public void write(byte[] rgbFrame) {
        if (closed) throw new IllegalStateException("video " + path + " is closed");
        int frameBytes = width * height * 3;
        if (rgbFrame == null || rgbFrame.length != frameBytes) {
            throw new IllegalArgumentException("rgbFrame must hold " + width + " x " + height + " x 3 = " + frameBytes
                    + " bytes, got " + (rgbFrame == null ? "null" : rgbFrame.length));
        }
        if (padded == null) {
            rgb.put(rgbFrame, 0, frameBytes);
        } else {
            padInto(rgbFrame);
            rgb.put(padded, 0, padded.length);
        }
        try {
            // The encoder may still hold a reference to the last frame's buffers: get our own before writing.
            check(av_frame_make_writable(frame), "make the frame writable");
            int rows = sws_scale(sws, rgbPlanes, rgbStride, 0, codedHeight, frame.data(), frame.linesize());
            if (rows != codedHeight) check(rows < 0 ? rows : -1, "convert RGB to yuv420p (" + rows + " rows)");
            frame.pts(nextPts++);
            frame.quality(quality);
            check(avcodec_send_frame(codec, frame), "encode frame " + frames);
            writePackets();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        frames++;
    }

    /** Copies the frame into the even-sized scratch frame, repeating the last column and row into the padding. */
    private void padInto(byte[] src) {
        int srcRow = width * 3, dstRow = codedWidth * 3;
        for (int y = 0; y < height; y++) {
            int d = y * dstRow;
            System.arraycopy(src, y * srcRow, padded, d, srcRow);
            if (codedWidth != width) System.arraycopy(padded, d + srcRow - 3, padded, d + srcRow, 3);
        }
        if (codedHeight != height) System.arraycopy(padded, (height - 1) * dstRow, padded, height * dstRow, dstRow);
    }

    /** Moves every packet the encoder has ready into the file (all of them once the encoder is flushed). */
    private void writePackets() throws IOException {
        while (true) {
            int ret = avcodec_receive_packet(codec, packet);
            if (ret == AVERROR_EAGAIN() || ret == AVERROR_EOF) return;
            check(ret, "receive an encoded packet");
            // Encoder ticks are frames; the mp4 track counts in its own time base, chosen by the muxer.
            av_packet_rescale_ts(packet, codec.time_base(), stream.time_base());
            packet.stream_index(stream.index());
            ret = av_interleaved_write_frame(format, packet); // takes the packet's data, leaves it blank
            if (ret < 0) av_packet_unref(packet);
            check(ret, "write a packet");
        }
    }

    /** Frames written so far. */
    public int frames() {
        return frames;
    }

    public Path path() {
        return path;
    }

    /** The encoder in use: one of {@link #ENCODERS}. */
    public String encoder() {
        return encoder;
    }

    /** Width of the video, pixels: the frame width, plus one if it is odd (yuv420p needs even sizes). */
    public int videoWidth() {
        return codedWidth;
    }

    /** Height of the video, pixels: the frame height, plus one if it is odd. */
    public int videoHeight() {
        return codedHeight;
    }

    /**
     * Finishes the file: flushes the encoder (its last packets), writes the mp4 index (trailer) and frees all native
     * state. Idempotent. Native state is freed even when finishing fails (then an UncheckedIOException).
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        IOException failure = null;
        try {
            check(avcodec_send_frame(codec, null), "flush the encoder"); // null frame = end of stream
            writePackets();
            check(av_write_trailer(format), "write the mp4 trailer");
        } catch (IOException e) {
            failure = e;
        }
        int ret = release();
        if (failure == null && ret < 0) failure = ioError(ret, "close the file");
        if (failure != null) throw new UncheckedIOException(failure);
    }

    /** Frees every native object that exists; returns avio_closep's code (0 if the file was not open). */
    private int release() {
        int ret = 0;
        if (io != null && !io.isNull()) {
            ret = avio_closep(io);
            if (format != null && !format.isNull()) format.pb(null);
        }
        if (format != null && !format.isNull()) avformat_free_context(format); // frees the stream too
        if (codec != null && !codec.isNull()) avcodec_free_context(codec);
        if (frame != null && !frame.isNull()) av_frame_free(frame);
        if (packet != null && !packet.isNull()) av_packet_free(packet);
        if (sws != null && !sws.isNull()) sws_freeContext(sws);
        if (rgbPlanes != null) rgbPlanes.close();
        if (rgbStride != null) rgbStride.close();
        if (rgb != null) rgb.close();
        format = null;
        io = null;
        codec = null;
        stream = null;
        frame = null;
        packet = null;
        sws = null;
        rgbPlanes = null;
        rgbStride = null;
        rgb = null;
        return ret;
    }

    private void check(int ret, String what) throws IOException {
        if (ret < 0) throw ioError(ret, what);
    }

    private IOException ioError(int ret, String what) {
        return new IOException("cannot write video " + path + ": could not " + what + ": " + errorString(ret));
    }

    /** FFmpeg's message for an error code (av_strerror), with the code. */
    static String errorString(int code) {
        byte[] buf = new byte[AV_ERROR_MAX_STRING_SIZE];
        av_strerror(code, buf, buf.length); // always writes a NUL-terminated message, a generic one if unknown
        int n = 0;
        while (n < buf.length && buf[n] != 0) n++;
        return new String(buf, 0, n, StandardCharsets.UTF_8) + " (" + code + ")";
    }
}
