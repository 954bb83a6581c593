package org.cotrain.sim;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Runs a batch of episodes in lock-step: every running episode waits for its next action chunk, the policy answers
 * for all of them at once ({@link BatchPolicy}: one denoising batch for a neural policy), then the environments
 * step in parallel over a thread pool. Episode i starts from initial condition i with seed i, so results do not
 * depend on batching, threads or order. Optionally records full trajectories (for datasets) and writes videos.
 */
public final class Rollouts {

    /**
     * @param images    render the 96x96 observation at every step
     * @param record    keep every observation, action, reward and physical state
     * @param videos    write a video of the first {@code videos} episodes (by index) into {@code videoDir}
     * @param videoSize video frame size in pixels
     * @param videoDir  where videos go (episode_<firstIndex + i>.mp4)
     * @param firstIndex the run-wide index of this batch's first episode (names the videos)
     */
    public record Options(boolean images, boolean record, int videos, int videoSize, Path videoDir, int firstIndex) {}

    /** A recorded episode: observations 0..N (one more than actions), actions, rewards, states 0..N-1. */
    public record Trajectory(List<Observation> observations, List<double[]> actions, List<Double> rewards,
                             List<double[]> states) {}

    /** What happened in one episode. */
    public record Episode(int index, boolean success, int steps, double maxCoverage, double finalCoverage,
                          Trajectory trajectory) {}

    private Rollouts() {}

    /**
     * Runs episodes {@code first .. first + count - 1}: initial condition {@code ics.get(i)}, seed {@code seeds[i]}
     * (indices into the lists are episode indices minus {@code first}). {@code onDone} hears each finished episode's
     * index.
     */
    public static List<Episode> run(EnvConfig config, BatchPolicy policy, List<InitialCondition> ics, long[] seeds,
                                    Options options, ForkJoinPool pool, IntConsumer onDone) throws IOException {
        int n = ics.size();
        if (seeds.length != n) throw new IllegalArgumentException(n + " initial conditions but " + seeds.length
                + " seeds");
        int history = policy.historyLength();
        PushTEnv[] envs = new PushTEnv[n];
        List<ArrayDeque<Observation>> histories = new ArrayList<>();
        List<ArrayDeque<double[]>> queues = new ArrayList<>();
        Trajectory[] trajectories = new Trajectory[n];
        Mp4Recorder[] videos = new Mp4Recorder[n];
        byte[][] frames = new byte[n][];
        try {
            for (int i = 0; i < n; i++) {
                envs[i] = new PushTEnv(config, options.images());
                Observation first = envs[i].reset(ics.get(i), seeds[i]);
                ArrayDeque<Observation> h = new ArrayDeque<>();
                for (int k = 0; k < history; k++) h.add(first);
                histories.add(h);
                queues.add(new ArrayDeque<>());
                if (options.record()) {
                    trajectories[i] = new Trajectory(new ArrayList<>(List.of(first)), new ArrayList<>(),
                            new ArrayList<>(), new ArrayList<>());
                }
                if (i < options.videos()) {
                    frames[i] = new byte[options.videoSize() * options.videoSize() * 3];
                    Path video = options.videoDir().resolve("episode_" + (options.firstIndex() + i) + ".mp4");
                    videos[i] = Mp4Recorder.open(video, options.videoSize(), options.videoSize(),
                            config.physics().controlHz());
                    envs[i].renderInto(options.videoSize(), frames[i]);
                    videos[i].write(frames[i]);
                }
            }
            policy.reset(seeds);
            boolean[] running = new boolean[n];
            Arrays.fill(running, true);
            int active = n;
            while (active > 0) {
                // Ask the policy for every running episode whose chunk is used up, in one batch.
                int[] asking = IntStream.range(0, n).filter(i -> running[i] && queues.get(i).isEmpty()).toArray();
                if (asking.length > 0) {
                    List<List<Observation>> h = new ArrayList<>();
                    for (int i : asking) h.add(List.copyOf(histories.get(i)));
                    double[][][] chunks = policy.act(asking, h);
                    for (int k = 0; k < asking.length; k++) {
                        if (chunks[k] == null || chunks[k].length == 0) {
                            throw new IllegalStateException("the policy returned no actions for episode " + asking[k]);
                        }
                        for (double[] a : chunks[k]) queues.get(asking[k]).add(a);
                    }
                }
                int[] stepping = IntStream.range(0, n).filter(i -> running[i]).toArray();
                pool.submit(() -> Arrays.stream(stepping).parallel().forEach(i -> {
                    double[] action = queues.get(i).poll();
                    double[] physicalState = options.record() ? stateVector(envs[i].state()) : null;
                    PushTEnv.StepResult r = envs[i].step(action);
                    ArrayDeque<Observation> h = histories.get(i);
                    h.removeFirst();
                    h.addLast(r.observation());
                    if (trajectories[i] != null) {
                        trajectories[i].observations().add(r.observation());
                        trajectories[i].actions().add(action.clone());
                        trajectories[i].rewards().add(r.reward());
                        trajectories[i].states().add(physicalState);
                    }
                    if (videos[i] != null) {
                        envs[i].renderInto(options.videoSize(), frames[i]);
                        videos[i].write(frames[i]);
                    }
                })).join();
                for (int i : stepping) {
                    if (envs[i].done()) {
                        running[i] = false;
                        active--;
                        if (videos[i] != null) {
                            videos[i].close();
                            videos[i] = null;
                        }
                        if (onDone != null) onDone.accept(i);
                    }
                }
            }
            List<Episode> episodes = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                episodes.add(new Episode(i, envs[i].success(), envs[i].steps(), envs[i].maxCoverage(),
                        envs[i].coverage(), trajectories[i]));
            }
            return episodes;
        } finally {
            for (Mp4Recorder v : videos) if (v != null) v.close();
            for (PushTEnv e : envs) if (e != null) e.close();
        }
    }

    /** The full physical state: pusher x, y, vx, vy, block x, y, angle, vx, vy, omega (the dataset's states). */
    public static double[] stateVector(PushState s) {
        return new double[] {s.px, s.py, s.pvx, s.pvy, s.bx, s.by, s.theta, s.bvx, s.bvy, s.omega};
    }
}
