package org.cotrain.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoint: where a run keeps it, the step from the header, and errors that name the file and the key. */
class CheckpointTest {

    @Test
    void stepIsReadFromTheHeaderAndZeroWithoutACheckpoint(@TempDir Path dir) throws IOException {
        Path ck = Checkpoint.in(dir);
        assertEquals(dir.resolve("checkpoints").resolve("latest.safetensors"), ck);
        assertEquals(0, Checkpoint.step(ck), "no file yet");
        Files.createDirectories(ck.getParent());
        Files.write(ck, new byte[] {1, 2, 3});
        assertEquals(0, Checkpoint.step(ck), "unreadable: no progress; the run reports the file when it loads it");
        Checkpoint.writer("a: 1\n").metadata(Checkpoint.STEP, "1234").write(ck);
        assertEquals(1234, Checkpoint.step(ck));
    }

    @Test
    void partsAndErrorsNameTheFileAndTheKey(@TempDir Path dir) throws IOException {
        Path withConfig = dir.resolve("policy.safetensors");
        Checkpoint.writer("a: 1\n").add(Checkpoint.NORMALIZER_PREFIX + "obs.scale", new float[] {2f, 3f}, 2)
                .add("model.w", new float[] {1f}, 1).write(withConfig);
        Safetensors file = Safetensors.read(withConfig);
        assertEquals("a: 1\n", Checkpoint.configYaml(file));
        assertEquals("pt", file.metadata().get("format"), "torch's safetensors loader expects the format tag");
        assertFalse(Checkpoint.hasEma(file));
        assertEquals(1, Checkpoint.tensorsWithPrefix(file, Checkpoint.NORMALIZER_PREFIX).size());
        var e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.require(file, Checkpoint.STEP));
        assertTrue(e.getMessage().contains(withConfig.toString()) && e.getMessage().contains(Checkpoint.STEP),
                e.getMessage());

        Path bare = dir.resolve("bare.safetensors");
        Safetensors.writer().add(Checkpoint.EMA_PREFIX + "model.w", new float[] {1f}, 1).write(bare);
        Safetensors b = Safetensors.read(bare);
        assertTrue(Checkpoint.hasEma(b));
        e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.configYaml(b));
        assertTrue(e.getMessage().contains(bare.toString()) && e.getMessage().contains(Checkpoint.CONFIG),
                e.getMessage());
    }
}
