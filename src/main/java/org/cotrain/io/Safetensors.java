package org.cotrain.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.DType;
import org.cotrain.tensor.Tensor;

/**
 * The safetensors format (huggingface/safetensors), in which checkpoints and test fixtures are stored, so that
 * PyTorch opens them with {@code safetensors.torch.load_file} and we open PyTorch's:
 * <pre>
 *   8 bytes     N, the header length, unsigned little-endian
 *   N bytes     JSON header: {"__metadata__": {str: str}, name: {"dtype": "F32", "shape": [..],
 *               "data_offsets": [begin, end]}, ...}, padded with spaces to a multiple of 8
 *   the rest    raw little-endian tensor data; offsets count from the first byte after the header
 * </pre>
 * A read file is held in memory whole (checkpoints are tens of MB). Tensors come out as float32 (F32, and F64,
 * F16, BF16 converted) or int32 (I32, and I64 when every value fits). Every error names the file and the tensor.
 */
public final class Safetensors {
    /** The official reader's cap on the header size. */
    private static final long MAX_HEADER_BYTES = 100L << 20;
    private static final String METADATA = "__metadata__";

    /** One tensor of the file: its element type, shape and bytes [begin, end) in the data section. */
    private record Entry(String dtype, int[] shape, long begin, long end) {}

    private final String source;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;
    private final ByteBuffer data;

    private Safetensors(String source, Map<String, Entry> entries, Map<String, String> metadata, ByteBuffer data) {
        this.source = source;
        this.entries = entries;
        this.metadata = metadata;
        this.data = data;
    }

    // ---- reading ----------------------------------------------------------------------------------------------------

    public static Safetensors read(Path path) throws IOException {
        return read(Files.readAllBytes(path), path.toString());
    }

