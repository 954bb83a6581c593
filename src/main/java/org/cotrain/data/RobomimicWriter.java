package org.cotrain.data;

import static org.bytedeco.hdf5.global.hdf5.*;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes an HDF5 file in the robomimic layout (see {@link RobomimicReader}): demos with their num_samples attribute,
 * the /data attribute total (written on {@link #close()}), env_args, and masks. Arrays are stored as given:
 * float32 for {@link FloatArray}s, uint8 for {@link ByteArray}s, rewards float64 and dones int64 as robomimic's
 * scripts write them. Files written here open in h5py and robomimic.
 *
 * <p>{@link #writeDemo} checks that every per-step array of the demo has the same length; the low-level
 * {@code write*} methods write exactly what they are given (the tests make malformed files with them).
 */
public final class RobomimicWriter implements AutoCloseable {
    private final Path file;
    private long fileId;
    private final Set<String> demos = new LinkedHashSet<>();
    private long total;

    private RobomimicWriter(Path file, long fileId) {
        this.file = file;
        this.fileId = fileId;
    }

    /** Creates (or truncates) a file with an empty /data group. */
    public static RobomimicWriter create(Path file) {
        Hdf5.load();
        synchronized (Hdf5.LOCK) {
            long id = Hdf5.check(H5Fcreate(file.toString(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), file, null,
                    "cannot create HDF5 file");
            RobomimicWriter writer = new RobomimicWriter(file, id);
            Hdf5.ensureGroups(id, file, "/data");
            return writer;
        }
    }

    public Path file() {
        return file;
    }

    private long id() {
        if (fileId < 0) {
            throw new IllegalStateException("writer of " + file + " was used after close()");
        }
        return fileId;
    }

    /** The next free name: demo_0, demo_1, ... in the order demos are added. */
    public String addDemo(Demo demo) {
        String name = "demo_" + demos.size();
        while (demos.contains(name)) {
            name = name + "_";
        }
        writeDemo(name, demo);
        return name;
    }

    /** Writes /data/{name}: actions, obs/*, next_obs/*, rewards, dones, states (those present), num_samples. */
    public void writeDemo(String name, Demo demo) {
        String group = "/data/" + name;
        int n = demo.numSamples();
        checkLength(group, "actions", demo.actions(), n);
        demo.obs().forEach((key, a) -> checkLength(group, "obs/" + key, a, n));
        demo.nextObs().forEach((key, a) -> checkLength(group, "next_obs/" + key, a, n));
        if (demo.rewards() != null && demo.rewards().length != n) {
            throw new DatasetException(file, group + "/rewards", demo.rewards().length + " rewards for " + n
                    + " steps");
        }
        if (demo.dones() != null && demo.dones().length != n) {
            throw new DatasetException(file, group + "/dones", demo.dones().length + " dones for " + n + " steps");
        }
        if (demo.states() != null) {
            checkLength(group, "states", demo.states(), n);
        }
        if (!demos.add(name)) {
            throw new DatasetException(file, group, "demo written twice");
        }
        synchronized (Hdf5.LOCK) {
            Hdf5.ensureGroups(id(), file, group);
            writeArray(group + "/actions", demo.actions());
            for (Map.Entry<String, NdArray> e : demo.obs().entrySet()) {
                writeArray(group + "/obs/" + e.getKey(), e.getValue());
            }
            for (Map.Entry<String, NdArray> e : demo.nextObs().entrySet()) {
                writeArray(group + "/next_obs/" + e.getKey(), e.getValue());
            }
            if (demo.rewards() != null) {
                double[] rewards = new double[n];
                for (int i = 0; i < n; i++) {
                    rewards[i] = demo.rewards()[i];
                }
                writeFloat64(group + "/rewards", new int[] {n}, rewards);
            }
            if (demo.dones() != null) {
                long[] dones = new long[n];
                for (int i = 0; i < n; i++) {
                    dones[i] = demo.dones()[i];
                }
                writeInt64(group + "/dones", new int[] {n}, dones);
            }
            if (demo.states() != null) {
                writeArray(group + "/states", demo.states());
            }
            writeLongAttribute(group, "num_samples", n);
        }
        total += n;
    }

    private void checkLength(String group, String key, NdArray array, int n) {
        if (array.shape().length == 0 || array.length() != n) {
            throw new DatasetException(file, group + "/" + key, array.describe() + " does not have the demo's " + n
                    + " steps (as actions " + "has) in its first dimension");
        }
    }

    /** The /data attribute env_args: the environment's configuration as a JSON string. */
    public void writeEnvArgs(String json) {
        writeStringAttribute("/data", "env_args", json);
    }

    /** /mask/{name} ("train", "valid", or a filter key): demo names as fixed-length byte strings. */
    public void writeMask(String name, List<String> demoNames) {
        synchronized (Hdf5.LOCK) {
            Hdf5.writeStrings(id(), file, "/mask/" + name, demoNames);
        }
    }

    // ---- low level ------------------------------------------------------------------------------------------------

    /** A float32 or uint8 dataset at an absolute path (groups are created as needed). */
    public void writeArray(String path, NdArray array) {
        synchronized (Hdf5.LOCK) {
            if (array instanceof FloatArray f) {
                Hdf5.writeFloat32(id(), file, path, f);
            } else {
                Hdf5.writeUint8(id(), file, path, (ByteArray) array);
            }
        }
    }

    public void writeFloat64(String path, int[] shape, double[] values) {
        NdArray.checkedShape(shape, values.length, "float64 array");
        synchronized (Hdf5.LOCK) {
            Hdf5.writeFloat64(id(), file, path, shape, values);
        }
    }

    public void writeInt64(String path, int[] shape, long[] values) {
        NdArray.checkedShape(shape, values.length, "int64 array");
        synchronized (Hdf5.LOCK) {
            Hdf5.writeInt64(id(), file, path, shape, values);
        }
    }

    /** A scalar variable-length UTF-8 string attribute on a group or dataset (created as a group if missing). */
    public void writeStringAttribute(String objectPath, String name, String value) {
        synchronized (Hdf5.LOCK) {
            if (!Hdf5.exists(id(), objectPath)) {
                Hdf5.ensureGroups(id(), file, objectPath);
            }
            Hdf5.writeStringAttribute(id(), file, objectPath, name, value);
        }
    }

    /** A scalar int64 attribute on a group or dataset (created as a group if missing). */
    public void writeLongAttribute(String objectPath, String name, long value) {
        synchronized (Hdf5.LOCK) {
            if (!Hdf5.exists(id(), objectPath)) {
                Hdf5.ensureGroups(id(), file, objectPath);
            }
            Hdf5.writeLongAttribute(id(), file, objectPath, name, value);
        }
    }

    /**
     * Makes what is written so far durable: the /data attribute total, then HDF5's buffers to disk. A process killed
     * after a flush leaves a file that opens with every demo written before it.
     */
    public void flush() {
        synchronized (Hdf5.LOCK) {
            Hdf5.writeLongAttribute(id(), file, "/data", "total", total);
            Hdf5.check(H5Fflush(id(), H5F_SCOPE_GLOBAL), file, null, "cannot flush the file");
        }
    }

    /** The names of the demos written so far, in order. */
    public List<String> demoNames() {
        return List.copyOf(demos);
    }

    /** Writes the /data attribute total (the sum of the demos' num_samples) and closes the file. */
    @Override
    public void close() {
        synchronized (Hdf5.LOCK) {
            if (fileId < 0) {
                return;
            }
            long id = fileId;
            fileId = -1;
            try {
                Hdf5.writeLongAttribute(id, file, "/data", "total", total);
            } finally {
                Hdf5.check(H5Fclose(id), file, null, "cannot close (flush) the file");
            }
        }
    }
}
