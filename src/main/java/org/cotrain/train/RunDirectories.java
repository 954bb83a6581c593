package org.cotrain.train;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.cotrain.config.Config;
import org.cotrain.config.ConfigException;
import org.cotrain.io.DirectoryLock;

/** The rules of a training run directory that do not need the trainer: creating it, and whether a run may resume. */
final class RunDirectories {
    private RunDirectories() {}

    /** Creates the run directory (and its parents) when missing; returns whether it was created now. */
    static boolean create(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return false;
        }
        if (Files.exists(dir)) {
            throw new IllegalArgumentException(dir + " is a file, not a directory: a run directory must be a new path"
                    + " or a run's directory");
        }
        for (Path up = dir.toAbsolutePath().getParent(); up != null; up = up.getParent()) {
            if (Files.exists(up) && !Files.isDirectory(up)) {
                throw new IllegalArgumentException("cannot create the run directory " + dir + ": " + up + " is a file,"
                        + " not a directory");
            }
        }
        try {
            Files.createDirectories(dir);
        } catch (FileAlreadyExistsException e) {
            throw new IllegalArgumentException("cannot create the run directory " + dir + ": " + e.getFile()
                    + " is a file, not a directory", e);
        } catch (IOException e) {
            throw new IOException("cannot create the run directory " + dir + ": " + e, e);
        }
        return true;
    }

    /** Removes a run directory that holds nothing (but its lock file): what a failure before any output leaves. */
    static void deleteIfEmpty(Path dir) {
        try {
            List<Path> entries = new ArrayList<>();
            try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
                s.forEach(entries::add);
            }
            for (Path p : entries) {
                if (!p.getFileName().toString().equals(DirectoryLock.FILE)) {
                    return;
                }
            }
            for (Path p : entries) {
                Files.deleteIfExists(p);
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // best effort: the error being reported matters more than the empty directory
        }
    }

    /**
     * Checks that {@code now} continues the run whose resolved config is stored in {@code stored} (a run's
     * config.yaml): every key equal except {@code allowed}. A missing stored config (a run stopped before it wrote
     * one) has nothing to compare.
     */
    static void checkResumable(Path stored, Config now, List<String> allowed) throws IOException {
        if (!Files.isRegularFile(stored)) {
            return;
        }
        Config before;
        try {
            before = Config.fromFile(stored);
        } catch (ConfigException e) {
            throw new IllegalArgumentException(stored + ": the run's stored config does not load (" + e.getMessage()
                    + "); cannot check that this config continues it", e);
        }
        Set<String> keys = new LinkedHashSet<>(before.keys());
        keys.addAll(now.keys());
        List<String> differ = new ArrayList<>();
        for (String key : keys) {
            if (allowed.contains(key)) {
                continue;
            }
            Object a = before.keys().contains(key) ? before.get(key) : "(absent)";
            Object b = now.keys().contains(key) ? now.get(key) : "(absent)";
            if (!Objects.equals(a, b)) {
                differ.add(key + ": the run has " + a + ", now " + b);
            }
        }
        if (!differ.isEmpty()) {
            throw new IllegalArgumentException("cannot resume " + stored.getParent() + " with a changed config; "
                    + String.join("; ", differ) + ". A resumed run may change only " + String.join(", ", allowed)
                    + "; train the changed config into another run directory");
        }
    }
}
