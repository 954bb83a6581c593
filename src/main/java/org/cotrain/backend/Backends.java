package org.cotrain.backend;

import java.util.Locale;
import java.util.Optional;
import org.cotrain.tensor.Backend;

/**
 * Finds the backends of this machine and picks one: CUDA when a GPU is usable, else the CPU.
 * {@code COTRAIN_BACKEND=cpu|cuda|auto} (or the system property {@code cotrain.backend}) forces the choice; asking
 * for cuda where it is unusable is an error that says why. {@code COTRAIN_NUM_THREADS} sets the CPU threads.
 *
 * <p>The backends are made once per JVM and shared: they hold no per-caller state except the CUDA stream.
 */
public final class Backends {
    private static CpuBackend cpu;
    private static CudaBackend cuda;
    private static String cudaReason; // why CUDA is unusable, once probed; null if usable or not yet probed
    private static boolean cudaProbed;

    private Backends() {}

    /** The CPU backend, always available. */
    public static synchronized CpuBackend cpu() {
        if (cpu == null) {
            cpu = new CpuBackend(intSetting("COTRAIN_NUM_THREADS", "cotrain.numThreads", 0));
        }
        return cpu;
    }

    /** The CUDA backend on device 0, or empty with {@link #cudaUnavailableReason()} saying why. */
    public static synchronized Optional<Backend> cuda() {
        if (!cudaProbed) {
            cudaProbed = true;
            try {
                cuda = new CudaBackend(0);
            } catch (UnsatisfiedLinkError e) {
                cudaReason = "cotrain was built without its CUDA kernels (no nvcc at build time) or they cannot be"
                        + " loaded: " + firstLine(e.getMessage());
            } catch (CudaException e) {
                cudaReason = e.getMessage();
            } catch (RuntimeException | LinkageError e) {
                cudaReason = "the CUDA backend failed to start: " + e;
            }
        }
        return Optional.ofNullable(cuda);
    }

    /** Why {@link #cuda()} is empty, in one line; null when CUDA is usable. */
    public static synchronized String cudaUnavailableReason() {
        cuda();
        return cudaReason;
    }

    /**
     * The backend to use: the forced one if COTRAIN_BACKEND says so, else CUDA when usable, else the CPU (the
     * reason CUDA was passed over is printed once to stderr by callers that care, via cudaUnavailableReason()).
     */
    public static Backend select() {
        String choice = setting("COTRAIN_BACKEND", "cotrain.backend", "auto").toLowerCase(Locale.ROOT);
        switch (choice) {
            case "cpu":
                return cpu();
            case "cuda":
                return cuda().orElseThrow(() -> new IllegalStateException(
                        "COTRAIN_BACKEND=cuda was asked for, but " + cudaUnavailableReason()));
            case "auto":
            case "":
                return cuda().map(b -> (Backend) b).orElseGet(Backends::cpu);
            default:
                throw new IllegalArgumentException("COTRAIN_BACKEND=" + choice + " is not a backend; use cpu, cuda or"
                        + " auto");
        }
    }

    /**
     * The backend a config's training.device names: "auto" as {@link #select()}, "cpu", or "cuda" / "cuda:0" (an
     * error saying why when CUDA is unusable). threads > 0 sets the CPU backend's threads.
     */
    public static Backend forDevice(String device, int threads) {
        String d = device.toLowerCase(Locale.ROOT);
        Backend backend;
        if (d.equals("auto")) {
            backend = select();
        } else if (d.equals("cpu")) {
            backend = cpu();
        } else if (d.equals("cuda") || d.equals("cuda:0")) {
            backend = cuda().orElseThrow(() -> new IllegalStateException("training.device=" + device
                    + " was asked for, but " + cudaUnavailableReason()));
        } else {
            throw new IllegalArgumentException("training.device=" + device + ": cotrain uses one GPU (cuda or cuda:0),"
                    + " the CPU (cpu) or picks (auto)");
        }
        if (threads > 0 && backend instanceof CpuBackend c) {
            c.setThreads(threads);
        }
        return backend;
    }

    private static String setting(String env, String property, String fallback) {
        String value = System.getProperty(property);
        if (value == null) {
            value = System.getenv(env);
        }
        return value == null ? fallback : value.trim();
    }

    private static int intSetting(String env, String property, int fallback) {
        String value = setting(env, property, null);
        if (value == null || value.isEmpty()) {
            return fallback;
        }
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(env + "=" + value + " is not an integer");
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
