package org.cotrain.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.cotrain.tensor.Backend;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.BenchmarkList;
import org.openjdk.jmh.runner.BenchmarkListEntry;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.format.OutputFormat;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Runs the kernel benchmarks on one backend and prints a Markdown report: per benchmark the time per call and the
 * achieved GFLOP/s and GB/s from the napkin math of {@link Work}, against the ceilings measured in the same run by
 * {@link CeilingBenchmarks} (sgemm peak, copy bandwidth), with the empty native call as the overhead baseline.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar org.cotrain.benchmarks.KernelReport [--backend cpu|cuda] [--quick]
 *      [--include REGEX] [--param NAME=V1,V2] [--forks N] [--output FILE]
 * </pre>
 * JMH's own log goes to stderr, the report to stdout (and to --output FILE).
 */
public final class KernelReport {
    private static final String PACKAGE = "org.cotrain.benchmarks.";
    /** The order of the report's rows (JMH's own is alphabetical); parameters keep JMH's order within a benchmark. */
    private static final List<String> ORDER = List.of("CeilingBenchmarks.noop", "CeilingBenchmarks.copy",
            "CeilingBenchmarks.triad", "CeilingBenchmarks.sgemm", "MatmulBenchmarks.linear", "MatmulBenchmarks.packed",
            "DecoderInferenceBenchmarks.fused", "DecoderInferenceBenchmarks.composed",
            "AttentionBenchmarks.forward", "AttentionBenchmarks.backward", "SpatialSoftmaxBenchmarks.forward",
            "SpatialSoftmaxBenchmarks.backward", "DdpmBenchmarks.addNoise", "DdpmBenchmarks.ddpmStep",
            "DdpmBenchmarks.ddimStep", "ConvBenchmarks.forward", "ConvBenchmarks.backwardData",
            "ConvBenchmarks.backwardWeight", "GroupNormBenchmarks.forward", "GroupNormBenchmarks.backward",
            "GroupNormMishBenchmarks.fusedForward", "GroupNormMishBenchmarks.unfusedForward",
            "GroupNormMishBenchmarks.fusedBackward", "GroupNormMishBenchmarks.unfusedBackward", "FilmBenchmarks.forward",
            "FilmBenchmarks.composedForward", "FilmBenchmarks.backward", "FilmBenchmarks.composedBackward",
            "ImageOpsBenchmarks.cropToFloat", "ImageOpsBenchmarks.maxPoolForward", "ImageOpsBenchmarks.maxPoolBackward",
            "ImageOpsBenchmarks.addReluFused", "ImageOpsBenchmarks.addReluUnfused", "EncoderBenchmarks.forward",
            "EncoderBenchmarks.trainStep");

    private KernelReport() {}

    private static final String USAGE = String.join("\n",
            "usage: KernelReport [--backend cpu|cuda] [--quick] [--include REGEX] [--param NAME=V1,V2]... [--forks N]",
            "                    [--output FILE]",
            "  --backend cpu|cuda  the backend to benchmark (default cpu)",
            "  --quick             1 warmup and 3 measurement iterations of 0.2 s, a smoke run (default 3 + 5 of 1 s)",
            "  --include REGEX     only the benchmarks whose name matches (the ceilings always run), e.g. Attention",
            "  --param NAME=V,...  override a benchmark parameter, e.g. --param map=12 (see benchmarks/README.md)",
            "  --forks N           JVM forks per benchmark (default 1)",
            "  --output FILE       also write the report to FILE");

