package org.cotrain.benchmarks;

import java.util.ArrayList;
import java.util.List;
import org.cotrain.backend.Backends;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What every benchmark state shares: the backend parameter ({@code -p backend=cuda} runs a benchmark on the GPU),
 * the tensors it owns (closed at the end of the trial) and helpers to make them.
 *
 * <p>Subclasses are {@code @State(Scope.Benchmark)} and call {@link #open()} first thing in their own
 * {@code @Setup(Level.Trial)} method; each benchmark method runs its op through {@link Ops} and then
 * {@code be.synchronize()}, so that on the GPU it measures the execution of the kernel, not just its launch.
 */
@State(Scope.Benchmark)
public abstract class KernelState {

    /** cpu or cuda. */
    @Param({"cpu"})
    public String backend;

    /** The backend the benchmark runs on, set by {@link #open()}. */
    protected Backend be;

    private final List<Tensor> owned = new ArrayList<>();

    /** Resolves {@link #backend}; on cuda without a usable GPU this fails with the reason. */
    protected final void open() {
        be = resolve(backend);
    }

    /** The backend called name: cpu, or cuda (an exception saying why when there is no usable GPU). */
    static Backend resolve(String name) {
        switch (name) {
            case "cpu":
                return Backends.cpu();
            case "cuda":
                return Backends.cuda().orElseThrow(() -> new IllegalStateException(
                        "backend=cuda was asked for, but " + Backends.cudaUnavailableReason()));
            default:
                throw new IllegalArgumentException("backend must be cpu or cuda, got " + name);
        }
    }

    /** A float32 tensor of standard normal numbers from (seed, 0). */
    protected final Tensor randn(long seed, int... shape) {
        Tensor t = own(be.empty(DType.F32, shape));
        Ops.randNormal(t, seed, 0);
        return t;
    }

    protected final Tensor zeros(int... shape) {
        return own(be.zeros(shape));
    }

    protected final Tensor own(Tensor t) {
        owned.add(t);
        return t;
    }

    /** Waits for the setup's work: call at the end of a setup method. */
    protected final void ready() {
        be.synchronize();
    }

    @TearDown(Level.Trial)
    public void closeTensors() {
        if (be != null) {
            be.synchronize();
        }
        for (int i = owned.size() - 1; i >= 0; i--) {
            owned.get(i).close();
        }
        owned.clear();
    }
}
