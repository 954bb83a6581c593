package org.cotrain.data;

import static org.bytedeco.hdf5.global.hdf5.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads an HDF5 file in the robomimic layout:
 * <pre>
 * /data                      attributes total (sum of num_samples), env_args (JSON string)
 * /data/demo_N               attribute num_samples
 * /data/demo_N/actions       (N, Da)
 * /data/demo_N/obs/&lt;key&gt;     (N, D) float32/float64, or (N, H, W, 3) uint8 images
 * /data/demo_N/next_obs/&lt;key&gt;, rewards (N), dones (N), states (N, S)
 * /mask/train, /mask/valid   demo names as byte strings
 * </pre>
 * Demos are listed in numeric order (demo_2 before demo_10). Float arrays arrive as float32 (float64 is rounded);
 * {@link #readFloat} rejects NaN and Inf naming the first bad element. Every failure is a {@link DatasetException}
 * naming the file and the path in it. Not for concurrent use from several threads (HDF5 itself is serialised).
 */
public final class RobomimicReader implements AutoCloseable {
    private static final Pattern DEMO_NAME = Pattern.compile("demo_(\\d+)");

    private final Path file;
    private long fileId;
    private List<String> demos;

    private RobomimicReader(Path file, long fileId) {
        this.file = file;
        this.fileId = fileId;
    }

    /** Opens a file for reading; a missing, non-HDF5 or truncated file is a {@link DatasetException}. */
    public static RobomimicReader open(Path file) {
        if (!Files.exists(file)) {
            throw new DatasetException(file, null, "no such file");
        }
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new DatasetException(file, null, "not a readable file");
        }
        Hdf5.load();
        synchronized (Hdf5.LOCK) {
            try (Hdf5.Handle fapl = Hdf5.propertyList(Hdf5.check(H5Pcreate(H5P_CLS_FILE_ACCESS_ID_g()), file, null,
                    "cannot create a file access property list"))) {
                // Use file locks where the file system has them, and go on without where it does not (some network
                // file systems), as HDF5_USE_FILE_LOCKING=BEST_EFFORT would.
                H5Pset_file_locking(fapl.id, true, true);
                long id = H5Fopen(file.toString(), H5F_ACC_RDONLY, fapl.id);
                if (id < 0) {
                    throw openFailure(file, Hdf5.reason()); // before any other call clears HDF5's error stack
                }
                return new RobomimicReader(file, id);
            }
        }
    }

    private static DatasetException openFailure(Path file, String reason) {
        String lower = reason.toLowerCase();
        if (lower.contains("signature")) {
            return new DatasetException(file, null, "not an HDF5 file (no HDF5 signature; HDF5: " + reason + ")");
        }
        if (lower.contains("truncated")) {
            return new DatasetException(file, null, "the HDF5 file is truncated: it is shorter than its header says"
                    + " (an interrupted copy or write?; HDF5: " + reason + ")");
        }
        return new DatasetException(file, null, "cannot open as HDF5" + (reason.isEmpty() ? "" : " (HDF5: "
                + reason + ")"));
    }

    public Path file() {
        return file;
    }

    private long id() {
        if (fileId < 0) {
            throw new IllegalStateException("reader of " + file + " was used after close()");
        }
        return fileId;
    }

    /** Whether an object (group or dataset) exists at an absolute path. */
    public boolean exists(String path) {
        synchronized (Hdf5.LOCK) {
            return Hdf5.exists(id(), path);
        }
    }

    /** The demo groups under /data in numeric order: demo_0, demo_1, demo_2, demo_10 (other names are ignored). */
    public List<String> demos() {
        if (demos == null) {
            synchronized (Hdf5.LOCK) {
                if (!Hdf5.exists(id(), "/data")) {
                    throw new DatasetException(file, "/data", "not found: not a robomimic dataset (it has no /data"
                            + " group; top level: " + Hdf5.children(id(), file, "/") + ")");
                }
                List<String> names = new ArrayList<>();
                for (String name : Hdf5.children(id(), file, "/data")) {
                    if (DEMO_NAME.matcher(name).matches()) {
                        names.add(name);
                    }
                }
                names.sort(Comparator.comparingLong(RobomimicReader::demoNumber));
                demos = List.copyOf(names);
            }
        }
        return demos;
    }

    /** The number in "demo_12"; -1 for other names. */
    static long demoNumber(String name) {
        Matcher m = DEMO_NAME.matcher(name);
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    private void requireDemo(String demo) {
        if (!demos().contains(demo)) {
            throw new DatasetException(file, "/data/" + demo, "no such demo (the file has " + demos().size()
                    + " demos: " + summary(demos()) + ")");
        }
    }

    /** The demo's num_samples attribute, or the length of its actions where the attribute is missing. */
    public int numSamples(String demo) {
        requireDemo(demo);
        synchronized (Hdf5.LOCK) {
            String group = "/data/" + demo;
            if (Hdf5.hasAttribute(id(), group, "num_samples")) {
                return Math.toIntExact(Hdf5.readLongAttribute(id(), file, group, "num_samples"));
            }
        }
        return read(demo, "actions").length();
    }

    /** The /data attribute total, if present. */
    public Optional<Long> total() {
        return longAttribute("/data", "total");
    }

    /** The observation keys of a demo (the datasets under obs/), in name order. */
    public List<String> obsKeys(String demo) {
        requireDemo(demo);
        synchronized (Hdf5.LOCK) {
            String group = "/data/" + demo + "/obs";
            if (!Hdf5.exists(id(), group)) {
                throw new DatasetException(file, group, "not found: demo " + demo + " has no obs group (it has "
                        + Hdf5.children(id(), file, "/data/" + demo) + ")");
            }
            return List.copyOf(Hdf5.children(id(), file, group));
        }
    }

    /**
     * Any numeric dataset under a demo ("actions", "obs/agent_pos", "rewards"): uint8 as {@link ByteArray}, the rest
     * as {@link FloatArray}. No NaN check (see {@link #readFloat}).
     */
    public NdArray read(String demo, String key) {
        requireDemo(demo);
        String path = "/data/" + demo + "/" + key;
        synchronized (Hdf5.LOCK) {
            if (!Hdf5.exists(id(), path)) {
                throw missingKey(demo, key, path);
            }
            return Hdf5.readNumeric(id(), file, path);
        }
    }

    private DatasetException missingKey(String demo, String key, String path) {
        String groupRelative = key.contains("/") ? key.substring(0, key.lastIndexOf('/')) : "";
        String group = "/data/" + demo + (groupRelative.isEmpty() ? "" : "/" + groupRelative);
        String leaf = key.substring(key.lastIndexOf('/') + 1);
        String what = groupRelative.equals("obs") ? "obs key" : groupRelative.equals("next_obs") ? "next_obs key"
                : "key";
        String available = Hdf5.exists(id(), group) ? "available: " + String.join(", ", Hdf5.children(id(), file,
                group)) : "there is no " + group;
        String hint = groupRelative.equals("obs") && !Hdf5.exists(id(), group) ? "; a file of actions only (./cotrain"
                + " generate --actions-only) trains a low-dim policy when cotrain.guidance.action_only marks it true"
                : "";
        return new DatasetException(file, path, "not found: demo " + demo + " has no " + what + " '" + leaf + "' ("
                + available + ")" + hint);
    }

    /** A float dataset under a demo, with every element finite; a NaN or Inf names the first bad index. */
    public FloatArray readFloat(String demo, String key) {
        NdArray array = read(demo, key);
        if (!(array instanceof FloatArray f)) {
            throw new DatasetException(file, "/data/" + demo + "/" + key, "is " + array.describe()
                    + ", expected a float array");
        }
        return requireFinite(demo, key, f);
    }

    private FloatArray requireFinite(String demo, String key, FloatArray f) {
        float[] data = f.data();
        for (int i = 0; i < data.length; i++) {
            if (!Float.isFinite(data[i])) {
                throw new DatasetException(file, "/data/" + demo + "/" + key, "demo " + demo + ", key " + key + ": "
                        + data[i] + " at index " + Hdf5.indexString(f.shape(), i) + " (the first non-finite value of "
                        + f.describe() + ")");
            }
        }
        return f;
    }

    /** A uint8 dataset under a demo (images). */
    public ByteArray readUint8(String demo, String key) {
        NdArray array = read(demo, key);
        if (!(array instanceof ByteArray b)) {
            throw new DatasetException(file, "/data/" + demo + "/" + key, "is " + array.describe()
                    + ", expected uint8");
        }
        return b;
    }

    /**
     * The actions and the chosen observations of a demo, checked: every key present, float arrays finite, and all
     * arrays (and the num_samples attribute) of one length. next_obs, rewards, dones and states are not read.
     */
    public Demo readDemo(String demo, List<String> obsKeys) {
        FloatArray actions = readFloat(demo, "actions");
        Map<String, NdArray> obs = new LinkedHashMap<>();
        for (String key : obsKeys) {
            NdArray array = read(demo, "obs/" + key);
            obs.put(key, array instanceof FloatArray f ? requireFinite(demo, "obs/" + key, f) : array);
        }
        int n = actions.length();
        List<String> lengths = new ArrayList<>();
        boolean mismatch = false;
        lengths.add("actions " + n);
        for (Map.Entry<String, NdArray> e : obs.entrySet()) {
            lengths.add("obs/" + e.getKey() + " " + e.getValue().length());
            mismatch |= e.getValue().length() != n || e.getValue().shape().length == 0;
        }
        Integer attribute = null;
        synchronized (Hdf5.LOCK) {
            if (Hdf5.hasAttribute(id(), "/data/" + demo, "num_samples")) {
                attribute = Math.toIntExact(Hdf5.readLongAttribute(id(), file, "/data/" + demo, "num_samples"));
            }
        }
        if (attribute != null) {
            lengths.add("num_samples attribute " + attribute);
            mismatch |= attribute != n;
        }
        if (mismatch || actions.shape().length == 0) {
            throw new DatasetException(file, "/data/" + demo, "arrays of different lengths within demo " + demo
                    + ": " + String.join(", ", lengths) + " (every per-step array needs the same first dimension)");
        }
        return new Demo(actions, obs, Map.of(), null, null, null);
    }

    /** A mask under /mask ("train", "valid", or any robomimic filter key): demo names, if present. */
    public Optional<List<String>> mask(String name) {
        String path = "/mask/" + name;
        synchronized (Hdf5.LOCK) {
            if (!Hdf5.exists(id(), path)) {
                return Optional.empty();
            }
            return Optional.of(List.copyOf(Hdf5.readStrings(id(), file, path)));
        }
    }

    /** The names under /mask (train, valid, ...), or none. */
    public List<String> maskNames() {
        synchronized (Hdf5.LOCK) {
            return Hdf5.exists(id(), "/mask") ? List.copyOf(Hdf5.children(id(), file, "/mask")) : List.of();
        }
    }

    public Optional<List<String>> trainMask() {
        return mask("train");
    }

    public Optional<List<String>> validMask() {
        return mask("valid");
    }

    /** The environment's configuration as JSON: the /data attribute env_args, if present. */
    public Optional<String> envArgs() {
        return stringAttribute("/data", "env_args");
    }

    public Optional<String> stringAttribute(String objectPath, String name) {
        synchronized (Hdf5.LOCK) {
            if (!Hdf5.exists(id(), objectPath) || !Hdf5.hasAttribute(id(), objectPath, name)) {
                return Optional.empty();
            }
            return Optional.of(Hdf5.readStringAttribute(id(), file, objectPath, name));
        }
    }

    public Optional<Long> longAttribute(String objectPath, String name) {
        synchronized (Hdf5.LOCK) {
            if (!Hdf5.exists(id(), objectPath) || !Hdf5.hasAttribute(id(), objectPath, name)) {
                return Optional.empty();
            }
            return Optional.of(Hdf5.readLongAttribute(id(), file, objectPath, name));
        }
    }

    /** "demo_0, demo_1, ..., demo_199" for messages. */
    static String summary(List<String> names) {
        if (names.size() <= 6) {
            return String.join(", ", names);
        }
        return String.join(", ", names.subList(0, 3)) + ", ..., " + names.get(names.size() - 1);
    }

    @Override
    public void close() {
        synchronized (Hdf5.LOCK) {
            if (fileId >= 0) {
                H5Fclose(fileId);
                fileId = -1;
            }
        }
    }
}
