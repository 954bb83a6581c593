package org.cotrain.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
        assertThrows(IOException.class, () -> AtomicFiles.write(target, out -> {
            out.write(new byte[] {9});
            throw new IOException("disk full (simulated)");
        }));
        assertArrayEquals(new byte[] {7, 7, 7}, Files.readAllBytes(target));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
    }
}
