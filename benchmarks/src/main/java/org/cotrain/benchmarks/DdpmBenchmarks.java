package org.cotrain.benchmarks;

import static org.cotrain.benchmarks.Work.F;

import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.cotrain.ops.Ops;
import org.cotrain.ops.Prediction;
import org.cotrain.random.Philox;
import org.cotrain.tensor.Tensor;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The batched diffusion kernels (ddpm.h), every chain at its own random timestep of the 100-step squaredcos_cap_v2
 * schedule:
 * <ul>
 *   <li>256x16x2: a DP training or sampling batch (256 chains of 16 actions of 2 dimensions, as in Push-T);</li>
 *   <li>256x4096: 1 Mi elements, big enough to show the kernels' bandwidth.</li>
 * </ul>
 * addNoise is the training-side forward process; ddpmStep the reverse step with epsilon prediction, x0 clipped to
 * [-1, 1] and the step noise drawn from Philox inside the kernel (as sampling does); ddimStep the deterministic
 * (eta = 0) DDIM step of fast inference, 10 schedule steps at a time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class DdpmBenchmarks extends KernelState {

    /** The shape of x: chains x elements per chain. */
    @Param({"256x16x2", "256x4096"})
    public String shape;

    private static final long SEED = 99;

    private Tensor x0;
    private Tensor eps;
    private Tensor xt;
    private Tensor t;
    private Tensor prevT;
    private Tensor prevTDdim;
    private Tensor abar;
    private Tensor out;

    @Setup(Level.Trial)
    public void setup() {
        open();
        int[] d = DpSizes.dims(shape);
        int b = d[0];
        int steps = DpSizes.TRAIN_TIMESTEPS;
        int[] tv = new int[b];
        int[] pv = new int[b];
        int[] pv10 = new int[b];
        for (int i = 0; i < b; i++) {
            tv[i] = Philox.randint(SEED, i, 1, steps);
            pv[i] = tv[i] - 1;
            pv10[i] = tv[i] - 10; // negative near the end of sampling: the step to the final abar
        }
        x0 = randn(1, d);
        eps = randn(2, d);
        xt = randn(3, d);
        out = zeros(d);
        t = own(be.of(tv, b));
        prevT = own(be.of(pv, b));
        prevTDdim = own(be.of(pv10, b));
        abar = own(be.of(DpSizes.squaredCosAbar(steps), steps));
        ready();
    }

    @Benchmark
    public Tensor addNoise() {
        Ops.ddpmAddNoise(x0, eps, t, abar, xt);
        be.synchronize();
        return xt;
    }

    @Benchmark
    public Tensor ddpmStep() {
        // model = eps, the noise prediction; noise = null: z drawn from Philox in the kernel.
        Ops.ddpmStep(eps, xt, t, prevT, abar, Prediction.EPSILON, true, 1f, null, SEED, 0, out);
        be.synchronize();
        return out;
    }

    @Benchmark
    public Tensor ddimStep() {
        Ops.ddimStep(eps, xt, t, prevTDdim, abar, 1f, 0f, Prediction.EPSILON, true, 1f, false, null, SEED, 0, out);
        be.synchronize();
        return out;
    }

    /**
     * The DDPM kernels over B chains of N elements (the per-chain coefficients, a few sqrt and divides per chain, are
     * negligible; so is the gather from the 100-entry abar table).
     * addNoise: xt = sqrt(abar) x0 + sqrt(1 - abar) eps: 3 FLOPs an element; x0, eps read, xt written, t read.
     * ddpmStep: x0 from xt and the model output (2), clip (2), the mean (3), + sigma z (2): about 9 FLOPs an
     * element, not counting the Philox normal draw of z (integer rounds, a log, a sqrt and a cosine: on the CPU it
     * costs more than the rest); model, xt read, out written, t and prev_t read.
     * ddimStep with eta = 0: x0 (2), clip (2), sqrt(a_p) x0 + c eps (3): about 7 FLOPs; no noise drawn; same bytes.
     *
     * @param method "addNoise", "ddpmStep" or "ddimStep"
     * @param params the JMH parameters of the run (shape, ...)
     */
    static Work.Amount work(String method, Map<String, String> params) {
        if (!method.equals("addNoise") && !method.equals("ddpmStep") && !method.equals("ddimStep")) {
            throw Work.noNapkinMath("DdpmBenchmarks." + method);
        }
        String shapeSpec = params.get("shape");
        int[] d = DpSizes.dims(shapeSpec);
        double b = d[0];
        double n = DpSizes.product(d);
        String shape = "x (" + shapeSpec.replace("x", ", ") + ")";
        switch (method) {
            case "addNoise":
                return new Work.Amount(shape, 3 * n, F * (3 * n + b), "flops = 3 B N; bytes = 4 (3 B N + B)");
            case "ddpmStep":
                return new Work.Amount(shape + ", Philox noise", 9 * n, F * (3 * n + 2 * b),
                        "flops ~ 9 B N (+ Philox normals); bytes = 4 (3 B N + 2 B)");
            default:
                return new Work.Amount(shape + ", eta 0", 7 * n, F * (3 * n + 2 * b),
                        "flops ~ 7 B N; bytes = 4 (3 B N + 2 B)");
        }
    }
}
