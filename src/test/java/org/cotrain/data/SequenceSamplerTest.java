package org.cotrain.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The sequence windows against a hand-computed case and against DP's create_indices / sample_sequence. */
class SequenceSamplerTest {

    /**
     * DP's create_indices (diffusion_policy/common/sampler.py), written down again independently of the
     * implementation: a list of [buffer_start_idx, buffer_end_idx, sample_start_idx, sample_end_idx] in long.
     */
    static List<long[]> dpCreateIndices(long[] episodeEnds, long sequenceLength, boolean[] episodeMask,
            long padBefore, long padAfter) {
        padBefore = Math.min(Math.max(padBefore, 0), sequenceLength - 1);
        padAfter = Math.min(Math.max(padAfter, 0), sequenceLength - 1);
        List<long[]> indices = new ArrayList<>();
        for (int i = 0; i < episodeEnds.length; i++) {
            if (!episodeMask[i]) {
                continue;
            }
            long startIdx = 0;
            if (i > 0) {
                startIdx = episodeEnds[i - 1];
            }
            long endIdx = episodeEnds[i];
            long episodeLength = endIdx - startIdx;
            long minStart = -padBefore;
            long maxStart = episodeLength - sequenceLength + padAfter;
            for (long idx = minStart; idx < maxStart + 1; idx++) {
                long bufferStartIdx = Math.max(idx, 0) + startIdx;
                long bufferEndIdx = Math.min(idx + sequenceLength, episodeLength) + startIdx;
                long startOffset = bufferStartIdx - (idx + startIdx);
                long endOffset = (idx + sequenceLength + startIdx) - bufferEndIdx;
                long sampleStartIdx = 0 + startOffset;
                long sampleEndIdx = sequenceLength - endOffset;
                indices.add(new long[] {bufferStartIdx, bufferEndIdx, sampleStartIdx, sampleEndIdx});
            }
        }
        return indices;
    }

    /** DP's sample_sequence for one key: zeros, then data[:s0] = sample[0], data[s1:] = sample[-1], the middle. */
    static double[][] dpSampleSequence(double[][] buffer, long[] index, int sequenceLength) {
        int bufferStart = (int) index[0];
        int bufferEnd = (int) index[1];
        int sampleStart = (int) index[2];
        int sampleEnd = (int) index[3];
        double[][] sample = Arrays.copyOfRange(buffer, bufferStart, bufferEnd);
        double[][] data = new double[sequenceLength][];
        for (int t = 0; t < sequenceLength; t++) {
            data[t] = new double[buffer[0].length];
        }
        if (sampleStart > 0) {
            for (int t = 0; t < sampleStart; t++) {
                data[t] = sample[0];
            }
        }
        if (sampleEnd < sequenceLength) {
            for (int t = sampleEnd; t < sequenceLength; t++) {
                data[t] = sample[sample.length - 1];
            }
        }
        for (int t = sampleStart; t < sampleEnd; t++) {
            data[t] = sample[t - sampleStart];
        }
        return data;
    }

    @Test
    void handComputedSmallCase() {
        // two demos of 3 and 5 steps, horizon 4, n_obs_steps 2 (pad before 1), n_action_steps 3 (pad after 2)
        SequenceSampler s = new SequenceSampler(new int[] {3, 8}, 4, 1, 2, new boolean[] {true, true});
        int[][] expected = {
            // demo 0 (rows 0..2): idx = -1, 0, 1
            {0, 3, 1, 4}, {0, 3, 0, 3}, {1, 3, 0, 2},
            // demo 1 (rows 3..7): idx = -1 .. 3
            {3, 6, 1, 4}, {3, 7, 0, 4}, {4, 8, 0, 4}, {5, 8, 0, 3}, {6, 8, 0, 2},
        };
        assertEquals(expected.length, s.size());
        for (int i = 0; i < expected.length; i++) {
            assertArrayEquals(expected[i], s.index(i), "window " + i);
        }
        // values: row r holds r; edge padding repeats the first / last row of the demo
        float[] rows = {0, 1, 2, 3, 4, 5, 6, 7};
        float[] out = new float[4];
        s.sampleSequence(0, rows, 1, 4, out, 0);
        assertArrayEquals(new float[] {0, 0, 1, 2}, out);
        s.sampleSequence(2, rows, 1, 4, out, 0);
        assertArrayEquals(new float[] {1, 2, 2, 2}, out);
        s.sampleSequence(7, rows, 1, 4, out, 0);
        assertArrayEquals(new float[] {6, 7, 7, 7}, out);
        float[] firstTwo = new float[2];
        s.sampleSequence(3, rows, 1, 2, firstTwo, 0); // n_obs_steps = 2: the first two steps only
        assertArrayEquals(new float[] {3, 3}, firstTwo);

        SequenceSampler onlySecond = new SequenceSampler(new int[] {3, 8}, 4, 1, 2, new boolean[] {false, true});
        assertEquals(5, onlySecond.size());
        assertArrayEquals(expected[3], onlySecond.index(0));
    }

    @Test
    void indicesAndWindowsMatchDiffusionPolicyOnRandomEpisodes() {
        Random r = new Random(7);
        for (int trial = 0; trial < 200; trial++) {
            int episodes = 1 + r.nextInt(5);
            int[] ends = new int[episodes];
            long[] endsLong = new long[episodes];
            boolean[] mask = new boolean[episodes];
            int total = 0;
            for (int e = 0; e < episodes; e++) {
                total += 1 + r.nextInt(12);
                ends[e] = total;
                endsLong[e] = total;
                mask[e] = r.nextInt(4) != 0;
            }
            int horizon = 1 + r.nextInt(10);
            int padBefore = r.nextInt(horizon + 3) - 1; // includes out-of-range values that DP clamps
            int padAfter = r.nextInt(horizon + 3) - 1;
            SequenceSampler s = new SequenceSampler(ends, horizon, padBefore, padAfter, mask);
            List<long[]> dp = dpCreateIndices(endsLong, horizon, mask, padBefore, padAfter);
            String where = "trial " + trial + ": ends " + Arrays.toString(ends) + ", mask " + Arrays.toString(mask)
                    + ", horizon " + horizon + ", pad " + padBefore + "/" + padAfter;
            assertEquals(dp.size(), s.size(), where);

            int dim = 2;
            float[] data = new float[total * dim];
            double[][] buffer = new double[total][dim];
            for (int t = 0; t < total; t++) {
                for (int j = 0; j < dim; j++) {
                    data[t * dim + j] = 10 * t + j;
                    buffer[t][j] = 10 * t + j;
                }
            }
            float[] window = new float[horizon * dim];
            for (int i = 0; i < dp.size(); i++) {
                long[] e = dp.get(i);
                int[] got = s.index(i);
                assertArrayEquals(new long[] {e[0], e[1], e[2], e[3]},
                        new long[] {got[0], got[1], got[2], got[3]}, where + ", window " + i);
                s.sampleSequence(i, data, dim, horizon, window, 0);
                double[][] ref = dpSampleSequence(buffer, e, horizon);
                for (int t = 0; t < horizon; t++) {
                    for (int j = 0; j < dim; j++) {
                        assertEquals(ref[t][j], window[t * dim + j], 0.0, where + ", window " + i + ", t " + t);
                    }
                }
            }
        }
    }
}
