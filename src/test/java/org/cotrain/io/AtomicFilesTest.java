package org.cotrain.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {

    @Test
    void replacesTheFileWhole(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("ckpt/latest.safetensors");
        AtomicFiles.write(target, out -> out.write(new byte[] {1, 2, 3}));
        AtomicFiles.write(target, out -> out.write(new byte[] {4, 5}));
        assertArrayEquals(new byte[] {4, 5}, Files.readAllBytes(target));
        try (var files = Files.list(target.getParent())) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
    }

    /** A writer that fails half way leaves the previous file as it was. */
    @Test
    void aFailedWriteKeepsThePreviousFile(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("latest.bin");
        AtomicFiles.write(target, out -> out.write(new byte[] {7, 7, 7}));
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(target, out -> {
            out.write(new byte[] {9});
            throw new IOException("No space left on device");
        }));
        assertTrue(e.getMessage().startsWith("writing " + target + ": No space left on device"), e.getMessage());
        assertArrayEquals(new byte[] {7, 7, 7}, Files.readAllBytes(target));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
    }

    /** The file gets the mode any new file gets here (0666 less the umask), not a temporary file's 0600. */
    @Test
    void theFileGetsTheUmasksMode(@TempDir Path dir) throws IOException {
        Path plain = dir.resolve("plain");
        Files.write(plain, new byte[] {1});
        Path target = dir.resolve("atomic");
        AtomicFiles.write(target, out -> out.write(new byte[] {1}));
        Set<PosixFilePermission> expected = Files.getPosixFilePermissions(plain);
        assertEquals(expected, Files.getPosixFilePermissions(target));
    }

    /** A killed writer's temporary file (either naming: ours, or createTempFile's of earlier versions) is removed. */
    @Test
    void leftoversOfAKilledWriteAreRemoved(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve(".latest.safetensors0123456789abcdef.tmp"), new byte[] {1});
        Files.write(dir.resolve(".latest.safetensors.0123456789abcdef.tmp"), new byte[] {1});
        Files.write(dir.resolve("latest.safetensors"), new byte[] {2});
        assertEquals(2, AtomicFiles.removeLeftovers(dir));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count());
        }
    }
}
