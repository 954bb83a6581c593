package org.cotrain.data;

import java.nio.file.Path;

/**
 * Bad or unreadable training data: the message names the file and the path inside it, compiler style,
 * {@code /data/pusht.hdf5:/data/demo_3/obs/agent_pos: <what is wrong>}, so that a user can open the file and look.
 */
public final class DatasetException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String path;

    /** {@code path} is the object inside the HDF5 file ("/data/demo_3/actions"), or null for the file as a whole. */
    public DatasetException(Path file, String path, String problem) {
        this(file, path, problem, null);
    }

    public DatasetException(Path file, String path, String problem, Throwable cause) {
        super(file + (path == null ? "" : ":" + path) + ": " + problem, cause);
        this.file = file;
        this.path = path;
    }

    public Path file() {
        return file;
    }

    /** The object inside the file, or null when the problem is with the file as a whole. */
    public String path() {
        return path;
    }
}
