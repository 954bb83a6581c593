package org.cotrain.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.Loader;
import org.cotrain.backend.Backends;
import org.cotrain.nativelib.CpuKernels;
import org.cotrain.tensor.Backend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code cotrain info}: versions, backends and devices, and a self-check of every op on each backend. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show versions, backends and devices, and self-check every op on each available backend.")
final class InfoCommand implements Callable<Integer> {

    @Option(names = "--no-check", description = "Skip the op self-check.")
    boolean noCheck;

    @Override
    public Integer call() {
        System.out.println("cotrain " + Main.version());
        System.out.println("  java       " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name")
                + ")");
        System.out.println("  javacpp    " + javacppVersion() + ", platform " + Loader.getPlatform());
        List<Backend> backends = new ArrayList<>();
        Backend cpu = Backends.cpu();
        backends.add(cpu);
        System.out.println("  native     libcotrain " + CpuKernels.ct_version());
        System.out.println("backends");
        System.out.println("  " + cpu.description());
        Backends.cuda().ifPresentOrElse(cuda -> {
            backends.add(cuda);
            System.out.println("  " + cuda.description());
        }, () -> System.out.println("  cuda: unavailable: " + Backends.cudaUnavailableReason()));
        System.out.println("  selected   " + Backends.select().name()
                + " (COTRAIN_BACKEND=cpu|cuda|auto overrides)");
        if (noCheck) {
            return 0;
        }
        int failures = 0;
        for (Backend backend : backends) {
            System.out.println("self-check on " + backend.name());
            for (SelfCheck.Result r : SelfCheck.run(backend, cpu)) {
                System.out.printf("  %-22s %s%n", r.op(), r.passed() ? "ok   " + r.detail() : "FAIL " + r.detail());
                failures += r.passed() ? 0 : 1;
            }
        }
        System.out.println(failures == 0 ? "all ops passed" : failures + " op check(s) failed");
        return failures == 0 ? 0 : 1;
    }

    private static String javacppVersion() {
        try {
            return Loader.getVersion();
        } catch (java.io.IOException e) {
            return "(unknown: " + e.getMessage() + ")";
        }
    }
}