    /** The metadata of a file, from its header alone (a checkpoint's step without reading its weights). */
    public static Map<String, String> readMetadata(Path path) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "r")) {
            if (f.length() < 8) {
                throw new IOException(path + ": not a safetensors file (" + f.length()
                        + " bytes, shorter than the 8-byte header length)");
            }
            byte[] len = new byte[8];
            f.readFully(len);
            long n = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (n < 2 || n > MAX_HEADER_BYTES || n > f.length() - 8L) {
                throw new IOException(path + ": not a safetensors file or truncated (header length "
                        + Long.toUnsignedString(n) + ", file size " + f.length() + " bytes)");
            }
            byte[] header = new byte[(int) n];
            f.readFully(header);
            return Collections.unmodifiableMap(metadataOf(path.toString(),
                    parseHeader(path.toString(), new String(header, StandardCharsets.UTF_8))));
        }
    }

    private static Map<?, ?> parseHeader(String source, String json) throws IOException {
        Object parsed;
        try {
            parsed = Json.parse(json);
        } catch (IllegalArgumentException e) {
            throw new IOException(source + ": the safetensors header is not valid JSON: " + e.getMessage());
        }
        if (!(parsed instanceof Map<?, ?> header)) {
            throw new IOException(source + ": the safetensors header is not a JSON object");
        }
        return header;
    }

    private static Map<String, String> metadataOf(String source, Map<?, ?> header) throws IOException {
        Map<String, String> metadata = new LinkedHashMap<>();
        Object meta = header.get(METADATA);
        if (meta == null) return metadata;
        if (!(meta instanceof Map<?, ?> m)) {
            throw new IOException(source + ": __metadata__ is not a JSON object");
        }
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof String value)) {
                throw new IOException(source + ": metadata value of " + e.getKey() + " is not a string");
            }
            metadata.put((String) e.getKey(), value);
        }
        return metadata;
    }

    /** Parses a whole file held in memory; source names it in messages. */
    public static Safetensors read(byte[] bytes, String source) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 8) {
            throw new IOException(source + ": not a safetensors file (" + bytes.length
                    + " bytes, shorter than the 8-byte header length)");
        }
        long n = buf.getLong(0);
        if (n < 2 || n > MAX_HEADER_BYTES || n > bytes.length - 8L) {
            throw new IOException(source + ": not a safetensors file or truncated (header length " + Long.toUnsignedString(n)
                    + ", file size " + bytes.length + " bytes)");
        }
        Map<?, ?> header = parseHeader(source, new String(bytes, 8, (int) n, StandardCharsets.UTF_8));
        ByteBuffer data = ByteBuffer.wrap(bytes, 8 + (int) n, bytes.length - 8 - (int) n).slice()
                .order(ByteOrder.LITTLE_ENDIAN);
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, String> metadata = metadataOf(source, header);
        for (Map.Entry<?, ?> e : header.entrySet()) {
            String name = (String) e.getKey();
            if (!name.equals(METADATA)) entries.put(name, parseEntry(source, name, e.getValue(), data.capacity()));
        }
        return new Safetensors(source, entries, metadata, data);
    }

    private static Entry parseEntry(String source, String name, Object value, long dataBytes) throws IOException {
        String where = source + ": tensor " + name;
        if (!(value instanceof Map<?, ?> info)) {
            throw new IOException(where + ": header entry is not a JSON object");
        }
        if (!(info.get("dtype") instanceof String dtype)) {
            throw new IOException(where + ": missing dtype");
        }
        int size = elementBytes(dtype);
        if (size == 0) {
            throw new IOException(where + ": unsupported dtype " + dtype
                    + " (supported: F32, F64, F16, BF16, I32, I64)");
        }
        if (!(info.get("shape") instanceof List<?> dims)) {
            throw new IOException(where + ": missing shape");
        }
        int[] shape = new int[dims.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            if (!(dims.get(i) instanceof Long d) || d < 0 || d > Integer.MAX_VALUE) {
                throw new IOException(where + ": bad shape " + dims);
            }
            shape[i] = (int) (long) d;
            numel *= d;
        }
        if (!(info.get("data_offsets") instanceof List<?> offsets) || offsets.size() != 2
                || !(offsets.get(0) instanceof Long begin) || !(offsets.get(1) instanceof Long end)) {
            throw new IOException(where + ": missing or bad data_offsets");
        }
        if (begin < 0 || end < begin || end > dataBytes) {
            throw new IOException(where + ": data_offsets [" + begin + ", " + end + ") lie outside the "
                    + dataBytes + " data bytes (truncated file?)");
        }
        if (end - begin != numel * size) {
            throw new IOException(where + ": data_offsets [" + begin + ", " + end + ") hold " + (end - begin)
                    + " bytes, but shape " + Tensor.shapeString(shape) + " of " + dtype + " needs " + numel * size);
        }
        return new Entry(dtype, shape, begin, end);
    }

    /** Bytes per element of a supported dtype, 0 for others. */
    private static int elementBytes(String dtype) {
        return switch (dtype) {
            case "F64", "I64" -> 8;
            case "F32", "I32" -> 4;
            case "F16", "BF16" -> 2;
            default -> 0;
        };
    }

    /** The file name (or other source) given when reading. */
    public String source() {
        return source;
    }

    /** Tensor names in file order. */
    public List<String> names() {
        return Collections.unmodifiableList(new ArrayList<>(entries.keySet()));
    }

    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    public Map<String, String> metadata() {
        return Collections.unmodifiableMap(metadata);
    }

    public String dtype(String name) {
        return entry(name).dtype();
    }

    public int[] shape(String name) {
        return entry(name).shape().clone();
    }

    private Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new IllegalArgumentException(source + ": no tensor named " + name);
        }
        return e;
    }

    /** The values of a floating-point tensor as float32. */
    public float[] floats(String name) {
        Entry e = entry(name);
        int n = Math.toIntExact(Tensor.numel(e.shape()));
        float[] out = new float[n];
        int at = (int) e.begin();
        switch (e.dtype()) {
            case "F32" -> data.slice(at, n * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
            case "F64" -> {
                for (int i = 0; i < n; i++) {
                    out[i] = (float) data.getDouble(at + 8 * i);
                }
            }
            case "F16" -> {
                for (int i = 0; i < n; i++) {
                    out[i] = halfToFloat(data.getShort(at + 2 * i));
                }
            }
            case "BF16" -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.intBitsToFloat((data.getShort(at + 2 * i) & 0xffff) << 16);
                }
            }
            default -> throw new IllegalArgumentException(source + ": tensor " + name + " is " + e.dtype()
                    + ", not a floating-point tensor");
        }
        return out;
    }

    /** IEEE 754 binary16 to float (Float.float16ToFloat arrived only in Java 20). */
    static float halfToFloat(short h) {
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) { // inf, NaN
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) { // zero, subnormal: mant * 2^-24
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** The values of an integer tensor as int32 (I64 values must fit). */
    public int[] ints(String name) {
        Entry e = entry(name);
        int n = Math.toIntExact(Tensor.numel(e.shape()));
        int[] out = new int[n];
        int at = (int) e.begin();
        switch (e.dtype()) {
            case "I32" -> data.slice(at, n * 4).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(out);
            case "I64" -> {
                for (int i = 0; i < n; i++) {
                    long v = data.getLong(at + 8 * i);
                    if (v != (int) v) {
                        throw new IllegalArgumentException(source + ": tensor " + name + "[" + i + "] = " + v
                                + " does not fit in int32");
                    }
                    out[i] = (int) v;
                }
            }
            default -> throw new IllegalArgumentException(source + ": tensor " + name + " is " + e.dtype()
                    + ", not an integer tensor");
        }
        return out;
    }

    /** A new tensor on the backend: float32 for floating-point entries, int32 for integer ones. */
    public Tensor tensor(String name, Backend backend) {
        Entry e = entry(name);
        boolean integer = e.dtype().startsWith("I");
        return integer ? backend.of(ints(name), e.shape()) : backend.of(floats(name), e.shape());
    }

    /** Copies a tensor of the file into dst, whose shape must be the same. */
    public void copyInto(String name, Tensor dst) {
        Entry e = entry(name);
        if (!dst.hasShape(e.shape())) {
            throw new IllegalArgumentException(source + ": tensor " + name + " has shape "
                    + Tensor.shapeString(e.shape()) + ", expected " + dst.shapeString());
        }
        if (dst.dtype() == DType.I32) {
            dst.copyFrom(ints(name));
        } else {
            dst.copyFrom(floats(name));
        }
    }

    // ---- writing ----------------------------------------------------------------------------------------------------

    public static Writer writer() {
        return new Writer();
    }

    /** Collects tensors (copied to the host when added) and metadata, then writes one file. */
    public static final class Writer {
        private record Item(String name, String dtype, int[] shape, float[] floats, int[] ints) {}

        private final Map<String, Item> items = new LinkedHashMap<>();
        private final Map<String, String> metadata = new LinkedHashMap<>();

        private Writer() {}

        public Writer metadata(String key, String value) {
            metadata.put(key, value);
            return this;
        }

        /** Adds a float32 (F32) or int32 (I32) tensor under name; its values are read now. */
        public Writer add(String name, Tensor t) {
            return t.dtype() == DType.I32 ? add(name, t.toIntArray(), t.shape()) : add(name, t.toFloatArray(),
                    t.shape());
        }

        public Writer add(String name, float[] values, int... shape) {
            check(name, values.length, shape);
            items.put(name, new Item(name, "F32", shape.clone(), values.clone(), null));
            return this;
        }

        public Writer add(String name, int[] values, int... shape) {
            check(name, values.length, shape);
            items.put(name, new Item(name, "I32", shape.clone(), null, values.clone()));
            return this;
        }

        private void check(String name, int length, int[] shape) {
            if (name.equals(METADATA) || name.isEmpty()) {
                throw new IllegalArgumentException("safetensors: reserved or empty tensor name '" + name + "'");
            }
            if (items.containsKey(name)) {
                throw new IllegalArgumentException("safetensors: tensor " + name + " added twice");
            }
            if (Tensor.numel(shape) != length) {
                throw new IllegalArgumentException("safetensors: tensor " + name + ": " + length
                        + " values do not fill shape " + Tensor.shapeString(shape));
            }
        }

        public void write(Path path) throws IOException {
            try (OutputStream out = Files.newOutputStream(path)) {
                write(out);
            }
        }

        public byte[] toBytes() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try {
                write(out);
            } catch (IOException e) {
                throw new IllegalStateException(e); // a ByteArrayOutputStream does not fail
            }
            return out.toByteArray();
        }

        public void write(OutputStream out) throws IOException {
            StringBuilder json = new StringBuilder("{");
            if (!metadata.isEmpty()) {
                json.append(Json.quote(METADATA)).append(":{");
                boolean first = true;
                for (Map.Entry<String, String> m : metadata.entrySet()) {
                    json.append(first ? "" : ",").append(Json.quote(m.getKey())).append(':')
                            .append(Json.quote(m.getValue()));
                    first = false;
                }
                json.append('}');
            }
            long offset = 0;
            for (Item it : items.values()) {
                long bytes = Tensor.numel(it.shape()) * 4L;
                json.append(json.length() > 1 ? "," : "").append(Json.quote(it.name())).append(":{\"dtype\":\"")
                        .append(it.dtype()).append("\",\"shape\":[");
                for (int i = 0; i < it.shape().length; i++) {
                    json.append(i == 0 ? "" : ",").append(it.shape()[i]);
                }
                json.append("],\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
                offset += bytes;
            }
            json.append('}');
            byte[] header = json.toString().getBytes(StandardCharsets.UTF_8);
            int padded = (header.length + 7) / 8 * 8; // the data section starts 8-byte aligned, as the official writer does
            ByteBuffer prefix = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
            prefix.putLong(padded).put(header);
            while (prefix.hasRemaining()) {
                prefix.put((byte) ' ');
            }
            out.write(prefix.array());
            for (Item it : items.values()) {
                int n = it.floats() != null ? it.floats().length : it.ints().length;
                ByteBuffer b = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
                if (it.floats() != null) {
                    b.asFloatBuffer().put(it.floats());
                } else {
                    b.asIntBuffer().put(it.ints());
                }
                out.write(b.array());
            }
        }
    }
}
