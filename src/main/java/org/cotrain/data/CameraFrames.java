package org.cotrain.data;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

/**
 * One camera's frames of one dataset file, as the file stores them: uint8 (N, H, W, 3) per demo, each in its own
 * direct buffer (read there by HDF5, never copied to float or to one big array: 500 demos of 96x96 frames take about
 * 1.8 GB as bytes, four times that as floats). Rows are numbered like the low-dim replay buffer: demo d holds rows
 * [episodeEnds[d-1], episodeEnds[d]). Immutable and shared between the views of a dataset (masks, subsets).
 */
public final class CameraFrames {
    private final String key;
    private final int height;
    private final int width;
    private final int[] episodeEnds;
    private final ByteBuffer[] demos;

    /**
     * @param demos one buffer per demo, (N_d, H, W, 3) uint8 with N_d = episodeEnds[d] - episodeEnds[d - 1]
     */
    public CameraFrames(String key, int height, int width, int[] episodeEnds, List<ByteBuffer> demos) {
        if (height < 1 || width < 1 || demos.size() != episodeEnds.length) {
            throw new IllegalArgumentException("camera " + key + ": frames " + height + "x" + width + ", "
                    + demos.size() + " demos for " + episodeEnds.length + " episode ends");
        }
        long frame = frameBytes(height, width);
        for (int d = 0; d < demos.size(); d++) {
            long steps = episodeEnds[d] - (d == 0 ? 0 : episodeEnds[d - 1]);
            if (demos.get(d).capacity() != steps * frame) {
                throw new IllegalArgumentException("camera " + key + ", demo " + d + ": " + demos.get(d).capacity()
                        + " bytes for " + steps + " frames of " + height + "x" + width + "x3");
            }
        }
        this.key = key;
        this.height = height;
        this.width = width;
        this.episodeEnds = episodeEnds.clone();
        this.demos = demos.toArray(new ByteBuffer[0]);
    }

    private static long frameBytes(int height, int width) {
        return 3L * height * width;
    }

    public String key() {
        return key;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    /** Bytes of one frame: H W 3. */
    public int frameBytes() {
        return Math.toIntExact(frameBytes(height, width));
    }

    /** Bytes held, all demos together. */
    public long bytes() {
        long n = 0;
        for (ByteBuffer b : demos) {
            n += b.capacity();
        }
        return n;
    }

    /** Copies the frame of replay-buffer row {@code row} to out[offset, offset + H W 3). */
    public void copyFrame(int row, byte[] out, int offset) {
        int d = demoOf(row);
        int local = row - (d == 0 ? 0 : episodeEnds[d - 1]);
        int n = frameBytes();
        demos[d].get(local * n, out, offset, n);
    }

    /** The demo holding a row (binary search over the episode ends). */
    private int demoOf(int row) {
        if (row < 0 || episodeEnds.length == 0 || row >= episodeEnds[episodeEnds.length - 1]) {
            throw new IndexOutOfBoundsException("camera " + key + ": row " + row + " outside [0, "
                    + (episodeEnds.length == 0 ? 0 : episodeEnds[episodeEnds.length - 1]) + ")");
        }
        int i = Arrays.binarySearch(episodeEnds, row);
        // an exact hit is the first row of the next non-empty demo; otherwise the insertion point is the demo
        int d = i >= 0 ? i + 1 : -i - 1;
        while (episodeEnds[d] <= row) {
            d++; // skip empty demos that share the end
        }
        return d;
    }

    @Override
    public String toString() {
        return "CameraFrames(" + key + ", " + demos.length + " demos of " + height + "x" + width + "x3, "
                + bytes() / (1 << 20) + " MiB)";
    }
}
