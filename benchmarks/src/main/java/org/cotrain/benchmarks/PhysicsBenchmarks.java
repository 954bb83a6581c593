package org.cotrain.benchmarks;

import java.util.concurrent.TimeUnit;
import org.cotrain.sim.BlockContacts;
import org.cotrain.sim.BlockShape;
import org.cotrain.sim.PhysicsModel;
import org.cotrain.sim.PhysicsParams;
import org.cotrain.sim.PushState;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Physics steps per second on one thread, for each model, with the pusher in contact and pushing the T (not a free
 * block, which would skip the solver): each invocation replays one pushing episode of {@link #STEPS} physics steps
 * from the same start, the pusher 10 px off the stem's axis below its end and commanded 30 px further up the
 * workspace every control step (about 250 px/s), so the block slides and turns against table friction the whole
 * time. Setup checks that the pusher touches the block in at least 90% of the steps. The score is physics steps per
 * second (ops/s); the target is 50,000 per core.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar PhysicsBenchmarks
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class PhysicsBenchmarks {

    /** Physics steps per invocation: 20 commands at the Push-T rates (2 s of simulated time). */
    static final int STEPS = 200;

    @Param({"dynamic", "quasi_static"})
    public String model;

    private PhysicsModel physics;
    private final PushState start = new PushState();
    private final PushState work = new PushState();

    @Setup(Level.Trial)
    public void setup() {
        BlockShape tee = BlockShape.tee();
        physics = PhysicsModel.create(tee, PhysicsParams.pushT(model));
        start.bx = 256;
        start.by = 300;
        start.theta = 0;
        start.px = 256 + 10;
        start.py = 300 + 120 + physics.params().pusherRadius() + 0.5;
        // The episode must be a pushing one: count the steps that end with the pusher touching the block.
        BlockContacts contacts = new BlockContacts(tee, physics.params().pusherRadius());
        work.copyFrom(start);
        int touching = 0, sub = physics.params().substeps();
        double tx = 0, ty = 0;
        for (int i = 0; i < STEPS; i++) {
            if (i % sub == 0) {
                tx = work.px;
                ty = work.py - 30;
            }
            physics.step(work, tx, ty);
            if (contacts.find(work.bx, work.by, work.theta, work.px, work.py, 0.5) > 0) touching++;
        }
        if (touching < STEPS * 9 / 10) {
            throw new IllegalStateException(model + ": the pusher touches the block in only " + touching + " of "
                    + STEPS + " steps; the benchmark would not measure pushing");
        }
    }

    @Benchmark
    @OperationsPerInvocation(STEPS)
    public PushState push() {
        PushState s = work;
        s.copyFrom(start);
        int sub = physics.params().substeps();
        double tx = 0, ty = 0;
        for (int i = 0; i < STEPS; i++) {
            if (i % sub == 0) {
                tx = s.px;
                ty = s.py - 30;
            }
            physics.step(s, tx, ty);
        }
        return s;
    }
}
