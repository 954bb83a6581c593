package org.cotrain.data;

/**
 * Diffusion Policy's sequence windows: every window of {@code sequenceLength} (= horizon H) consecutive steps of each
 * chosen demo, where a window may start up to {@code padBefore} steps before the demo (n_obs_steps - 1) and end up to
 * {@code padAfter} steps after it (n_action_steps - 1); the missing steps repeat the demo's first or last step
 * (edge padding).
 *
 * <p>The windows are exactly those of DP's {@code create_indices} (diffusion_policy/common/sampler.py), in the same
 * order, each as (buffer_start_idx, buffer_end_idx, sample_start_idx, sample_end_idx): rows
 * [buffer_start, buffer_end) of the replay buffer go to positions [sample_start, sample_end) of the window, positions
 * before sample_start repeat row buffer_start and positions from sample_end on repeat row buffer_end - 1.
 */
public final class SequenceSampler {
    private final int sequenceLength;
    private final int[] indices; // (windows, 4)

    /**
     * @param episodeEnds cumulative step counts of the demos (DP's episode_ends)
     * @param episodeMask which demos give windows (e.g. the train mask)
     */
    public SequenceSampler(int[] episodeEnds, int sequenceLength, int padBefore, int padAfter,
            boolean[] episodeMask) {
        this.sequenceLength = sequenceLength;
        this.indices = createIndices(episodeEnds, sequenceLength, episodeMask, padBefore, padAfter);
    }

    /** The windows of DP's create_indices, flattened: 4 ints per window. */
    public static int[] createIndices(int[] episodeEnds, int sequenceLength, boolean[] episodeMask, int padBefore,
            int padAfter) {
        if (sequenceLength < 1) {
            throw new IllegalArgumentException("sequence length (horizon) must be >= 1, got " + sequenceLength);
        }
        if (episodeMask.length != episodeEnds.length) {
            throw new IllegalArgumentException(episodeEnds.length + " episodes but a mask of " + episodeMask.length);
        }
        // DP clamps the padding to [0, sequence_length - 1].
        padBefore = Math.min(Math.max(padBefore, 0), sequenceLength - 1);
        padAfter = Math.min(Math.max(padAfter, 0), sequenceLength - 1);
        long count = 0;
        for (int i = 0; i < episodeEnds.length; i++) {
            int length = episodeEnds[i] - (i == 0 ? 0 : episodeEnds[i - 1]);
            if (episodeMask[i] && length > 0) {
                count += Math.max(0, length - sequenceLength + padAfter + padBefore + 1);
            }
        }
        int[] out = new int[Math.toIntExact(4 * count)];
        int w = 0;
        for (int i = 0; i < episodeEnds.length; i++) {
            int startIdx = i == 0 ? 0 : episodeEnds[i - 1];
            int episodeLength = episodeEnds[i] - startIdx;
            if (!episodeMask[i] || episodeLength == 0) {
                continue; // an empty demo has no frame to pad with (DP would fail on it)
            }
            int minStart = -padBefore;
            int maxStart = episodeLength - sequenceLength + padAfter;
            for (int idx = minStart; idx <= maxStart; idx++) {
                int bufferStart = Math.max(idx, 0) + startIdx;
                int bufferEnd = Math.min(idx + sequenceLength, episodeLength) + startIdx;
                int startOffset = bufferStart - (idx + startIdx);
                int endOffset = (idx + sequenceLength + startIdx) - bufferEnd;
                out[w++] = bufferStart;
                out[w++] = bufferEnd;
                out[w++] = startOffset; // sample_start_idx
                out[w++] = sequenceLength - endOffset; // sample_end_idx
            }
        }
        return out;
    }

    /** The number of windows. */
    public int size() {
        return indices.length / 4;
    }

    public int sequenceLength() {
        return sequenceLength;
    }

    /** Window i as {buffer_start_idx, buffer_end_idx, sample_start_idx, sample_end_idx}. */
    public int[] index(int i) {
        return new int[] {indices[4 * i], indices[4 * i + 1], indices[4 * i + 2], indices[4 * i + 3]};
    }

    /**
     * Copies the first {@code steps} steps of window {@code i} of a replay-buffer array {@code data} (rows of
     * {@code dim} values) to {@code out} from {@code outOffset}: (steps, dim), edge-padded. steps = sequenceLength
     * for actions, n_obs_steps for observations (DP's key_first_k).
     */
    public void sampleSequence(int i, float[] data, int dim, int steps, float[] out, int outOffset) {
        if (steps < 0 || steps > sequenceLength) {
            throw new IllegalArgumentException("steps " + steps + " outside [0, " + sequenceLength + "]");
        }
        for (int t = 0; t < steps; t++) {
            System.arraycopy(data, row(i, t) * dim, out, outOffset + t * dim, dim);
        }
    }

    /**
     * The replay-buffer row of step t of window i, edge padding included: the rows the window copies, e.g. the
     * frames of an image dataset's steps.
     */
    public int row(int i, int t) {
        int bufferStart = indices[4 * i];
        int bufferEnd = indices[4 * i + 1];
        int sampleStart = indices[4 * i + 2];
        int sampleEnd = indices[4 * i + 3];
        if (t < sampleStart) {
            return bufferStart; // data[:sample_start_idx] = sample[0]
        }
        if (t >= sampleEnd) {
            return bufferEnd - 1; // data[sample_end_idx:] = sample[-1]
        }
        return bufferStart + (t - sampleStart);
    }
}
