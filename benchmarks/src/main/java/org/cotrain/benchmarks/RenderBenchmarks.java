package org.cotrain.benchmarks;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.cotrain.sim.BlockShape;
import org.cotrain.sim.Coverage;
import org.cotrain.sim.EnvPresets;
import org.cotrain.sim.Pose;
import org.cotrain.sim.RenderParams;
import org.cotrain.sim.Renderer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The sandbox's per-step image and score work, one thread (per core), in operations per second:
 * <ul>
 *   <li>render: one frame of the target preset's look (table gradient, goal marker, soft shadow, block, pusher) at
 *       {@code size} x {@code size}: 96 is the observation (target: at least 5,000 frames/s per core), 512 a video
 *       frame; shading 0 skips the gradient and shadow;</li>
 *   <li>coverage: area(block ∩ goal) / area(goal) for the T, with block poses near the goal (most part pairs clipped:
 *       the expensive case) or anywhere in the workspace (mostly early-outs by bounding circles).</li>
 * </ul>
 * Poses come from a fixed table of 1024 random ones, cycled, so the branch pattern is not one repeated pose.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Threads(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class RenderBenchmarks {

    private static final int POSES = 1024;

    /** A renderer of the target preset's look at one size and shading, and a table of random scene states. */
    @State(Scope.Thread)
    public static class Frames {
        /** Image side in pixels. */
        @Param({"96", "512"})
        public int size;

        /** render.shading: the presets' 0.5 (gradient and shadow) or 0 (flat colours). */
        @Param({"0.5", "0"})
        public double shading;

        final double[] bx = new double[POSES], by = new double[POSES], th = new double[POSES];
        final double[] px = new double[POSES], py = new double[POSES];
        Renderer renderer;
        byte[] frame;
        int i;

        @Setup(Level.Trial)
        public void setup() {
            RenderParams look = RenderParams.fromConfig(EnvPresets.get("target"), size);
            look = new RenderParams(size, look.tableColor(), look.blockColor(), look.pusherColor(), look.goalColor(),
                    shading, look.cameraDx(), look.cameraDy(), look.cameraRotationDeg());
            renderer = new Renderer(BlockShape.tee(), new Pose(256, 256, Math.PI / 4), 15, look);
            frame = new byte[renderer.frameBytes()];
            SplittableRandom rng = new SplittableRandom(1);
            for (int k = 0; k < POSES; k++) {
                bx[k] = 100 + 300 * rng.nextDouble();
                by[k] = 100 + 300 * rng.nextDouble();
                th[k] = 2 * Math.PI * rng.nextDouble();
                px[k] = 50 + 400 * rng.nextDouble();
                py[k] = 50 + 400 * rng.nextDouble();
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            renderer.close();
        }
    }

    /** The T's coverage evaluator and block poses near the goal and anywhere. */
    @State(Scope.Thread)
    public static class Poses {
        final double[] nx = new double[POSES], ny = new double[POSES], nth = new double[POSES];
        final double[] ax = new double[POSES], ay = new double[POSES], ath = new double[POSES];
        Coverage coverage;
        int i;

        @Setup(Level.Trial)
        public void setup() {
            coverage = new Coverage(BlockShape.tee());
            SplittableRandom rng = new SplittableRandom(2);
            for (int k = 0; k < POSES; k++) {
                nx[k] = 256 + 40 * (2 * rng.nextDouble() - 1);
                ny[k] = 256 + 40 * (2 * rng.nextDouble() - 1);
                nth[k] = Math.PI / 4 + 0.8 * (2 * rng.nextDouble() - 1);
                ax[k] = 100 + 300 * rng.nextDouble();
                ay[k] = 100 + 300 * rng.nextDouble();
                ath[k] = 2 * Math.PI * rng.nextDouble();
            }
        }
    }

    /** One rendered frame; returns a pixel so the work cannot be dropped. */
    @Benchmark
    public byte render(Frames f) {
        int k = f.i = (f.i + 1) & (POSES - 1);
        f.renderer.render(f.bx[k], f.by[k], f.th[k], f.px[k], f.py[k], f.frame);
        return f.frame[(k * 37) % f.frame.length];
    }

    /** Coverage of a block near the goal (within 40 px and 0.8 rad of it). */
    @Benchmark
    public double coverageNearGoal(Poses p) {
        int k = p.i = (p.i + 1) & (POSES - 1);
        return p.coverage.coverage(p.nx[k], p.ny[k], p.nth[k], 256, 256, Math.PI / 4);
    }

    /** Coverage of a block anywhere in the reset distribution (mostly early-outs). */
    @Benchmark
    public double coverageAnywhere(Poses p) {
        int k = p.i = (p.i + 1) & (POSES - 1);
        return p.coverage.coverage(p.ax[k], p.ay[k], p.ath[k], 256, 256, Math.PI / 4);
    }
}