    public static void main(String[] args) throws Exception {
        String backendName = "cpu";
        boolean quick = false;
        String include = null;
        Integer forks = null;
        Path output = null;
        Map<String, String[]> params = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--backend":
                    backendName = value(args, ++i, a);
                    break;
                case "--quick":
                    quick = true;
                    break;
                case "--include":
                    include = value(args, ++i, a);
                    break;
                case "--param": {
                    String p = value(args, ++i, a);
                    int eq = p.indexOf('=');
                    if (eq <= 0) {
                        fail("--param wants NAME=V1,V2, got " + p);
                    }
                    params.put(p.substring(0, eq), p.substring(eq + 1).split(","));
                    break;
                }
                case "--forks":
                    forks = Integer.parseInt(value(args, ++i, a));
                    break;
                case "--output":
                    output = Path.of(value(args, ++i, a));
                    break;
                case "-h":
                case "--help":
                    System.out.println(USAGE);
                    return;
                default:
                    fail("unknown argument " + a);
            }
        }
        if (!backendName.equals("cpu") && !backendName.equals("cuda")) {
            fail("--backend must be cpu or cuda, got " + backendName);
        }
        // Here too, not only in the forks: to fail early with the reason, and to describe the device.
        Backend backend;
        try {
            backend = KernelState.resolve(backendName);
        } catch (RuntimeException | LinkageError e) {
            System.err.println("KernelReport: " + e.getMessage());
            System.exit(1);
            return;
        }

        // The backend, and the square sgemm's size: 4096^3 on the GPU (1024^3 and 2048^3 on the CPU are the default).
        Map<String, String[]> overrides = new LinkedHashMap<>();
        overrides.put("backend", new String[] {backendName});
        if (backendName.equals("cuda")) {
            overrides.put("square", new String[] {"4096"});
        }
        overrides.putAll(params);

        List<String> includes = new ArrayList<>();
        includes.add(include == null ? PACKAGE.replace(".", "\\.") : include);
        includes.add(PACKAGE.replace(".", "\\.") + "CeilingBenchmarks\\.");
        ChainedOptionsBuilder options = new OptionsBuilder().shouldFailOnError(false);
        for (String inc : includes) {
            options.include(inc);
        }
        // The sandbox's benchmarks (pure Java, no backend) have their own runs: java -jar benchmarks.jar Render
        options.exclude("RenderBenchmarks|PhysicsBenchmarks");
        for (Map.Entry<String, String[]> p : overrides.entrySet()) {
            options.param(p.getKey(), p.getValue());
        }
        if (quick) {
            options.warmupIterations(1).warmupTime(TimeValue.milliseconds(200)).measurementIterations(3)
                    .measurementTime(TimeValue.milliseconds(200));
        }
        if (forks != null) {
            options.forks(forks);
        }

        OutputFormat log = OutputFormatFactory.createFormatInstance(System.err, VerboseMode.NORMAL);
        Collection<RunResult> results = new Runner(options.build(), log).run();

        String report = report(backend, results, expectedRuns(log, includes, overrides), quick);
        System.out.println();
        System.out.print(report);
        System.out.flush();
        if (output != null) {
            Files.writeString(output, report, StandardCharsets.UTF_8);
            System.err.println("report written to " + output);
        }
    }

    // ---- the report -------------------------------------------------------------------------------------------------

    /** One measured benchmark with its napkin math. */
    private record Row(String name, Map<String, String> params, double micros, double error, Work.Amount work) {
        double seconds() {
            return micros * 1e-6;
        }

        double gflops() {
            return work.flops() / seconds() / 1e9;
        }

        double gbps() {
            return work.bytes() / seconds() / 1e9;
        }
    }

    static String report(Backend backend, Collection<RunResult> results, List<String> expected, boolean quick) {
        List<Row> rows = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        BenchmarkParams settings = null;
        for (RunResult r : results) {
            BenchmarkParams bp = r.getParams();
            settings = bp;
            String name = shortName(bp.getBenchmark());
            Map<String, String> params = new TreeMap<>();
            for (String key : bp.getParamsKeys()) {
                params.put(key, bp.getParam(key));
            }
            seen.add(runKey(bp.getBenchmark(), params));
            Result<?> primary = r.getPrimaryResult();
            double micros = toMicros(primary.getScore(), bp.getTimeUnit());
            double error = toMicros(primary.getScoreError(), bp.getTimeUnit());
            rows.add(new Row(name, params, micros, error, work(name, params)));
        }
        rows.sort(Comparator.comparingInt(row -> rank(row.name()))); // stable: JMH's order of the parameters

        // The ceilings, measured in this run.
        Row peakGemm = null;
        Row copy = null;
        Row noop = null;
        Row triad = null;
        for (Row row : rows) {
            switch (row.name()) {
                case "CeilingBenchmarks.sgemm":
                    if (peakGemm == null || row.gflops() > peakGemm.gflops()) {
                        peakGemm = row;
                    }
                    break;
                case "CeilingBenchmarks.copy":
                    copy = row;
                    break;
                case "CeilingBenchmarks.noop":
                    noop = row;
                    break;
                case "CeilingBenchmarks.triad":
                    triad = row;
                    break;
                default:
                    break;
            }
        }
        double peakFlops = peakGemm == null ? Double.NaN : peakGemm.gflops() * 1e9;
        // The memory ceiling is the best bandwidth measured: backend.copy is a plain memcpy, single-threaded on the
        // CPU, so there the multi-threaded triad reaches further; on the GPU the copy is usually the best.
        Row memory = copy;
        if (triad != null && (memory == null || triad.gbps() > memory.gbps())) {
            memory = triad;
        }
        double peakBytes = memory == null ? Double.NaN : memory.gbps() * 1e9;

        StringBuilder out = new StringBuilder();
        String date = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'"));
        out.append("## Kernel benchmarks: ").append(backend.name()).append(", ").append(date).append("\n\n");
        out.append("- Machine: ").append(Machine.describe()).append('\n');
        out.append("- Backend: ").append(backend.description()).append('\n');
        out.append("- JVM: ").append(System.getProperty("java.vm.name")).append(' ')
                .append(System.getProperty("java.runtime.version", System.getProperty("java.version")));
        if (settings != null) {
            out.append("; JMH ").append(settings.getJmhVersion()).append(", average time, ")
                    .append(settings.getForks()).append(settings.getForks() == 1 ? " fork, " : " forks, ")
                    .append(iterations(settings.getWarmup().getCount(), settings.getWarmup().getTime()))
                    .append(" warmup, ")
                    .append(iterations(settings.getMeasurement().getCount(), settings.getMeasurement().getTime()))
                    .append(" measurement").append(quick ? " (--quick: a smoke run, not for the record)" : "");
        }
        out.append('\n');
        out.append("- GEMM ceiling: ").append(peakGemm == null ? "not measured (sgemm failed)"
                : String.format(Locale.ROOT, "%.1f GFLOP/s (%s, %s)", peakGemm.gflops(), peakGemm.work().shape(),
                backend.name().equals("cuda") ? "cuBLAS" : "OpenBLAS")).append('\n');
        out.append("- Memory ceiling: ").append(memory == null ? "not measured (copy and triad failed)"
                : String.format(Locale.ROOT, "%.1f GB/s, the best of: copy %s (backend.copy of 256 MiB, 2 x 256 MiB"
                + " moved), triad %s (Ops.axpby over 256 MiB tensors, 3 x 256 MiB moved)", memory.gbps(),
                copy == null ? "failed" : String.format(Locale.ROOT, "%.1f GB/s", copy.gbps()),
                triad == null ? "failed" : String.format(Locale.ROOT, "%.1f GB/s", triad.gbps())));
        out.append('\n');
        out.append("- Baseline: ").append(noop == null ? "not measured (noop failed)"
                : String.format(Locale.ROOT, "%.0f ns per empty %s + synchronize (Backend.noop)", noop.micros() * 1e3,
                backend.name().equals("cuda") ? "kernel launch" : "native call")).append('\n');
        out.append('\n');

        out.append("| benchmark | shape | time/op (us) | GFLOP/s | GB/s | bound | % of ceiling |\n");
        out.append("| --- | --- | ---: | ---: | ---: | --- | ---: |\n");
        for (Row row : rows) {
            Work.Amount w = row.work();
            String bound = "";
            String pct = "";
            if (w.flops() > 0 || w.bytes() > 0) {
                // Roofline: the least time the napkin work can take at the measured ceilings, and which one binds.
                double tCompute = w.flops() / peakFlops;
                double tMemory = w.bytes() / peakBytes;
                if (!Double.isNaN(tCompute) || !Double.isNaN(tMemory)) {
                    boolean compute = Double.isNaN(tMemory) || (!Double.isNaN(tCompute) && tCompute >= tMemory);
                    bound = compute ? "GEMM" : "memory";
                    pct = String.format(Locale.ROOT, "%.0f%%", 100 * (compute ? tCompute : tMemory) / row.seconds());
                }
            }
            out.append("| ").append(row.name()).append(" | ").append(w.shape()).append(" | ")
                    .append(time(row.micros(), row.error())).append(" | ")
                    .append(w.flops() > 0 ? number(row.gflops()) : "").append(" | ")
                    .append(w.bytes() > 0 ? number(row.gbps()) : "").append(" | ")
                    .append(bound).append(" | ").append(pct).append(" |\n");
        }
        List<String> failed = new ArrayList<>(expected);
        failed.removeAll(seen);
        for (String f : failed) {
            out.append("| ").append(f).append(" | FAILED: see the JMH log (stderr) | | | | | |\n");
        }

        out.append('\n');
        out.append("time/op: JMH average time per call (including the synchronize), +- its 99.9% confidence interval. "
                + "GFLOP/s and GB/s: the napkin FLOPs and bytes below over that time (1 GB = 1e9 bytes). "
                + "bound: the ceiling that limits the napkin work (roofline: GEMM when FLOPs / GEMM ceiling > "
                + "bytes / memory ceiling). % of ceiling: that least possible time over the measured time. Above 100%: "
                + "the data stayed in cache (the memory ceiling is DRAM bandwidth), or a ceiling was measured low on a "
                + "loaded machine.\n\n");
        out.append("Napkin math (benchmarks/src/main/java/org/cotrain/benchmarks/Work.java):\n\n");
        Map<String, String> formulas = new LinkedHashMap<>();
        for (Row row : rows) {
            formulas.putIfAbsent(row.name(), row.work().formula());
        }
        for (Map.Entry<String, String> f : formulas.entrySet()) {
            out.append("- ").append(f.getKey()).append(": ").append(f.getValue()).append('\n');
        }
        return out.toString();
    }

    /** The napkin math of a run; a benchmark that Work does not know yet still gets its row, with times only. */
    private static Work.Amount work(String name, Map<String, String> params) {
        try {
            return Work.of(name, params);
        } catch (RuntimeException e) {
            Map<String, String> shown = new TreeMap<>(params);
            shown.remove("backend");
            return new Work.Amount(shown.toString(), 0, 0, "none yet (" + e.getMessage() + ")");
        }
    }

    // ---- which runs were asked for, to name the ones that failed ----------------------------------------------------

    /** "Class.method param=value ..." for every benchmark and parameter combination the options select. */
    private static List<String> expectedRuns(OutputFormat log, List<String> includes, Map<String, String[]> overrides) {
        List<String> runs = new ArrayList<>();
        try {
            for (BenchmarkListEntry e : BenchmarkList.defaultList().find(log, includes, List.of())) {
                Map<String, String[]> space = new TreeMap<>();
                if (e.getParams().hasValue()) {
                    space.putAll(e.getParams().get());
                }
                for (String key : new ArrayList<>(space.keySet())) {
                    if (overrides.containsKey(key)) {
                        space.put(key, overrides.get(key));
                    }
                }
                combinations(e.getUsername(), new ArrayList<>(space.entrySet()), 0, new TreeMap<>(), runs);
            }
        } catch (RuntimeException e) {
            System.err.println("could not list the selected benchmarks, failures will not be named: " + e);
        }
        return runs;
    }

    private static void combinations(String name, List<Map.Entry<String, String[]>> space, int i,
                                     TreeMap<String, String> chosen, List<String> out) {
        if (i == space.size()) {
            out.add(runKey(name, chosen));
            return;
        }
        for (String v : space.get(i).getValue()) {
            chosen.put(space.get(i).getKey(), v);
            combinations(name, space, i + 1, chosen, out);
        }
        chosen.remove(space.get(i).getKey());
    }

    private static String runKey(String benchmark, Map<String, String> params) {
        StringBuilder sb = new StringBuilder(shortName(benchmark));
        for (Map.Entry<String, String> p : new TreeMap<>(params).entrySet()) {
            if (!p.getKey().equals("backend")) {
                sb.append(' ').append(p.getKey()).append('=').append(p.getValue());
            }
        }
        return sb.toString();
    }

    // ---- formatting -------------------------------------------------------------------------------------------------

    private static String shortName(String benchmark) {
        return benchmark.startsWith(PACKAGE) ? benchmark.substring(PACKAGE.length()) : benchmark;
    }

    private static int rank(String name) {
        int i = ORDER.indexOf(name);
        return i < 0 ? ORDER.size() : i;
    }

    private static double toMicros(double value, TimeUnit unit) {
        return value * unit.toNanos(1) / 1e3;
    }

    private static String time(double micros, double error) {
        String t = number(micros);
        return Double.isNaN(error) ? t : t + " +- " + number(error);
    }

    /** Three significant digits or so, without exponents. */
    private static String number(double x) {
        double a = Math.abs(x);
        if (a >= 100) {
            return String.format(Locale.ROOT, "%.0f", x);
        }
        if (a >= 10) {
            return String.format(Locale.ROOT, "%.1f", x);
        }
        if (a >= 1) {
            return String.format(Locale.ROOT, "%.2f", x);
        }
        return String.format(Locale.ROOT, "%.3f", x);
    }

    private static String iterations(int count, TimeValue time) {
        return count + " x " + time;
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            fail(option + " needs a value");
        }
        return args[i];
    }

    private static void fail(String message) {
        System.err.println("KernelReport: " + message);
        System.err.println(USAGE);
        System.exit(2);
    }

    /** The machine, for the report's header: CPU model and cores from /proc/cpuinfo, memory, OS. */
    static final class Machine {
        private Machine() {}

        static String describe() {
            String model = null;
            int logical = 0;
            try {
                for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                    if (line.startsWith("model name") && model == null) {
                        model = line.substring(line.indexOf(':') + 1).trim();
                    } else if (line.startsWith("processor")) {
                        logical++;
                    }
                }
            } catch (IOException | RuntimeException e) {
                // not Linux: fall back on what the JVM knows
            }
            int available = Runtime.getRuntime().availableProcessors();
            StringBuilder sb = new StringBuilder();
            sb.append(model == null ? System.getProperty("os.arch") : model);
            sb.append(", ").append(logical > 0 ? logical : available).append(" logical CPUs");
            if (logical > 0 && available != logical) {
                sb.append(" (").append(available).append(" available to the JVM)");
            }
            long memKiB = memTotalKiB();
            if (memKiB > 0) {
                sb.append(String.format(Locale.ROOT, ", %.0f GiB RAM", memKiB / (1024.0 * 1024.0)));
            }
            sb.append(", ").append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.version"));
            return sb.toString();
        }

        private static long memTotalKiB() {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                    if (line.startsWith("MemTotal:")) {
                        return Long.parseLong(line.replaceAll("[^0-9]", ""));
                    }
                }
            } catch (IOException | RuntimeException e) {
                // unknown
            }
            return -1;
        }
    }
}
