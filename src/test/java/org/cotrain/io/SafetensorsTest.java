package org.cotrain.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.cotrain.backend.Backends;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Safetensors: round trips, the byte layout of the format, other writers' dtypes, and errors that name things. */
class SafetensorsTest {

    /** A file written by hand: header JSON (unpadded) then the given data bytes. */
    private static byte[] handMade(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        return b.array();
    }

    private static byte[] littleEndian(int bytes, java.util.function.Consumer<ByteBuffer> fill) {
        ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        fill.accept(b);
        return b.array();
    }

    @Test
    void roundTripKeepsValuesShapesOrderAndMetadata(@TempDir Path dir) throws IOException {
        Backend cpu = Backends.cpu();
        long before = cpu.liveBytes();
        float[] w = {1.5f, -2f, Float.NEGATIVE_INFINITY, 0f, 3.25f, Float.MIN_VALUE};
        Path path = dir.resolve("a.safetensors");
        try (Tensor t = cpu.of(w, 2, 3); Tensor idx = cpu.of(new int[] {7, -1, Integer.MAX_VALUE}, 3)) {
            Safetensors.writer().metadata("format", "pt").metadata("note", "quote \" and \\ and é")
                    .add("model.z_last", t).add("model.a_first", idx).add("scalar", new float[] {42f})
                    .add("empty", new float[0], 0, 4).write(path);
        }
        Safetensors f = Safetensors.read(path);
        assertEquals(List.of("model.z_last", "model.a_first", "scalar", "empty"), f.names(), "file order kept");
        assertEquals("pt", f.metadata().get("format"));
        assertEquals("quote \" and \\ and é", f.metadata().get("note"));
        assertEquals("F32", f.dtype("model.z_last"));
        assertEquals("I32", f.dtype("model.a_first"));
        assertArrayEquals(new int[] {2, 3}, f.shape("model.z_last"));
        assertArrayEquals(w, f.floats("model.z_last"));
        assertArrayEquals(new int[] {7, -1, Integer.MAX_VALUE}, f.ints("model.a_first"));
        assertArrayEquals(new int[] {}, f.shape("scalar"));
        assertArrayEquals(new float[] {42f}, f.floats("scalar"));
        assertArrayEquals(new int[] {0, 4}, f.shape("empty"));
        try (Tensor t = f.tensor("model.z_last", cpu); Tensor i = f.tensor("model.a_first", cpu)) {
            assertEquals(DType.F32, t.dtype());
            assertEquals(DType.I32, i.dtype());
            assertArrayEquals(w, t.toFloatArray());
        }
        assertEquals(before, cpu.liveBytes());
    }

