package org.cotrain.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each kind of bad input gives a DatasetException that names the file, the path in it and the problem. */
class BadDatasetTest {
    @TempDir
    Path dir;

    private static DatasetException loadFails(Path file, List<String> obsKeys, int obsDim, int actionDim) {
        return assertThrows(DatasetException.class, () -> DemoDataset.load(file, obsKeys, obsDim, actionDim));
    }

    private static void assertMentions(DatasetException e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message lacks '" + part + "': " + e.getMessage());
        }
    }

    @Test
    void truncatedFile() throws Exception {
        Path good = DataTesting.writeFile(dir.resolve("good.hdf5"), new int[] {50, 60}, null, null);
        Path cut = Files.copy(good, dir.resolve("cut.hdf5"));
        try (RandomAccessFile f = new RandomAccessFile(cut.toFile(), "rw")) {
            f.setLength(f.length() / 2);
        }
        DatasetException e = loadFails(cut, List.of("agent_pos"), 2, 2);
        assertEquals(cut, e.file());
        assertMentions(e, cut.toString(), "truncated");
    }

    @Test
    void fileThatIsNotHdf5() throws Exception {
        Path text = Files.writeString(dir.resolve("notes.hdf5"), "demo_0,1,2,3\n".repeat(100));
        DatasetException e = loadFails(text, List.of("agent_pos"), 2, 2);
        assertMentions(e, text.toString(), "not an HDF5 file");
    }

    @Test
    void missingFile() {
        DatasetException e = loadFails(dir.resolve("absent.hdf5"), List.of("agent_pos"), 2, 2);
        assertMentions(e, "absent.hdf5", "no such file");
    }

    @Test
    void hdf5FileWithoutData() throws Exception {
        Path file = dir.resolve("empty.hdf5");
        try (RobomimicWriter w = RobomimicWriter.create(file)) {
            w.writeLongAttribute("/other", "x", 1);
        }
        // the writer always makes /data; an empty /data has no demos
        DatasetException e = loadFails(file, List.of("agent_pos"), 2, 2);
        assertMentions(e, file.toString(), "/data", "no demos");
    }

    @Test
    void missingObsKeyNamesDemoKeyAndTheAvailableKeys() {
        Path file = DataTesting.writeFile(dir.resolve("keys.hdf5"), new int[] {3, 4}, null, null);
        DatasetException e = loadFails(file, List.of("agent_pos", "block_pose"), 5, 2);
        assertEquals("/data/demo_0/obs/block_pose", e.path());
        assertMentions(e, file + ":/data/demo_0/obs/block_pose", "demo demo_0", "'block_pose'",
                "available: agent_pos, keypoint");
    }

    @Test
    void missingActions() {
        Path file = dir.resolve("no-actions.hdf5");
        try (RobomimicWriter w = RobomimicWriter.create(file)) {
            w.writeArray("/data/demo_0/obs/agent_pos", new FloatArray(new int[] {3, 2}, new float[6]));
        }
        DatasetException e = loadFails(file, List.of("agent_pos"), 2, 2);
        assertMentions(e, "/data/demo_0/actions", "has no key 'actions'", "available: obs");
    }

    @Test
    void arraysOfDifferentLengthsWithinADemo() {
        Path file = dir.resolve("lengths.hdf5");
        try (RobomimicWriter w = RobomimicWriter.create(file)) {
            w.writeDemo("demo_0", DataTesting.demo(0, 4));
            w.writeArray("/data/demo_1/actions", new FloatArray(new int[] {10, 2}, new float[20]));
            w.writeArray("/data/demo_1/obs/agent_pos", new FloatArray(new int[] {9, 2}, new float[18]));
        }
        DatasetException e = loadFails(file, List.of("agent_pos"), 2, 2);
        assertEquals("/data/demo_1", e.path());
        assertMentions(e, "different lengths", "actions 10", "obs/agent_pos 9");
    }

    @Test
    void numSamplesAttributeThatDisagreesWithTheArrays() {
        Path file = dir.resolve("num-samples.hdf5");
        try (RobomimicWriter w = RobomimicWriter.create(file)) {
            w.writeDemo("demo_0", DataTesting.demo(0, 4));
            w.writeLongAttribute("/data/demo_0", "num_samples", 5);
        }
        DatasetException e = loadFails(file, List.of("agent_pos"), 2, 2);
        assertMentions(e, "/data/demo_0", "num_samples attribute 5", "actions 4");
    }

    @Test
    void nanInObservationsNamesDemoKeyAndFirstBadIndex() {
        Path file = dir.resolve("nan.hdf5");
        float[] pos = new float[8 * 2];
        pos[3 * 2 + 1] = Float.NaN;
        pos[5 * 2] = Float.NaN;
        try (RobomimicWriter w = RobomimicWriter.create(file)) {
            w.writeDemo("demo_0", DataTesting.demo(0, 8));
            w.writeArray("/data/demo_1/actions", new FloatArray(new int[] {8, 2}, new float[16]));
            w.writeArray("/data/demo_1/obs/agent_pos", new FloatArray(new int[] {8, 2}, pos));
        }
        DatasetException e = loadFails(file, List.of("agent_pos"), 2, 2);
        assertEquals("/data/demo_1/obs/agent_pos", e.path());
        assertMentions(e, "demo demo_1", "key obs/agent_pos", "NaN at index [3, 1]");
    }

    @Test
    void infinityInFloat64ActionsNamesDemoKeyAndFirstBadIndex() {
        Path file = dir.resolve("inf.hdf5");
        double[] actions = new double[6 * 2];
        actions[4 * 2] = Double.NEGATIVE_INFINITY;
        try (RobomimicWriter w = RobomimicWriter.create(file)) {
            w.writeFloat64("/data/demo_0/actions", new int[] {6, 2}, actions);
            w.writeArray("/data/demo_0/obs/agent_pos", new FloatArray(new int[] {6, 2}, new float[12]));
        }
        DatasetException e = loadFails(file, List.of("agent_pos"), 2, 2);
        assertEquals("/data/demo_0/actions", e.path());
        assertMentions(e, "demo demo_0", "key actions", "-Infinity at index [4, 0]");
    }

    @Test
    void wrongObsDimensionForTheConfig() {
        Path file = DataTesting.writeFile(dir.resolve("dims.hdf5"), new int[] {3}, null, null);
        DatasetException e = loadFails(file, List.of("agent_pos", "keypoint"), 20, 2);
        assertEquals("/data/demo_0/obs", e.path());
        assertMentions(e, "expected obs dim 20, got 5", "agent_pos (2), keypoint (3)");
    }

    @Test
    void wrongActionDimensionForTheConfig() {
        Path file = DataTesting.writeFile(dir.resolve("action-dims.hdf5"), new int[] {3}, null, null);
        DatasetException e = loadFails(file, List.of("agent_pos"), 2, 7);
        assertEquals("/data/demo_0/actions", e.path());
        assertMentions(e, "expected action dim 7, got 2", "(3, 2)");
    }

    @Test
    void imageChosenAsALowDimKey() {
        Path file = dir.resolve("image.hdf5");
        try (RobomimicWriter w = RobomimicWriter.create(file)) {
            w.writeArray("/data/demo_0/actions", new FloatArray(new int[] {2, 2}, new float[4]));
            w.writeArray("/data/demo_0/obs/image", ByteArray.of(new byte[2 * 4 * 4 * 3], 2, 4, 4, 3));
        }
        DatasetException e = loadFails(file, List.of("image"), 48, 2);
        assertMentions(e, "/data/demo_0/obs/image", "uint8 (2, 4, 4, 3)", "image");
    }

    @Test
    void maskNamingADemoThatDoesNotExist() {
        Path file = DataTesting.writeFile(dir.resolve("mask.hdf5"), new int[] {3, 3}, List.of("demo_0", "demo_7"),
                null);
        DatasetException e = loadFails(file, List.of("agent_pos"), 2, 2);
        assertEquals("/mask/train", e.path());
        assertMentions(e, "demo_7", "not a demo");
    }
}
