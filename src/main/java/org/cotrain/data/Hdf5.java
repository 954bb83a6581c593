package org.cotrain.data;

import static org.bytedeco.hdf5.global.hdf5.*;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongToIntFunction;
import org.bytedeco.hdf5.H5E_error2_t;
import org.bytedeco.hdf5.H5E_walk2_t;
import org.bytedeco.hdf5.H5G_info_t;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * The HDF5 C library (the JavaCPP preset org.bytedeco:hdf5), loaded quietly, with failures turned into
 * {@link DatasetException}s that name the file, the path in it and HDF5's own reason. The readers and writers of
 * this package call HDF5 only through here.
 *
 * <p>Quiet loading, two parts:
 * <ul>
 *   <li>The newest HDF5 preset, 1.14.3-1.5.10, was built with an older JavaCPP than the engine's. Its presets class
 *       runs {@code Loader.checkVersion("org.bytedeco", "hdf5")} in its static initialiser, which prints
 *       "Warning: Versions of org.bytedeco:javacpp:... and org.bytedeco:hdf5:... do not match." on System.err.
 *       checkVersion logs only while {@code Loader.isLoadLibraries()} is true, and that method reads the system
 *       property {@code org.bytedeco.javacpp.loadlibraries} on every call. So {@link #load()} initialises that
 *       presets class (its initialiser does nothing else) with the property set to false, restores the property,
 *       and only then loads the libraries. (The other routes do not work: JavaCPP's Logger is fixed when Loader is
 *       first used and always prints warnings; routing it to SLF4J would hide all of JavaCPP's warnings.)</li>
 *   <li>HDF5 prints an error stack to stderr on every failed call; {@code H5Eset_auto2(H5E_DEFAULT, null, null)}
 *       turns that off, and {@link #reason()} reads the innermost message of the stack for our exceptions.</li>
 * </ul>
 *
 * <p>The preset's library is built without thread safety: every call goes through {@link #LOCK}.
 */
final class Hdf5 {
    /** Held around every HDF5 call: the library is not thread-safe. */
    static final Object LOCK = new Object();

    private static final String[] LOAD_LIBRARIES_PROPERTIES = {
        "org.bytedeco.javacpp.loadlibraries", "org.bytedeco.javacpp.loadLibraries"
    };

    private static boolean loaded;
    private static ErrorWalker errorWalker;

    private Hdf5() {}

    /** Loads the library once (quietly, see the class comment) and turns off HDF5's own error printing. */
    static void load() {
        synchronized (LOCK) {
            if (loaded) {
                return;
            }
            initialisePresetWithoutVersionWarning();
            if (H5open() < 0) {
                throw new IllegalStateException("the HDF5 library did not initialise (H5open failed)");
            }
            H5Eset_auto2(H5E_DEFAULT, null, null);
            errorWalker = new ErrorWalker();
            loaded = true;
        }
    }

    private static void initialisePresetWithoutVersionWarning() {
        String[] saved = new String[LOAD_LIBRARIES_PROPERTIES.length];
        for (int i = 0; i < saved.length; i++) {
            saved[i] = System.getProperty(LOAD_LIBRARIES_PROPERTIES[i]);
            System.setProperty(LOAD_LIBRARIES_PROPERTIES[i], "false");
        }
        try {
            Class.forName("org.bytedeco.hdf5.presets.hdf5", true, Hdf5.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("the HDF5 preset (org.bytedeco:hdf5) is not on the class path", e);
        } finally {
            for (int i = 0; i < saved.length; i++) {
                if (saved[i] == null) {
                    System.clearProperty(LOAD_LIBRARIES_PROPERTIES[i]);
                } else {
                    System.setProperty(LOAD_LIBRARIES_PROPERTIES[i], saved[i]);
                }
            }
        }
    }

    /** "1.14.3": the version of the loaded library. */
    static String libraryVersion() {
        load();
        synchronized (LOCK) {
            int[] major = new int[1];
            int[] minor = new int[1];
            int[] release = new int[1];
            H5get_libversion(major, minor, release);
            return major[0] + "." + minor[0] + "." + release[0];
        }
    }

    // ---- errors ---------------------------------------------------------------------------------------------------

    /** Collects the innermost description of HDF5's error stack (walked upward, so record 0 is the innermost). */
    private static final class ErrorWalker extends H5E_walk2_t {
        String innermost;

        @Override
        public int call(int n, H5E_error2_t error, Pointer clientData) {
            if (n == 0 && error.desc() != null) {
                innermost = error.desc().getString();
            }
            return 0;
        }
    }

    /** HDF5's reason for the last failure ("file signature not found"), then clears the stack; "" when none. */
    static String reason() {
        errorWalker.innermost = null;
        H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, errorWalker, null);
        H5Eclear2(H5E_DEFAULT);
        return errorWalker.innermost == null ? "" : errorWalker.innermost;
    }

    /** Throws if an HDF5 call returned a negative id or status; returns the value otherwise. */
    static long check(long result, Path file, String path, String what) {
        if (result < 0) {
            String reason = reason();
            throw new DatasetException(file, path, what + (reason.isEmpty() ? "" : " (HDF5: " + reason + ")"));
        }
        return result;
    }

    // ---- handles --------------------------------------------------------------------------------------------------

    /** An HDF5 identifier closed by try-with-resources. */
    static final class Handle implements AutoCloseable {
        final long id;
        private final LongToIntFunction closer;

        private Handle(long id, LongToIntFunction closer) {
            this.id = id;
            this.closer = closer;
        }

        @Override
        public void close() {
            closer.applyAsInt(id);
        }
    }

    static Handle group(long id) {
        return new Handle(id, g -> H5Gclose(g));
    }

    static Handle dataset(long id) {
        return new Handle(id, d -> H5Dclose(d));
    }

    static Handle space(long id) {
        return new Handle(id, s -> H5Sclose(s));
    }

    static Handle type(long id) {
        return new Handle(id, t -> H5Tclose(t));
    }

    static Handle attribute(long id) {
        return new Handle(id, a -> H5Aclose(a));
    }

    static Handle propertyList(long id) {
        return new Handle(id, p -> H5Pclose(p));
    }

    // ---- structure ------------------------------------------------------------------------------------------------

    /** Whether every link along an absolute path exists ("/data/demo_0/obs/x"). */
    static boolean exists(long file, String path) {
        String prefix = "";
        for (String part : path.split("/")) {
            if (part.isEmpty()) {
                continue;
            }
            prefix = prefix + "/" + part;
            if (H5Lexists(file, prefix, H5P_DEFAULT) <= 0) {
                H5Eclear2(H5E_DEFAULT);
                return false;
            }
        }
        return true;
    }

    /** The names of a group's links, in HDF5's name order (sort them yourself where order matters). */
    static List<String> children(long file, Path fileName, String groupPath) {
        try (Handle group = group(check(H5Gopen2(file, groupPath, H5P_DEFAULT), fileName, groupPath,
                "cannot open group"))) {
            H5G_info_t info = new H5G_info_t();
            try {
                check(H5Gget_info(group.id, info), fileName, groupPath, "cannot list group");
                long n = info.nlinks();
                List<String> names = new ArrayList<>();
                for (long i = 0; i < n; i++) {
                    long length = check(H5Lget_name_by_idx(group.id, ".", H5_INDEX_NAME, H5_ITER_INC, i,
                            (byte[]) null, 0, H5P_DEFAULT), fileName, groupPath, "cannot read link name " + i);
                    byte[] name = new byte[(int) length + 1];
                    check(H5Lget_name_by_idx(group.id, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, name.length,
                            H5P_DEFAULT), fileName, groupPath, "cannot read link name " + i);
                    names.add(new String(name, 0, (int) length, StandardCharsets.UTF_8));
                }
                return names;
            } finally {
                info.close();
            }
        }
    }

    /** Creates the groups along an absolute path that do not exist yet ("/data/demo_0/obs"). */
    static void ensureGroups(long file, Path fileName, String groupPath) {
        String prefix = "";
        for (String part : groupPath.split("/")) {
            if (part.isEmpty()) {
                continue;
            }
            prefix = prefix + "/" + part;
            if (!exists(file, prefix)) {
                group(check(H5Gcreate2(file, prefix, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), fileName, prefix,
                        "cannot create group")).close();
            }
        }
    }

    static String parent(String path) {
        int slash = path.lastIndexOf('/');
        return slash <= 0 ? "/" : path.substring(0, slash);
    }

    // ---- reading datasets -----------------------------------------------------------------------------------------

    /** Shape of a dataspace (empty for a scalar). */
    private static int[] shapeOf(long space, Path file, String path) {
        int rank = (int) check(H5Sget_simple_extent_ndims(space), file, path, "cannot read the shape");
        long[] dims = new long[rank];
        if (rank > 0) {
            check(H5Sget_simple_extent_dims(space, dims, (long[]) null), file, path, "cannot read the shape");
        }
        int[] shape = new int[rank];
        long numel = 1;
        for (int i = 0; i < rank; i++) {
            numel *= dims[i];
            if (dims[i] > Integer.MAX_VALUE || numel > Integer.MAX_VALUE - 8) {
                throw new DatasetException(file, path, "too large to read at once (" + java.util.Arrays.toString(dims)
                        + ", more than 2^31 elements)");
            }
            shape[i] = (int) dims[i];
        }
        return shape;
    }

    /** The element type of a dataset in words ("float64", "uint8", "string"), for messages. */
    static String typeName(long type) {
        int cls = H5Tget_class(type);
        long size = H5Tget_size(type);
        if (cls == H5T_FLOAT) {
            return "float" + 8 * size;
        }
        if (cls == H5T_INTEGER) {
            return (H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + 8 * size;
        }
        if (cls == H5T_STRING) {
            return "string";
        }
        return "HDF5 type class " + cls;
    }

    /**
     * A numeric dataset: uint8 as a {@link ByteArray} (read straight into a direct buffer), everything else numeric as
     * a {@link FloatArray}: float32 as is, float64 rounded to float32 (values beyond float32's range are an error),
     * other integers converted by HDF5. No check for NaN or Inf here (see {@link RobomimicReader#readFloat}).
     */
    static NdArray readNumeric(long file, Path fileName, String path) {
        try (Handle ds = dataset(check(H5Dopen2(file, path, H5P_DEFAULT), fileName, path, "cannot open dataset"));
                Handle space = space(check(H5Dget_space(ds.id), fileName, path, "cannot read the dataspace"));
                Handle type = type(check(H5Dget_type(ds.id), fileName, path, "cannot read the element type"))) {
            int[] shape = shapeOf(space.id, fileName, path);
            int n = Math.toIntExact(org.cotrain.tensor.Tensor.numel(shape));
            int cls = H5Tget_class(type.id);
            long size = H5Tget_size(type.id);
            if (cls == H5T_INTEGER && size == 1 && H5Tget_sign(type.id) == H5T_SGN_NONE) {
                ByteBuffer buffer = ByteBuffer.allocateDirect(n);
                try (BytePointer p = new BytePointer(buffer)) {
                    check(H5Dread(ds.id, H5T_NATIVE_UINT8_g(), H5S_ALL, H5S_ALL, H5P_DEFAULT, p), fileName, path,
                            "cannot read uint8 data");
                }
                return new ByteArray(shape, buffer);
            }
            if (cls == H5T_FLOAT && size == 8) {
                double[] values = new double[n];
                try (DoublePointer p = new DoublePointer(n)) {
                    check(H5Dread(ds.id, H5T_NATIVE_DOUBLE_g(), H5S_ALL, H5S_ALL, H5P_DEFAULT, p), fileName, path,
                            "cannot read float64 data");
                    p.get(values);
                }
                float[] out = new float[n];
                for (int i = 0; i < n; i++) {
                    out[i] = (float) values[i];
                    if (Double.isFinite(values[i]) && Float.isInfinite(out[i])) {
                        throw new DatasetException(fileName, path, "float64 value " + values[i] + " at index "
                                + indexString(shape, i) + " is beyond the float32 range");
                    }
                }
                return new FloatArray(shape, out);
            }
            if (cls == H5T_FLOAT || cls == H5T_INTEGER) {
                float[] out = new float[n];
                try (FloatPointer p = new FloatPointer(n)) {
                    check(H5Dread(ds.id, H5T_NATIVE_FLOAT_g(), H5S_ALL, H5S_ALL, H5P_DEFAULT, p), fileName, path,
                            "cannot read " + typeName(type.id) + " data as float32");
                    p.get(out);
                }
                return new FloatArray(shape, out);
            }
            throw new DatasetException(fileName, path, "is a " + typeName(type.id)
                    + " dataset; expected float32, float64 or uint8 numbers");
        }
    }

    /** "[12, 3]": a flat index as a multi-index of the shape. */
    static String indexString(int[] shape, long flat) {
        long[] index = new long[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            index[d] = shape[d] == 0 ? 0 : flat % shape[d];
            flat = shape[d] == 0 ? flat : flat / shape[d];
        }
        return java.util.Arrays.toString(index);
    }

    /** A dataset of strings, fixed-length (numpy 'S', as robomimic writes masks) or variable-length. */
    static List<String> readStrings(long file, Path fileName, String path) {
        try (Handle ds = dataset(check(H5Dopen2(file, path, H5P_DEFAULT), fileName, path, "cannot open dataset"));
                Handle space = space(check(H5Dget_space(ds.id), fileName, path, "cannot read the dataspace"));
                Handle type = type(check(H5Dget_type(ds.id), fileName, path, "cannot read the element type"))) {
            int[] shape = shapeOf(space.id, fileName, path);
            if (H5Tget_class(type.id) != H5T_STRING) {
                throw new DatasetException(fileName, path, "is a " + typeName(type.id)
                        + " dataset; expected strings (demo names)");
            }
            int n = Math.toIntExact(org.cotrain.tensor.Tensor.numel(shape));
            return readStrings(fileName, path, type.id, space.id, n,
                    (memType, buffer) -> H5Dread(ds.id, memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer));
        }
    }

    private interface RawRead {
        int read(long memType, Pointer buffer);
    }

    private static List<String> readStrings(Path fileName, String path, long fileType, long space, int n,
            RawRead read) {
        List<String> out = new ArrayList<>(n);
        if (H5Tis_variable_str(fileType) > 0) {
            try (Handle memType = type(H5Tcopy(H5T_C_S1_g()));
                    PointerPointer<BytePointer> pointers = new PointerPointer<>(Math.max(n, 1))) {
                H5Tset_size(memType.id, H5T_VARIABLE);
                H5Tset_cset(memType.id, H5Tget_cset(fileType));
                check(read.read(memType.id, pointers), fileName, path, "cannot read variable-length strings");
                for (int i = 0; i < n; i++) {
                    BytePointer s = pointers.get(BytePointer.class, i);
                    out.add(s == null ? "" : s.getString(StandardCharsets.UTF_8));
                }
                H5Treclaim(memType.id, space, H5P_DEFAULT, pointers);
            }
            return out;
        }
        long size = H5Tget_size(fileType);
        try (BytePointer buffer = new BytePointer(Math.max(1, n * size))) {
            check(read.read(fileType, buffer), fileName, path, "cannot read fixed-length strings");
            byte[] all = new byte[(int) (n * size)];
            buffer.get(all);
            for (int i = 0; i < n; i++) {
                int start = (int) (i * size);
                int end = start + (int) size;
                // NULLTERM and NULLPAD strings end at the first NUL, SPACEPAD ones have trailing blanks.
                int stop = start;
                while (stop < end && all[stop] != 0) {
                    stop++;
                }
                while (stop > start && all[stop - 1] == ' ') {
                    stop--;
                }
                out.add(new String(all, start, stop - start, StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    // ---- attributes -----------------------------------------------------------------------------------------------

    static boolean hasAttribute(long file, String objectPath, String name) {
        int r = H5Aexists_by_name(file, objectPath, name, H5P_DEFAULT);
        if (r < 0) {
            H5Eclear2(H5E_DEFAULT);
        }
        return r > 0;
    }

    /** An integer attribute with one element (robomimic's num_samples, total), converted to long by HDF5. */
    static long readLongAttribute(long file, Path fileName, String objectPath, String name) {
        String where = objectPath + " attribute " + name;
        try (Handle attr = attribute(check(H5Aopen_by_name(file, objectPath, name, H5P_DEFAULT, H5P_DEFAULT),
                fileName, objectPath, "cannot open attribute " + name));
                Handle type = type(check(H5Aget_type(attr.id), fileName, objectPath, "attribute " + name));
                Handle space = space(check(H5Aget_space(attr.id), fileName, objectPath, "attribute " + name));
                LongPointer value = new LongPointer(1)) {
            int cls = H5Tget_class(type.id);
            if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
                throw new DatasetException(fileName, where, "is " + typeName(type.id) + ", expected an integer");
            }
            if (H5Sget_simple_extent_npoints(space.id) != 1) {
                throw new DatasetException(fileName, where, "has " + H5Sget_simple_extent_npoints(space.id)
                        + " elements, expected one");
            }
            check(H5Aread(attr.id, H5T_NATIVE_LLONG_g(), value), fileName, objectPath, "cannot read attribute "
                    + name);
            return value.get();
        }
    }

    /** A string attribute (variable-length, as h5py writes Python str, or fixed-length). */
    static String readStringAttribute(long file, Path fileName, String objectPath, String name) {
        try (Handle attr = attribute(check(H5Aopen_by_name(file, objectPath, name, H5P_DEFAULT, H5P_DEFAULT),
                fileName, objectPath, "cannot open attribute " + name));
                Handle type = type(check(H5Aget_type(attr.id), fileName, objectPath, "attribute " + name));
                Handle space = space(check(H5Aget_space(attr.id), fileName, objectPath, "attribute " + name))) {
            if (H5Tget_class(type.id) != H5T_STRING) {
                throw new DatasetException(fileName, objectPath + " attribute " + name, "is " + typeName(type.id)
                        + ", expected a string");
            }
            List<String> values = readStrings(fileName, objectPath, type.id, space.id, 1,
                    (memType, buffer) -> H5Aread(attr.id, memType, buffer));
            return values.get(0);
        }
    }

    static void deleteAttributeIfPresent(long file, Path fileName, String objectPath, String name) {
        if (hasAttribute(file, objectPath, name)) {
            check(H5Adelete_by_name(file, objectPath, name, H5P_DEFAULT), fileName, objectPath,
                    "cannot replace attribute " + name);
        }
    }

    /** A scalar int64 attribute. */
    static void writeLongAttribute(long file, Path fileName, String objectPath, String name, long value) {
        deleteAttributeIfPresent(file, fileName, objectPath, name);
        try (Handle space = space(check(H5Screate(H5S_SCALAR), fileName, objectPath, "cannot create dataspace"));
                Handle attr = attribute(check(H5Acreate_by_name(file, objectPath, name, H5T_STD_I64LE_g(), space.id,
                        H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), fileName, objectPath, "cannot create attribute "
                        + name));
                LongPointer p = new LongPointer(1)) {
            p.put(value);
            check(H5Awrite(attr.id, H5T_NATIVE_LLONG_g(), p), fileName, objectPath, "cannot write attribute "
                    + name);
        }
    }

    /** A scalar variable-length UTF-8 string attribute: what h5py writes for a Python str (robomimic's env_args). */
    static void writeStringAttribute(long file, Path fileName, String objectPath, String name, String value) {
        deleteAttributeIfPresent(file, fileName, objectPath, name);
        try (Handle type = type(check(H5Tcopy(H5T_C_S1_g()), fileName, objectPath, "cannot make string type"));
                Handle space = space(check(H5Screate(H5S_SCALAR), fileName, objectPath, "cannot create dataspace"));
                BytePointer text = new BytePointer(value, StandardCharsets.UTF_8);
                PointerPointer<BytePointer> pointers = new PointerPointer<>(1)) {
            H5Tset_size(type.id, H5T_VARIABLE);
            H5Tset_cset(type.id, H5T_CSET_UTF8);
            pointers.put(0, text);
            try (Handle attr = attribute(check(H5Acreate_by_name(file, objectPath, name, type.id, space.id,
                    H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), fileName, objectPath, "cannot create attribute " + name))) {
                check(H5Awrite(attr.id, type.id, pointers), fileName, objectPath, "cannot write attribute " + name);
            }
        }
    }

    // ---- writing datasets -----------------------------------------------------------------------------------------

    /** Creates a dataset of the given file type and shape (groups along the path too) and writes it from memory. */
    static void writeDataset(long file, Path fileName, String path, long fileType, long memType, int[] shape,
            Pointer data) {
        writeDataset(file, fileName, path, fileType, memType, shape, data, H5P_DEFAULT);
    }

    /** {@link #writeDataset}, with a dataset creation property list (chunking, compression). */
    static void writeDataset(long file, Path fileName, String path, long fileType, long memType, int[] shape,
            Pointer data, long creationProperties) {
        ensureGroups(file, fileName, parent(path));
        long[] dims = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            dims[i] = shape[i];
        }
        try (Handle space = space(check(shape.length == 0 ? H5Screate(H5S_SCALAR)
                        : H5Screate_simple(shape.length, dims, (long[]) null), fileName, path,
                        "cannot create dataspace"));
                Handle ds = dataset(check(H5Dcreate2(file, path, fileType, space.id, H5P_DEFAULT,
                        creationProperties, H5P_DEFAULT), fileName, path, "cannot create dataset"))) {
            check(H5Dwrite(ds.id, memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), fileName, path,
                    "cannot write dataset");
        }
    }

    /** A 1-D dataset of fixed-length, NUL-padded ASCII/UTF-8 strings: numpy's 'S' dtype, as robomimic's masks. */
    static void writeStrings(long file, Path fileName, String path, List<String> values) {
        byte[][] encoded = new byte[values.size()][];
        int width = 1;
        for (int i = 0; i < encoded.length; i++) {
            encoded[i] = values.get(i).getBytes(StandardCharsets.UTF_8);
            width = Math.max(width, encoded[i].length);
        }
        byte[] packed = new byte[encoded.length * width];
        for (int i = 0; i < encoded.length; i++) {
            System.arraycopy(encoded[i], 0, packed, i * width, encoded[i].length);
        }
        try (Handle type = type(check(H5Tcopy(H5T_C_S1_g()), fileName, path, "cannot make string type"));
                BytePointer data = new BytePointer(Math.max(1, packed.length))) {
            H5Tset_size(type.id, width);
            H5Tset_strpad(type.id, H5T_STR_NULLPAD);
            data.put(packed);
            writeDataset(file, fileName, path, type.id, type.id, new int[] {values.size()}, data);
        }
    }

    static void writeFloat32(long file, Path fileName, String path, FloatArray array) {
        try (FloatPointer p = new FloatPointer(array.data())) {
            writeDataset(file, fileName, path, H5T_IEEE_F32LE_g(), H5T_NATIVE_FLOAT_g(), array.shape(), p);
        }
    }

    static void writeFloat64(long file, Path fileName, String path, int[] shape, double[] values) {
        try (DoublePointer p = new DoublePointer(values)) {
            writeDataset(file, fileName, path, H5T_IEEE_F64LE_g(), H5T_NATIVE_DOUBLE_g(), shape, p);
        }
    }

    static void writeInt64(long file, Path fileName, String path, int[] shape, long[] values) {
        try (LongPointer p = new LongPointer(values)) {
            writeDataset(file, fileName, path, H5T_STD_I64LE_g(), H5T_NATIVE_LLONG_g(), shape, p);
        }
    }

    static void writeUint8(long file, Path fileName, String path, ByteArray array) {
        ByteBuffer buffer = array.data();
        try (BytePointer p = buffer.isDirect() ? new BytePointer(buffer.duplicate().clear())
                        : new BytePointer(array.toByteArray());
                Handle properties = imageProperties(fileName, path, array.shape())) {
            writeDataset(file, fileName, path, H5T_STD_U8LE_g(), H5T_NATIVE_UINT8_g(), array.shape(), p,
                    properties == null ? H5P_DEFAULT : properties.id);
        }
    }

    /**
     * Images (N, H, W, C) are stored in chunks of 8 frames with deflate level 1, as h5py's compression="gzip" would:
     * rendered frames are mostly flat colour and shrink about tenfold, at a cost far below rendering them. Other
     * uint8 arrays are written contiguous (null).
     */
    private static Handle imageProperties(Path fileName, String path, int[] shape) {
        if (shape.length != 4 || shape[0] == 0) {
            return null;
        }
        Handle plist = propertyList(check(H5Pcreate(H5P_CLS_DATASET_CREATE_ID_g()), fileName, path,
                "cannot create dataset properties"));
        long[] chunk = {Math.min(8, shape[0]), shape[1], shape[2], shape[3]};
        check(H5Pset_chunk(plist.id, 4, chunk), fileName, path, "cannot set chunking");
        check(H5Pset_deflate(plist.id, 1), fileName, path, "cannot set deflate compression");
        return plist;
    }
}
