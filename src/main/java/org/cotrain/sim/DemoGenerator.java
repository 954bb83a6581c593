package org.cotrain.sim;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;
import java.util.function.IntConsumer;
import java.util.function.IntFunction;
import org.cotrain.data.ByteArray;
import org.cotrain.data.Demo;
import org.cotrain.data.FloatArray;
import org.cotrain.data.NdArray;
import org.cotrain.data.RobomimicWriter;

/**
 * Makes a demonstration dataset: the environment's expert runs episodes 0, 1, 2, ... of a seed (batches stepped in
 * parallel), and the successful ones (or all, when asked) are written in episode order to a robomimic-layout HDF5
 * file until there are enough. Each demo is flushed to disk as it is written, so an interrupted run leaves a file
 * holding every demo finished before the interruption. The same seed gives the same file whatever the thread count.
 */
public final class DemoGenerator {

    /** What a generation run did. */
    public record Result(Path file, int demos, int attempts, int successes, long samples, double seconds) {}

    /**
     * @param seed           seed of the initial conditions and of each episode's randomness
     * @param keepFailures   write unsuccessful episodes too
     * @param images         render and store obs/image
     * @param onEpisode      hears every finished episode (for a progress bar)
     * @param onDemo         hears every demo written (the count so far)
     * @param actionsOnly    write the actions (with rewards and dones) and no observations, next_obs or states: sim
     *                       data for the action prior of classifier-free guidance (cotrain.guidance.action_only); the
     *                       /data attribute cotrain_actions_only is 1. Nothing is rendered.
     */
    public record Options(long seed, boolean keepFailures, boolean images, IntConsumer onEpisode,
                          IntConsumer onDemo, boolean actionsOnly) {

        public Options(long seed, boolean keepFailures, boolean images, IntConsumer onEpisode, IntConsumer onDemo) {
            this(seed, keepFailures, images, onEpisode, onDemo, false);
        }

        public Options {
            if (actionsOnly && images) {
                throw new IllegalArgumentException("an actions-only dataset has no images: leave images off");
            }
        }
    }

    private DemoGenerator() {}

    /**
     * Writes {@code demos} demos of the demonstrator ({@code expert} names it in the file and messages; the factory
     * makes one policy per episode) to {@code out}.
     */
    public static Result generate(EnvConfig config, String expert, IntFunction<Policy> demonstrator, int demos,
                                  Path out, Options options, ForkJoinPool pool) throws IOException {
        if (demos <= 0) throw new IllegalArgumentException("--demos must be > 0, got " + demos);
        long start = System.nanoTime();
        int batch = Math.max(8, 4 * pool.getParallelism());
        // A budget that a working expert never reaches; a broken one stops with a clear message instead of looping.
        int maxAttempts = 3 * demos + 64;
        int attempts = 0, successes = 0, written = 0;
        long samples = 0;
        try (RobomimicWriter writer = RobomimicWriter.create(out)) {
            writer.writeEnvArgs(config.toJson());
            writer.writeStringAttribute("/data", "cotrain_expert", expert);
            writer.writeLongAttribute("/data", "cotrain_seed", options.seed());
            if (options.actionsOnly()) {
                writer.writeLongAttribute("/data", "cotrain_actions_only", 1);
            }
            writer.flush();
            Thread hook = new Thread(writer::close, "close " + out.getFileName());
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                while (written < demos) {
                    if (attempts >= maxAttempts) {
                        throw new IllegalStateException("the " + expert + " expert succeeded in only " + successes
                                + " of " + attempts + " episodes of " + config.name() + "; " + written + " demos are in "
                                + out + " (use --keep-failures to keep every episode)");
                    }
                    int first = attempts;
                    int count = Math.min(batch, maxAttempts - attempts);
                    List<InitialCondition> ics = new ArrayList<>();
                    long[] seeds = new long[count];
                    for (int i = 0; i < count; i++) {
                        ics.add(InitialConditions.sample(config, options.seed(), first + i));
                        seeds[i] = InitialConditions.episodeSeed(options.seed(), first + i);
                    }
                    BatchPolicy policy = BatchPolicy.perEpisode(demonstrator, pool);
                    List<Rollouts.Episode> episodes = Rollouts.run(config, policy, ics, seeds,
                            new Rollouts.Options(options.images(), true, 0, 0, null, first), pool, options.onEpisode());
                    attempts += count;
                    for (Rollouts.Episode e : episodes) {
                        if (e.success()) successes++;
                        if (written < demos && (e.success() || options.keepFailures())) {
                            Demo demo = toDemo(e.trajectory(), options.images());
                            if (options.actionsOnly()) {
                                demo = new Demo(demo.actions(), Map.of(), Map.of(), demo.rewards(), demo.dones(),
                                        null);
                            }
                            writer.writeDemo("demo_" + written, demo);
                            writer.writeLongAttribute("/data/demo_" + written, "cotrain_episode", first + e.index());
                            writer.flush();
                            written++;
                            samples += demo.numSamples();
                            if (options.onDemo() != null) options.onDemo().accept(written);
                        }
                    }
                }
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is already closing the file
                }
            }
        }
        return new Result(out, written, attempts, successes, samples, (System.nanoTime() - start) / 1e9);
    }

    /** A recorded episode in the dataset layout (see issue 4 and MISSION.md "Data formats"). */
    static Demo toDemo(Rollouts.Trajectory t, boolean images) {
        int n = t.actions().size();
        Map<String, NdArray> obs = new LinkedHashMap<>();
        Map<String, NdArray> next = new LinkedHashMap<>();
        if (images) {
            obs.put("image", images(t.observations(), 0, n));
            next.put("image", images(t.observations(), 1, n));
        }
        for (String key : List.of("agent_pos", "keypoints", "state")) {
            obs.put(key, lowdim(t.observations(), key, 0, n));
            next.put(key, lowdim(t.observations(), key, 1, n));
        }
        float[] actions = new float[2 * n];
        float[] rewards = new float[n];
        int[] dones = new int[n];
        float[] states = new float[10 * n];
        for (int i = 0; i < n; i++) {
            actions[2 * i] = (float) t.actions().get(i)[0];
            actions[2 * i + 1] = (float) t.actions().get(i)[1];
            rewards[i] = t.rewards().get(i).floatValue();
            double[] s = t.states().get(i);
            for (int k = 0; k < 10; k++) states[10 * i + k] = (float) s[k];
        }
        dones[n - 1] = 1;
        return new Demo(new FloatArray(new int[] {n, 2}, actions), obs, next, rewards, dones,
                new FloatArray(new int[] {n, 10}, states));
    }

    private static FloatArray lowdim(List<Observation> observations, String key, int offset, int n) {
        int d = observations.get(0).lowdim(key).length;
        float[] out = new float[n * d];
        for (int i = 0; i < n; i++) {
            double[] v = observations.get(i + offset).lowdim(key);
            for (int k = 0; k < d; k++) out[i * d + k] = (float) v[k];
        }
        return new FloatArray(new int[] {n, d}, out);
    }

    private static ByteArray images(List<Observation> observations, int offset, int n) {
        int size = PushTEnv.OBS_SIZE * PushTEnv.OBS_SIZE * 3;
        byte[] out = new byte[n * size];
        for (int i = 0; i < n; i++) System.arraycopy(observations.get(i + offset).image(), 0, out, i * size, size);
        return ByteArray.of(out, n, PushTEnv.OBS_SIZE, PushTEnv.OBS_SIZE, 3);
    }
}
