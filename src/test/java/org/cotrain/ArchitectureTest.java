package org.cotrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps the house's shape: every package of {@code src/main/java/org/cotrain} sits on a layer, and a package may
 * refer only to packages on lower layers (imports and fully qualified names alike). Strict layers also rule out
 * import circles. A sub-package belongs to its top-level package ({@code sim.expert} is {@code sim}).
 *
 * <p>A new package goes into {@link #LAYERS}; an edge this test refuses means a type sits in the wrong room (move
 * it down, or split the part the lower package needs), not that the table should bend.
 */
class ArchitectureTest {

    /** Bottom to top; packages on one line are peers and may not refer to each other. */
    static final List<Set<String>> LAYERS = List.of(
            Set.of("tensor", "random", "nativelib"), // Tensor and the Backend interface; seeded streams; the bindings
            Set.of("backend", "io"),                  // CPU and CUDA backends; safetensors, atomic files, locks
            Set.of("ops"),                            // the op stack's Java face: Ops over a Backend
            Set.of("nn", "diffusion"),                // layers; noise schedules and samplers
            Set.of("optim", "config"),                // AdamW, EMA, LR schedules; the YAML configs
            Set.of("data"),                           // HDF5 datasets, normalisers, samplers, mixtures
            Set.of("sim", "ambient"),                 // the Push-T sandbox and experts; ambient diffusion
            Set.of("policy"),                         // DP-T policies (low-dim, image) and their sampling
            Set.of("train"),                          // the training loop and run directories
            Set.of("analysis", "experiment"),         // policy analysis; demo, sweeps and evaluation
            Set.of("cli"));                           // the ./cotrain command

    private static final Pattern REFERENCE = Pattern.compile("\\borg\\.cotrain\\.([a-z][a-z0-9_]*)");
    private static final Pattern COMMENT_OR_STRING =
            Pattern.compile("/\\*.*?\\*/|//[^\\n]*|\"(?:\\\\.|[^\"\\\\\\n])*\"|'(?:\\\\.|[^'\\\\\\n])*'", Pattern.DOTALL);

    @Test
    void noPackageRefersToItsOwnLayerOrAbove() throws IOException {
        Path root = Path.of("src/main/java/org/cotrain");
        assertTrue(Files.isDirectory(root), "run from the engine module's directory: no " + root.toAbsolutePath());
        Map<String, Set<String>> edges = edges(root);
        assertTrue(edges.containsKey("cli") && edges.containsKey("tensor"), "found packages " + edges.keySet());
        List<String> problems = violations(edges);
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    /** The checker itself: an upward edge, a peer edge and an unknown package are each reported. */
    @Test
    void reportsUpwardPeerAndUnknownEdges() {
        Map<String, Set<String>> edges = new TreeMap<>();
        edges.put("tensor", Set.of("policy"));  // up
        edges.put("sim", Set.of("ambient"));    // peer
        edges.put("policy", Set.of("sim", "tensor")); // fine
        edges.put("mystery", Set.of());         // not on a layer
        List<String> problems = violations(edges);
        assertEquals(3, problems.size(), String.join("\n", problems));
        assertTrue(problems.get(0).contains("mystery"), problems.get(0));
        assertTrue(problems.get(1).contains("sim -> ambient"), problems.get(1));
        assertTrue(problems.get(2).contains("tensor -> policy"), problems.get(2));
    }

    /** The comments and string literals of Java source are not references. */
    @Test
    void ignoresCommentsAndStrings() {
        String source = "package org.cotrain.ops;\n/** see org.cotrain.cli.Main */\nimport org.cotrain.tensor.Tensor;\n"
                + "class X { String s = \"org.cotrain.train.Trainer\"; // org.cotrain.policy\n"
                + "int n = org.cotrain.random.Streams.SPLIT; }";
        assertEquals(Set.of("ops", "tensor", "random"), references(source));
    }

    static Map<String, Set<String>> edges(Path root) throws IOException {
        Map<String, Set<String>> edges = new TreeMap<>();
        List<Path> files;
        try (Stream<Path> walk = Files.walk(root)) {
            files = walk.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        }
        for (Path file : files) {
            String pkg = root.relativize(file).getName(0).toString();
            if (pkg.endsWith(".java")) pkg = "";  // a file directly in org.cotrain
            Set<String> refs = edges.computeIfAbsent(pkg, k -> new TreeSet<>());
            for (String to : references(Files.readString(file))) {
                if (!to.equals(pkg)) refs.add(to);
            }
        }
        return edges;
    }

    /** Top-level cotrain packages named in Java source, outside comments and literals. */
    static Set<String> references(String source) {
        String code = COMMENT_OR_STRING.matcher(source).replaceAll(" ");
        Set<String> out = new TreeSet<>();
        Matcher m = REFERENCE.matcher(code);
        while (m.find()) out.add(m.group(1));
        return out;
    }

    static List<String> violations(Map<String, Set<String>> edges) {
        List<String> problems = new ArrayList<>();
        for (String pkg : edges.keySet()) {
            if (layer(pkg) < 0) problems.add("package org.cotrain." + pkg + " is on no layer of ArchitectureTest.LAYERS");
        }
        for (Map.Entry<String, Set<String>> e : edges.entrySet()) {
            int from = layer(e.getKey());
            if (from < 0) continue;
            for (String to : e.getValue()) {
                int target = layer(to);
                if (target < 0 || target >= from) {
                    problems.add(e.getKey() + " -> " + to + ": org.cotrain." + e.getKey() + " (layer " + from
                            + ") may refer only to lower layers, and " + to + " is on layer " + target);
                }
            }
        }
        return problems;
    }

    private static int layer(String pkg) {
        for (int i = 0; i < LAYERS.size(); i++) if (LAYERS.get(i).contains(pkg)) return i;
        return -1;
    }
}