    @Test
    void metadataReadsFromTheHeaderAlone(@TempDir Path dir) throws IOException {
        Path path = dir.resolve("ck.safetensors");
        Safetensors.writer().metadata("step", "42").add("w", new float[1000], 10, 100).write(path);
        assertEquals(Map.of("step", "42"), Safetensors.readMetadata(path));
        assertEquals(Safetensors.read(path).metadata(), Safetensors.readMetadata(path));
        Files.write(path, new byte[] {8, 0, 0, 0, 0, 0, 0, 0, '{'}); // header cut short
        IOException e = assertThrows(IOException.class, () -> Safetensors.readMetadata(path));
        assertTrue(e.getMessage().contains(path.toString()) && e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void layoutIsTheOfficialOne() throws IOException {
        byte[] bytes = Safetensors.writer().add("x", new float[] {1f, 2f}, 2).toBytes();
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = b.getLong(0);
        assertEquals(0, n % 8, "header padded to 8 bytes");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertEquals("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", header.trim());
        assertEquals(8 + n + 8, bytes.length);
        assertEquals(1f, b.getFloat(8 + (int) n));
        assertEquals(2f, b.getFloat(12 + (int) n));
        assertFalse(Safetensors.read(bytes, "mem").metadata().containsKey("__metadata__"));
    }

    @Test
    void readsOtherWritersDtypes() throws IOException {
        byte[] data = littleEndian(16 + 16 + 4 + 4, b -> {
            b.putDouble(0.1).putDouble(-3.0);               // F64 [0, 16)
            b.putLong(5).putLong(-(1L << 31));              // I64 [16, 32)
            b.putShort((short) 0x3C00).putShort((short) 0xC000); // F16 1, -2 [32, 36)
            b.putShort((short) 0x3F80).putShort((short) 0x4049); // BF16 1, 3.140625 [36, 40)
        });
        String header = "{\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                + "\"l\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[16,32]},"
                + "\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[32,36]},"
                + "\"bf\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[36,40]},"
                + "\"__metadata__\":{\"k\":\"v\"}}";
        Safetensors f = Safetensors.read(handMade(header, data), "other.safetensors");
        assertArrayEquals(new float[] {0.1f, -3f}, f.floats("d"));
        assertArrayEquals(new int[] {5, Integer.MIN_VALUE}, f.ints("l"));
        assertArrayEquals(new float[] {1f, -2f}, f.floats("h"));
        assertArrayEquals(new float[] {1f, 3.140625f}, f.floats("bf"));
        assertEquals("v", f.metadata().get("k"));
        var e = assertThrows(IllegalArgumentException.class, () -> f.ints("d"));
        assertTrue(e.getMessage().contains("other.safetensors") && e.getMessage().contains("d"), e.getMessage());
    }

    @Test
    void halfPrecisionSpecialValues() {
        assertEquals(65504f, Safetensors.halfToFloat((short) 0x7BFF));
        assertEquals(Float.POSITIVE_INFINITY, Safetensors.halfToFloat((short) 0x7C00));
        assertTrue(Float.isNaN(Safetensors.halfToFloat((short) 0x7E00)));
        assertEquals(0x1p-24f, Safetensors.halfToFloat((short) 0x0001));
        assertEquals(-0f, Safetensors.halfToFloat((short) 0x8000));
    }

    @Test
    void copyIntoChecksTheShape() throws IOException {
        Safetensors f = Safetensors.read(Safetensors.writer().add("w", new float[6], 2, 3).toBytes(), "ck.safetensors");
        try (Tensor ok = Backends.cpu().zeros(2, 3); Tensor bad = Backends.cpu().zeros(3, 2)) {
            f.copyInto("w", ok);
            var e = assertThrows(IllegalArgumentException.class, () -> f.copyInto("w", bad));
            assertTrue(e.getMessage().contains("ck.safetensors") && e.getMessage().contains("tensor w")
                    && e.getMessage().contains("(2, 3)") && e.getMessage().contains("(3, 2)"), e.getMessage());
            var missing = assertThrows(IllegalArgumentException.class, () -> f.copyInto("model.head.bias", ok));
            assertTrue(missing.getMessage().contains("ck.safetensors: no tensor named model.head.bias"),
                    missing.getMessage());
        }
    }

    @Test
    void badFilesFailWithTheFileAndTensorNamed(@TempDir Path dir) throws IOException {
        byte[] good = Safetensors.writer().add("w", new float[] {1, 2, 3}, 3).toBytes();
        assertMessage(Arrays.copyOf(good, 5), "bad.safetensors", "shorter than the 8-byte header length");
        assertMessage(Arrays.copyOf(good, 20), "bad.safetensors", "truncated");
        assertMessage(Arrays.copyOf(good, good.length - 4), "bad.safetensors", "tensor w");
        assertMessage(handMade("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],", new byte[12]), "bad.safetensors",
                "not valid JSON");
        assertMessage(handMade("[1,2]", new byte[0]), "bad.safetensors", "not a JSON object");
        assertMessage(handMade("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,12]}}", new byte[12]),
                "bad.safetensors", "tensor w");
        assertMessage(handMade("{\"w\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8]),
                "bad.safetensors", "unsupported dtype C64");
        assertMessage(handMade("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", new byte[4]),
                "bad.safetensors", "bad shape");
        assertMessage(handMade("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), "bad.safetensors",
                "duplicate key");
        Path text = dir.resolve("notes.txt");
        Files.writeString(text, "this is not a safetensors file at all, just some text");
        var e = assertThrows(IOException.class, () -> Safetensors.read(text));
        assertTrue(e.getMessage().startsWith(text.toString()), e.getMessage());
    }

    private static void assertMessage(byte[] bytes, String source, String part) {
        var e = assertThrows(IOException.class, () -> Safetensors.read(bytes, source));
        assertTrue(e.getMessage().contains(source) && e.getMessage().contains(part), e.getMessage());
    }

    @Test
    void writerRejectsDuplicatesAndWrongSizes() {
        var w = Safetensors.writer().add("a", new float[2], 2);
        assertThrows(IllegalArgumentException.class, () -> w.add("a", new float[2], 2));
        assertThrows(IllegalArgumentException.class, () -> w.add("b", new float[3], 2));
        assertThrows(IllegalArgumentException.class, () -> w.add("__metadata__", new float[1], 1));
    }
}
