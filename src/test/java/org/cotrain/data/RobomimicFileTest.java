package org.cotrain.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writing and reading the robomimic layout: round trip, demo order, masks, attributes, dtypes, quiet loading. */
class RobomimicFileTest {
    @TempDir
    Path dir;

    @Test
    void roundTripKeepsEveryArrayAndAttribute() {
        Path file = dir.resolve("pusht.hdf5");
        byte[] pixels = new byte[3 * 4 * 4 * 3];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i * 37); // covers values above 127: uint8 must stay unsigned
        }
        Demo withImage;
        try (RobomimicWriter w = RobomimicWriter.create(file)) {
            w.writeDemo("demo_0", DataTesting.demo(0, 5));
            w.writeDemo("demo_1", DataTesting.demo(1, 7));
            Map<String, NdArray> obs = new LinkedHashMap<>(DataTesting.demo(2, 3).obs());
            obs.put("image", ByteArray.of(pixels, 3, 4, 4, 3));
            withImage = Demo.of(DataTesting.demo(2, 3).actions(), obs);
            assertEquals("demo_2", w.addDemo(withImage));
            w.writeEnvArgs("{\"env_name\": \"PushT\", \"render\": false}");
            w.writeMask("train", List.of("demo_0", "demo_2"));
            w.writeMask("valid", List.of("demo_1"));
        }
        try (RobomimicReader r = RobomimicReader.open(file)) {
            assertEquals(List.of("demo_0", "demo_1", "demo_2"), r.demos());
            assertEquals(Optional.of(15L), r.total());
            assertEquals(7, r.numSamples("demo_1"));
            assertEquals(Optional.of("{\"env_name\": \"PushT\", \"render\": false}"), r.envArgs());
            assertEquals(Optional.of(List.of("demo_0", "demo_2")), r.trainMask());
            assertEquals(Optional.of(List.of("demo_1")), r.validMask());
            assertEquals(List.of("train", "valid"), r.maskNames());
            assertEquals(List.of("agent_pos", "image", "keypoint"), r.obsKeys("demo_2"));

            Demo expected = DataTesting.demo(1, 7);
            FloatArray actions = r.readFloat("demo_1", "actions");
            assertArrayEquals(new int[] {7, 2}, actions.shape());
            assertArrayEquals(expected.actions().data(), actions.data());
            Demo read = r.readDemo("demo_1", List.of("keypoint", "agent_pos"));
            assertEquals(List.of("keypoint", "agent_pos"), List.copyOf(read.obs().keySet()));
            assertArrayEquals(((FloatArray) expected.obs().get("keypoint")).data(),
                    ((FloatArray) read.obs().get("keypoint")).data());

            // next_obs[t] = obs[t + 1], the last step repeated; rewards and dones as robomimic writes them
            FloatArray next = r.readFloat("demo_1", "next_obs/agent_pos");
            float[] pos = ((FloatArray) expected.obs().get("agent_pos")).data();
            assertEquals(pos[2], next.data()[0]);
            assertEquals(pos[12], next.data()[12]);
            assertArrayEquals(new float[7], r.readFloat("demo_1", "rewards").data());
            assertArrayEquals(new float[] {0, 0, 0, 0, 0, 0, 1}, r.readFloat("demo_1", "dones").data());

            ByteArray image = r.readUint8("demo_2", "obs/image");
            assertArrayEquals(new int[] {3, 4, 4, 3}, image.shape());
            assertTrue(image.data().isDirect(), "images are read straight into a direct buffer");
            assertArrayEquals(pixels, image.toByteArray());
            assertEquals(Byte.toUnsignedInt(pixels[5]), image.getUnsigned(5));
            assertInstanceOf(ByteArray.class, r.read("demo_2", "next_obs/image"));
        }
    }

    @Test
    void demosAreListedInNumericOrder() {
        Path file = dir.resolve("order.hdf5");
        try (RobomimicWriter w = RobomimicWriter.create(file)) {
            for (int d : new int[] {10, 2, 1, 0, 11, 100, 3}) {
                w.writeDemo("demo_" + d, DataTesting.demo(d, 2));
            }
            w.writeLongAttribute("/data/not_a_demo", "x", 1); // other groups under /data are ignored
        }
        try (RobomimicReader r = RobomimicReader.open(file)) {
            assertEquals(List.of("demo_0", "demo_1", "demo_2", "demo_3", "demo_10", "demo_11", "demo_100"),
                    r.demos());
        }
        DemoDataset data = DemoDataset.load(file, List.of("agent_pos"), 2, 2);
        assertEquals(List.of("demo_0", "demo_1", "demo_2", "demo_3", "demo_10", "demo_11", "demo_100"),
                data.demoNames());
        // the replay buffer follows the same order: demo_10's first action comes after demo_3's two steps
        assertEquals(DataTesting.action(10, 0, 0), data.actions()[2 * 4 * 2]);
    }

    @Test
    void masksDecideTrainAndValidDemos() {
        Path both = DataTesting.writeFile(dir.resolve("both.hdf5"), new int[] {3, 4, 5, 6},
                List.of("demo_0", "demo_3"), List.of("demo_1"));
        DemoDataset d = DemoDataset.load(both, List.of("agent_pos", "keypoint"), 5, 2);
        assertArrayEquals(new boolean[] {true, false, false, true}, d.trainMask());
        assertArrayEquals(new boolean[] {false, true, false, false}, d.validMask());
        assertEquals(3 + 6, d.trainActions().length / 2, "the training rows are those of the train demos");

        Path validOnly = DataTesting.writeFile(dir.resolve("valid.hdf5"), new int[] {3, 4, 5}, null,
                List.of("demo_2"));
        DemoDataset v = DemoDataset.load(validOnly, List.of("agent_pos"), 2, 2);
        assertArrayEquals(new boolean[] {true, true, false}, v.trainMask(), "without /mask/train: all but valid");

        Path none = DataTesting.writeFile(dir.resolve("none.hdf5"), new int[] {3, 4}, null, null);
        try (RobomimicReader r = RobomimicReader.open(none)) {
            assertEquals(Optional.empty(), r.trainMask());
            assertEquals(Optional.empty(), r.validMask());
            assertEquals(Optional.empty(), r.envArgs());
        }
        DemoDataset n = DemoDataset.load(none, List.of("agent_pos"), 2, 2);
        assertArrayEquals(new boolean[] {true, true}, n.trainMask());
        assertEquals(0, n.numValidDemos());
        assertArrayEquals(new boolean[] {true, false}, n.withFirstTrainDemos(1).trainMask());
    }

    @Test
    void lowDimObsKeysAreConcatenatedInTheGivenOrder() {
        Path file = DataTesting.writeFile(dir.resolve("concat.hdf5"), new int[] {2, 3}, null, null);
        DemoDataset d = DemoDataset.load(file, List.of("keypoint", "agent_pos"), 5, 2);
        assertEquals(5, d.obsDim());
        assertArrayEquals(new int[] {2, 5}, d.episodeEnds());
        Demo demo1 = DataTesting.demo(1, 3);
        float[] keypoint = ((FloatArray) demo1.obs().get("keypoint")).data();
        // demo_1, step 1 is row 3 of the buffer: keypoint (3) then agent_pos (2)
        float[] row = java.util.Arrays.copyOfRange(d.obs(), 3 * 5, 4 * 5);
        assertArrayEquals(new float[] {keypoint[3], keypoint[4], keypoint[5], DataTesting.pos(1, 1, 0),
            DataTesting.pos(1, 1, 1)}, row);
    }

    @Test
    void float64AndIntegerArraysBecomeFloat32() {
        Path file = dir.resolve("dtypes.hdf5");
        double[] values = {0.1, -2.5, 1e-8, 123456.789, Math.PI, -0.0};
        try (RobomimicWriter w = RobomimicWriter.create(file)) {
            w.writeFloat64("/data/demo_0/actions", new int[] {3, 2}, values);
            w.writeInt64("/data/demo_0/obs/step", new int[] {3}, new long[] {0, 1, 1L << 40});
            w.writeArray("/data/demo_0/obs/mask", ByteArray.of(new byte[] {0, (byte) 255, (byte) 128}, 3));
            w.writeFloat64("/data/demo_1/actions", new int[] {1}, new double[] {1e300});
        }
        try (RobomimicReader r = RobomimicReader.open(file)) {
            FloatArray a = r.readFloat("demo_0", "actions");
            assertArrayEquals(new int[] {3, 2}, a.shape());
            for (int i = 0; i < values.length; i++) {
                assertEquals((float) values[i], a.data()[i], 0f, "float64 is rounded to the nearest float32");
            }
            assertArrayEquals(new float[] {0, 1, (float) (1L << 40)}, r.readFloat("demo_0", "obs/step").data());
            ByteArray mask = r.readUint8("demo_0", "obs/mask");
            assertEquals(255, mask.getUnsigned(1));
            assertEquals(128, mask.getUnsigned(2));
            DatasetException e = assertThrows(DatasetException.class, () -> r.read("demo_1", "actions"));
            assertTrue(e.getMessage().contains("/data/demo_1/actions") && e.getMessage().contains("float32 range"),
                    e.getMessage());
            DatasetException notFloat = assertThrows(DatasetException.class, () -> r.readFloat("demo_0", "obs/mask"));
            assertTrue(notFloat.getMessage().contains("uint8"), notFloat.getMessage());
        }
    }

    @Test
    void writerRejectsDemosWhoseArraysDisagreeInLength() {
        Path file = dir.resolve("bad-write.hdf5");
        try (RobomimicWriter w = RobomimicWriter.create(file)) {
            Demo good = DataTesting.demo(0, 4);
            Demo bad = new Demo(good.actions(), Map.of("agent_pos", new FloatArray(new int[] {3, 2}, new float[6])),
                    null, null, null, null);
            DatasetException e = assertThrows(DatasetException.class, () -> w.writeDemo("demo_0", bad));
            assertTrue(e.getMessage().contains("/data/demo_0/obs/agent_pos"), e.getMessage());
        }
    }

    /**
     * Loading HDF5 in a fresh JVM, writing, reading and failing on a non-HDF5 file prints nothing on stderr: neither
     * JavaCPP's version warning for the older HDF5 preset nor HDF5's error stacks (which the native library would
     * write to file descriptor 2, so only a separate process shows them).
     */
    @Test
    void hdf5IsQuietInAFreshProcess() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                QuietHdf5Main.class.getName(), dir.toString()).start();
        String out = read(p.getInputStream());
        String err = read(p.getErrorStream());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish");
        assertEquals(0, p.exitValue(), "child failed; stdout: " + out + "\nstderr: " + err);
        assertTrue(out.contains("not an HDF5 file"), out);
        assertTrue(out.endsWith("ok\n"), out);
        assertEquals("", err, "stderr of a process that used HDF5");
        assertFalse(out.contains("Warning"), out);
    }

    private static String read(InputStream in) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        in.transferTo(bytes);
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** The child process of {@link #hdf5IsQuietInAFreshProcess}. */
    public static final class QuietHdf5Main {
        public static void main(String[] args) throws Exception {
            Path dir = Path.of(args[0]);
            Path file = DataTesting.writeFile(dir.resolve("child.hdf5"), new int[] {3}, null, null);
            try (RobomimicReader r = RobomimicReader.open(file)) {
                r.readDemo("demo_0", List.of("agent_pos"));
                try {
                    r.read("demo_0", "obs/missing");
                } catch (DatasetException e) {
                    System.out.println(e.getMessage());
                }
            }
            Path text = Files.writeString(dir.resolve("child.txt"), "not hdf5");
            try {
                RobomimicReader.open(text).close();
            } catch (DatasetException e) {
                System.out.println(e.getMessage());
            }
            System.out.println("HDF5 " + Hdf5.libraryVersion());
            System.out.println("ok");
        }
    }
}
