package org.cotrain.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ForkJoinPool;
import org.cotrain.sim.DemoGenerator;
import org.cotrain.sim.EnvConfig;
import org.cotrain.sim.EnvPresets;
import org.cotrain.sim.InitialCondition;
import org.cotrain.sim.InitialConditions;
import org.cotrain.sim.PushState;
import org.cotrain.sim.PushTEnv;
import org.cotrain.sim.expert.Experts;

/**
 * {@code cotrain bench sim}: the sandbox's speed, one JSON line per measurement. Environment steps on one thread for
 * each physics model, without and with the 96x96 observation rendered at every command, under a command pattern
 * that keeps the pusher pushing (it walks toward the block's centroid); then demonstrations per second of
 * {@code generate} with images on all threads.
 */
final class SimBench {

    private SimBench() {}

    static void run(double seconds, int demos, int threads) throws Exception {
        for (String preset : List.of("target", "source")) {
            for (boolean images : new boolean[] {false, true}) {
                envSteps(EnvPresets.get(preset), images, 0.3 * seconds); // warm-up: JIT and native libraries
                double[] r = envSteps(EnvPresets.get(preset), images, seconds);
                int substeps = EnvPresets.get(preset).physics().substeps();
                System.out.printf(Locale.ROOT, "{\"bench\": \"env_steps\", \"env\": \"%s\", \"physics\": \"%s\","
                        + " \"images\": %s, \"threads\": 1, \"commands_per_s\": %.0f, \"physics_steps_per_s\": %.0f,"
                        + " \"block_moving_fraction\": %.2f}%n", preset, EnvPresets.get(preset).physics().model(), images,
                        r[0], r[0] * substeps, r[1]);
            }
        }
        for (String preset : List.of("target", "source")) {
            EnvConfig config = EnvPresets.get(preset);
            Path dir = Files.createTempDirectory("cotrain-bench");
            Path out = dir.resolve("demos.hdf5");
            ForkJoinPool pool = new ForkJoinPool(threads);
            try {
                DemoGenerator.Result r = DemoGenerator.generate(config, config.expert(),
                        i -> Experts.create(config.expert(), config), demos, out,
                        new DemoGenerator.Options(0, false, true, null, null), pool);
                System.out.printf(Locale.ROOT, "{\"bench\": \"generate\", \"env\": \"%s\", \"images\": true,"
                        + " \"threads\": %d, \"demos\": %d, \"episodes\": %d, \"samples\": %d, \"seconds\": %.2f,"
                        + " \"demos_per_s\": %.2f}%n", preset, threads, r.demos(), r.attempts(), r.samples(),
                        r.seconds(), r.demos() / r.seconds());
            } finally {
                pool.shutdown();
                Files.deleteIfExists(out);
                Files.deleteIfExists(dir);
            }
        }
    }

    /** {commands per second, fraction of commands after which the block is moving}. */
    private static double[] envSteps(EnvConfig config, boolean images, double seconds) {
        long start = System.nanoTime(), end = start + (long) (seconds * 1e9);
        long commands = 0, touching = 0;
        int episode = 0;
        double centroidX = config.shape().centroidX(), centroidY = config.shape().centroidY();
        try (PushTEnv env = new PushTEnv(config, images)) {
            while (System.nanoTime() < end) {
                InitialCondition ic = InitialConditions.sample(config, 0, episode);
                env.reset(ic, episode++);
                for (int t = 0; t < 100; t++) {
                    PushState s = env.state();
                    // Walk the pusher 30 px per command toward the block's centroid: it reaches the block and keeps
                    // pushing it (the block slides ahead, the pusher follows).
                    double c = Math.cos(s.theta), sn = Math.sin(s.theta);
                    double cx = s.bx + c * centroidX - sn * centroidY, cy = s.by + sn * centroidX + c * centroidY;
                    double dx = cx - s.px, dy = cy - s.py, d = Math.max(1e-9, Math.hypot(dx, dy));
                    env.step(new double[] {s.px + 30 * dx / d, s.py + 30 * dy / d});
                    commands++;
                    if (env.state().bvx != 0 || env.state().bvy != 0 || env.state().omega != 0) touching++;
                }
            }
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        return new double[] {commands / elapsed, touching / (double) commands};
    }
}
