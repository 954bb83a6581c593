package org.cotrain.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectoryLockTest {

    /** A second process holding a claim: prints "claimed", then waits until its stdin closes (or it is killed). */
    public static final class Holder {
        public static void main(String[] args) throws Exception {
            try (DirectoryLock lock = DirectoryLock.claim(Path.of(args[0]), "the test's holder")) {
                System.out.println("claimed");
                System.out.flush();
                while (System.in.read() >= 0) {
                    // hold until the parent closes our stdin
                }
            }
        }
    }

    private static Process holder(Path dir) throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), Holder.class.getName(), dir.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("claimed", out.readLine(), "the holder process did not claim " + dir);
        return p;
    }

    @Test
    void secondClaimInThisProcessIsRefusedAndNamesTheOwner(@TempDir Path dir) {
        try (DirectoryLock first = DirectoryLock.claim(dir, "cotrain train a")) {
            var e = assertThrows(DirectoryLock.DirectoryInUseException.class,
                    () -> DirectoryLock.claim(dir, "cotrain train b"));
            assertTrue(e.getMessage().contains("pid " + ProcessHandle.current().pid()), e.getMessage());
            assertTrue(e.getMessage().contains("cotrain train a"), e.getMessage());
            // the refusal must not have dropped the first claim (closing a second channel of the file would)
            assertThrows(DirectoryLock.DirectoryInUseException.class, () -> DirectoryLock.claim(dir, "c"));
        }
        try (DirectoryLock again = DirectoryLock.claim(dir, "cotrain train c")) {
            assertNull(again.previousOwner(), "released in order: no previous owner to report");
        }
    }

    @Test
    void anotherProcessesClaimIsRefusedAndAKilledOwnersIsTakenOver(@TempDir Path dir) throws Exception {
        Process p = holder(dir);
        try {
            var e = assertThrows(DirectoryLock.DirectoryInUseException.class,
                    () -> DirectoryLock.claim(dir, "cotrain train"));
            assertTrue(e.getMessage().contains("pid " + p.pid()), e.getMessage());
            assertTrue(e.getMessage().contains("the test's holder"), e.getMessage());
        } finally {
            p.destroyForcibly(); // kill -9: the lock file stays, with the dead owner's line in it
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        }
        try (DirectoryLock taken = DirectoryLock.claim(dir, "cotrain train")) {
            assertTrue(taken.previousOwner() != null && taken.previousOwner().contains("pid " + p.pid()),
                    String.valueOf(taken.previousOwner()));
        }
    }

    @Test
    void aProcessThatEndsReleasesItsClaim(@TempDir Path dir) throws Exception {
        Process p = holder(dir);
        p.getOutputStream().close();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
        try (DirectoryLock lock = DirectoryLock.claim(dir, "next")) {
            assertNull(lock.previousOwner());
        }
    }
}
