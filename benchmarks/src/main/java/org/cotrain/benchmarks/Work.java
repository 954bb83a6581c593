package org.cotrain.benchmarks;

import java.util.Map;
import java.util.function.BiFunction;

/**
 * The napkin math: for a benchmark and its parameters, the floating-point operations and the bytes moved to and from
 * memory by one invocation, counted the way a roofline does:
 * <ul>
 *   <li>FLOPs: multiply and add count as one each (a GEMM is 2 M N K); transcendental functions (exp, log, sqrt)
 *       count as one; integer work (Philox random numbers, index arithmetic) is not counted.</li>
 *   <li>Bytes: every input read once and every output written once, at 4 bytes an element (float32 and int32);
 *       an accumulated gradient (dx += ...) is read and written. This is the least traffic any implementation
 *       needs: caches that hold a whole operand across calls can make the achieved GB/s exceed it.</li>
 * </ul>
 * Each benchmark class counts its own, beside its benchmarks, in a {@code static Work.Amount work(String method,
 * Map<String, String> params)} (e.g. {@link AttentionBenchmarks#work}); {@link #of} finds it by the class name. The
 * shapes come from {@link DpSizes}, as in the benchmarks themselves.
 */
public final class Work {
    /** What one invocation does: a readable shape, its FLOPs and bytes, and how they were counted. */
    public record Amount(String shape, double flops, double bytes, String formula) {}

    private Work() {}

    static final double F = 4; // bytes per float32 or int32 element

    /** Each benchmark class's napkin math, by its simple name. */
    private static final Map<String, BiFunction<String, Map<String, String>, Amount>> BY_CLASS = Map.ofEntries(
            Map.entry("CeilingBenchmarks", CeilingBenchmarks::work),
            Map.entry("MatmulBenchmarks", MatmulBenchmarks::work),
            Map.entry("DecoderInferenceBenchmarks", DecoderInferenceBenchmarks::work),
            Map.entry("AttentionBenchmarks", AttentionBenchmarks::work),
            Map.entry("SpatialSoftmaxBenchmarks", SpatialSoftmaxBenchmarks::work),
            Map.entry("DdpmBenchmarks", DdpmBenchmarks::work),
            Map.entry("ConvBenchmarks", ConvBenchmarks::work),
            Map.entry("GroupNormBenchmarks", GroupNormBenchmarks::work),
            Map.entry("GroupNormMishBenchmarks", GroupNormMishBenchmarks::work),
            Map.entry("FilmBenchmarks", FilmBenchmarks::work),
            Map.entry("ImageOpsBenchmarks", ImageOpsBenchmarks::work),
            Map.entry("EncoderBenchmarks", EncoderBenchmarks::work));

    /**
     * The work of one call of a benchmark.
     *
     * @param benchmark "Class.method", e.g. "AttentionBenchmarks.forward"
     * @param params    the JMH parameters of the run (backend, attn, map, ...)
     */
    public static Amount of(String benchmark, Map<String, String> params) {
        int dot = benchmark.indexOf('.');
        BiFunction<String, Map<String, String>, Amount> work =
                dot < 0 ? null : BY_CLASS.get(benchmark.substring(0, dot));
        if (work == null) {
            throw noNapkinMath(benchmark);
        }
        return work.apply(benchmark.substring(dot + 1), params);
    }

    /** The error for a benchmark ("Class.method") that has no napkin math. */
    static IllegalArgumentException noNapkinMath(String benchmark) {
        return new IllegalArgumentException("no napkin math for benchmark " + benchmark);
    }
}
