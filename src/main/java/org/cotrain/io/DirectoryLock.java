package org.cotrain.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An exclusive claim on a directory (a training run, a sweep, a sweep point) by one process: an OS file lock on
 * DIR/.lock ({@link FileChannel#tryLock}, fcntl on Linux, also over NFS with a lock daemon) whose content names the
 * owner (pid, host, start time, what it does). A second claimant, in this process or another, gets a
 * {@link DirectoryInUseException} naming that owner. The OS drops the lock when its process dies (kill -9
 * included), so a lock file left behind by a dead owner is stale by construction and the next claim takes it over.
 * The file stays after {@link #close} (deleting it would let two claimants lock two different files).
 */
public final class DirectoryLock implements AutoCloseable {
    public static final String FILE = ".lock";

    /** The directory is claimed by a live owner. */
    public static final class DirectoryInUseException extends IllegalStateException {
        DirectoryInUseException(String message) {
            super(message);
        }
    }

    private static final Map<Path, String> HELD = new ConcurrentHashMap<>(); // lock file -> owner, in this JVM

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;
    private final String previousOwner;

    private DirectoryLock(Path file, FileChannel channel, FileLock lock, String previousOwner) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
        this.previousOwner = previousOwner;
    }

    /**
     * Claims {@code dir} (which must exist) for this process; {@code purpose} says what for, e.g. "cotrain train
     * small_cpu". Throws {@link DirectoryInUseException} when another claim holds it.
     */
    public static DirectoryLock claim(Path dir, String purpose) {
        Path file;
        try {
            file = dir.toRealPath().resolve(FILE); // one key per directory, however it is spelled
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock " + dir + ": " + e.getMessage(), e);
        }
        String me = "pid " + ProcessHandle.current().pid() + " on " + host() + ", since " + Instant.now() + ": "
                + purpose;
        // Claims of this JVM are checked here, before any channel opens: on Linux closing any channel of a file
        // drops every lock this process holds on it, so a refused second channel must never be opened and closed.
        String heldHere = HELD.putIfAbsent(file, me);
        if (heldHere != null) {
            throw inUse(dir, file, heldHere);
        }
        FileChannel channel = null;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            String owner = read(channel);
            if (lock == null) {
                throw inUse(dir, file, owner.isBlank() ? "another process" : owner);
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((me + "\n").getBytes(StandardCharsets.UTF_8)), 0);
            channel.force(false);
            return new DirectoryLock(file, channel, lock, owner.isBlank() ? null : owner);
        } catch (IOException e) {
            HELD.remove(file);
            closeQuietly(channel);
            throw new UncheckedIOException("cannot lock " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            HELD.remove(file);
            closeQuietly(channel);
            throw e;
        }
    }

    private static DirectoryInUseException inUse(Path dir, Path file, String owner) {
        return new DirectoryInUseException(dir + " is in use by " + owner + " (lock " + file + "); wait for it to"
                + " finish or stop it, or use another directory");
    }

    /** The owner recorded by a previous claim that ended without releasing (a killed process), or null. */
    public String previousOwner() {
        return previousOwner;
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() {
        try {
            if (channel.isOpen()) {
                channel.truncate(0); // empty: released in order (a non-empty unlocked file is a dead owner's)
                lock.release();
            }
        } catch (IOException e) {
            // releasing fails only when the channel is already gone; the OS drops the lock with it
        } finally {
            closeQuietly(channel);
            HELD.remove(file);
        }
    }

    private static String read(FileChannel channel) throws IOException {
        long size = Math.min(channel.size(), 4096);
        ByteBuffer buf = ByteBuffer.allocate((int) size);
        channel.read(buf, 0);
        return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8).trim();
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            String name = ManagementFactory.getRuntimeMXBean().getName(); // pid@host
            return name.contains("@") ? name.substring(name.indexOf('@') + 1) : "unknown host";
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing left to release
            }
        }
    }

}
