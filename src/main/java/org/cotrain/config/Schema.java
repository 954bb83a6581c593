package org.cotrain.config;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The known keys of a config of one {@link PolicyKind}: exactly the keys of that kind's preset
 * ({@value Presets#PUSHT_LOWDIM_TRANSFORMER} for low-dim configs, {@value Presets#PUSHT_LOWDIM_UNET} for low-dim
 * ones with the U-Net denoiser, {@value Presets#PUSHT_IMAGE_TRANSFORMER} for image configs), which are Diffusion Policy's own configs and so the natural schemas. A config is an image config when it
 * has {@code task.shape_meta} ({@link #forTree}). Types and ranges are TrainConfig's business; here a key is known or
 * not, a section or a single value. Unknown keys get the closest known key as a suggestion, or say which kind of
 * config has them.
 *
 * <p>One section is open: {@code task.shape_meta.obs} of image configs holds one entry per observation key, named as
 * the dataset names it (DP's shape_meta), each with exactly the keys {@code shape} and {@code type}; the preset's
 * entries (image, agent_pos) are examples, not required keys.
 *
 * <p>Every Diffusion Policy key must be present. cotrain's own section ({@code cotrain.*}) grows as features are
 * added, so a key missing there takes the preset's value (see {@link #withCotrainDefaults}): configs and
 * checkpoints written before a setting existed still load, with the behaviour they had.
 */
final class Schema {
    /** cotrain's own settings: a key missing under it takes the preset's value. */
    static final String COTRAIN_SECTION = "cotrain";
    /** The open section of image configs: one entry per observation key. */
    static final String OBS_SECTION = "task.shape_meta.obs";
    /** The keys of each entry of {@link #OBS_SECTION}. */
    static final List<String> OBS_ENTRY_KEYS = List.of("shape", "type");
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private static final Map<PolicyKind, Schema> INSTANCES = new EnumMap<>(PolicyKind.class);

    private final PolicyKind kind;
    private final List<String> leaves;          // dotted leaf keys, in the preset's order (open entries excluded)
    private final Set<String> sections;         // dotted section keys (open entries excluded)
    private final Map<String, Object> defaults; // leaf -> the preset's value
    private final Map<String, String> leftOut;  // DP keys cotrain leaves out -> why
    private final boolean open;                 // has the open section OBS_SECTION

    private Schema(PolicyKind kind, Map<String, Object> tree) {
        this.kind = kind;
        this.open = kind == PolicyKind.IMAGE;
        Map<String, Object> flat = YamlTree.flatten(tree);
        Map<String, Object> kept = new LinkedHashMap<>();
        flat.forEach((key, value) -> {
            if (!isOpenEntryKey(key)) {
                kept.put(key, value);
            }
        });
        this.defaults = kept;
        this.leaves = List.copyOf(kept.keySet());
        Set<String> s = new LinkedHashSet<>();
        for (String section : YamlTree.sections(tree)) {
            if (!isOpenEntryKey(section)) {
                s.add(section);
            }
        }
        this.sections = Set.copyOf(s);
        this.leftOut = leftOutKeys(kind);
    }

    /** Keys of Diffusion Policy configs that cotrain leaves out, with why; a key matches an entry or lies under it. */
    private static Map<String, String> leftOutKeys(PolicyKind kind) {
        Map<String, String> out = new LinkedHashMap<>();
        String notUsed = "a Diffusion Policy key that cotrain does not use (the preset " + kind.schemaPreset()
                + " lists what it leaves out); remove it";
        List<String> keys = new ArrayList<>(List.of("defaults", "logging", "checkpoint", "multi_run", "hydra",
                "task.env_runner", "past_action_visible", "keypoint_visible_rate", "n_latency_steps", "training.debug",
                "training.rollout_every", "dataloader.pin_memory", "dataloader.persistent_workers",
                "val_dataloader.pin_memory", "val_dataloader.persistent_workers"));
        if (kind.isLowdim()) {
            keys.add("task.keypoint_dim");
            keys.add("keypoint_dim");
            out.put("shape_meta", "an image config has its shape_meta under task (task.shape_meta, as DP's task files"
                    + " do; the top-level one is DP's copy of it): put it there, with the keys of the preset "
                    + Presets.PUSHT_IMAGE_TRANSFORMER);
        } else {
            keys.addAll(List.of("dataset_obs_steps", "task.image_shape"));
            out.put("shape_meta", "DP's top-level shape_meta is a copy of task.shape_meta (${task.shape_meta}); cotrain"
                    + " reads task.shape_meta only: remove it");
            out.put("policy.shape_meta", "DP's policy.shape_meta is a copy of task.shape_meta (${shape_meta}); cotrain"
                    + " reads task.shape_meta only: remove it");
            out.put("task.dataset.shape_meta", "DP's task.dataset.shape_meta is a copy of task.shape_meta; cotrain"
                    + " reads task.shape_meta only: remove it");
        }
        for (String key : keys) {
            out.put(key, notUsed);
        }
        out.put("task.dataset.zarr_path", "cotrain reads HDF5 files in the robomimic layout: set task.dataset.path"
                + (kind.isLowdim() ? " (and task.dataset.obs_keys, task.dataset.action_key)"
                : " (and task.dataset.action_key; the observation keys are those of task.shape_meta.obs)")
                + " instead");
        return out;
    }

    /** The schema of a kind of config. */
    static synchronized Schema of(PolicyKind kind) {
        return INSTANCES.computeIfAbsent(kind, k -> new Schema(k, YamlTree.parse(Presets.text(k.schemaPreset()),
                "preset " + k.schemaPreset())));
    }

    /** The schema of a loaded tree: image when it has task.shape_meta, else low-dim. */
    static Schema forTree(Map<String, Object> tree) {
        return of(kindOf(tree));
    }

    static PolicyKind kindOf(Map<String, Object> tree) {
        if (tree.get("task") instanceof Map<?, ?> task && task.containsKey("shape_meta")) {
            return PolicyKind.IMAGE;
        }
        return PolicyKind.UNET_LOWDIM_NAME.equals(tree.get("name")) ? PolicyKind.LOWDIM_UNET : PolicyKind.LOWDIM;
    }

    /** What a config of this kind is, for messages; denoisers: beside the other denoiser's kind. */
    private static String describe(PolicyKind kind, boolean denoisers) {
        return switch (kind) {
            case IMAGE -> "an image config (it has task.shape_meta)";
            case LOWDIM_UNET -> "a low-dim config with the U-Net denoiser, ConditionalUnet1D (DP-C: name "
                    + PolicyKind.UNET_LOWDIM_NAME + ")";
            case LOWDIM -> denoisers ? "a low-dim config with the transformer denoiser, TransformerForDiffusion (DP-T:"
                    + " name other than " + PolicyKind.UNET_LOWDIM_NAME + ")" : "a low-dim config (no task.shape_meta)";
        };
    }

    PolicyKind kind() {
        return kind;
    }

    /** Every required key that holds a value, in the schema's order (the open section's entries are not listed). */
    List<String> leaves() {
        return leaves;
    }

    boolean isLeaf(String key) {
        return leaves.contains(key) || isOpenEntryLeaf(key);
    }

    boolean isSection(String key) {
        return sections.contains(key) || isOpenEntry(key);
    }

    /** task.shape_meta.obs.NAME */
    private boolean isOpenEntry(String key) {
        if (!open || !key.startsWith(OBS_SECTION + ".")) {
            return false;
        }
        String rest = key.substring(OBS_SECTION.length() + 1);
        return NAME.matcher(rest).matches();
    }

    /** task.shape_meta.obs.NAME.shape or .type */
    private boolean isOpenEntryLeaf(String key) {
        if (!open || !key.startsWith(OBS_SECTION + ".")) {
            return false;
        }
        String[] rest = key.substring(OBS_SECTION.length() + 1).split("\\.", -1);
        return rest.length == 2 && NAME.matcher(rest[0]).matches() && OBS_ENTRY_KEYS.contains(rest[1]);
    }

    /** A key at or under an entry of the open section (in the preset: the example entries). */
    private boolean isOpenEntryKey(String key) {
        return open && key.startsWith(OBS_SECTION + ".");
    }

    /**
     * The tree with every missing key of the {@value #COTRAIN_SECTION} section set to the preset's value (a key whose
     * section is given as a single value stays missing: {@link #check} reports that). The new settings of each release
     * default to the behaviour before them (e.g. cotrain.ambient.t_n: null, ambient diffusion off).
     */
    Map<String, Object> withCotrainDefaults(Map<String, Object> tree) {
        Map<String, Object> flat = YamlTree.flatten(tree);
        boolean added = false;
        for (String key : leaves) {
            if (key.startsWith(COTRAIN_SECTION + ".") && !flat.containsKey(key) && !hasAncestorIn(key, flat.keySet())) {
                flat.put(key, defaults.get(key));
                added = true;
            }
        }
        return added ? YamlTree.unflatten(flat) : tree;
    }

    /**
     * Checks that a loaded tree has the schema's keys, no more and no fewer, and that sections are sections; in the
     * open section, at least one entry, each with all its keys. Every problem is listed in one error.
     */
    void check(Map<String, Object> tree, String source) {
        List<String> problems = new ArrayList<>();
        walk(tree, "", problems);
        Set<String> present = YamlTree.flatten(tree).keySet();
        List<String> missing = new ArrayList<>();
        for (String key : leaves) {
            if (!present.contains(key) && !hasAncestorIn(key, present)) {
                missing.add(key);
            }
        }
        // A section with all its keys missing is reported once, as the section.
        List<String> missingSections = new ArrayList<>();
        for (String section : sections.stream().sorted(Comparator.comparingInt(String::length)).toList()) {
            boolean all = leaves.stream().filter(k -> k.startsWith(section + ".")).allMatch(missing::contains);
            if (all && missingSections.stream().noneMatch(s -> section.startsWith(s + "."))
                    && !(open && section.equals(OBS_SECTION))) {
                missingSections.add(section);
            }
        }
        for (String section : missingSections) {
            problems.add("missing section " + section);
        }
        for (String key : missing) {
            if (missingSections.stream().noneMatch(s -> key.startsWith(s + "."))) {
                problems.add("missing key " + key);
            }
        }
        if (open && missingSections.stream().noneMatch(s -> OBS_SECTION.startsWith(s + "."))) {
            checkOpenSection(present, problems);
        }
        if (!problems.isEmpty() && problems.stream().anyMatch(p -> p.startsWith("missing"))) {
            problems.add("(every " + kind.label() + " config has all the keys of the preset " + kind.schemaPreset()
                    + "; copy a preset to start one)");
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems.size() == 1 ? source + ": " + problems.get(0)
                    : source + ":\n  " + String.join("\n  ", problems));
        }
    }

    /** The open section's entries: at least one, each with shape and type. */
    private void checkOpenSection(Set<String> present, List<String> problems) {
        Set<String> entries = openEntries(present);
        if (entries.isEmpty() && !present.contains(OBS_SECTION)) {
            problems.add("missing section " + OBS_SECTION + " (one entry per observation key, e.g. image: {shape: [3,"
                    + " 96, 96], type: rgb} and agent_pos: {shape: [2], type: low_dim})");
            return;
        }
        for (String entry : entries) {
            for (String leaf : OBS_ENTRY_KEYS) {
                String key = OBS_SECTION + "." + entry + "." + leaf;
                if (!present.contains(key) && !present.contains(OBS_SECTION + "." + entry)) {
                    problems.add("missing key " + key);
                }
            }
        }
    }

    /** The names of the open section's entries among the given dotted keys, in order. */
    static Set<String> openEntries(Iterable<String> keys) {
        Set<String> out = new LinkedHashSet<>();
        for (String key : keys) {
            if (key.startsWith(OBS_SECTION + ".")) {
                out.add(key.substring(OBS_SECTION.length() + 1).split("\\.", -1)[0]);
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private void walk(Map<String, Object> tree, String prefix, List<String> problems) {
        for (Map.Entry<String, Object> e : tree.entrySet()) {
            String path = prefix + e.getKey();
            boolean isMap = e.getValue() instanceof Map;
            if (isSection(path)) {
                if (isMap) {
                    walk((Map<String, Object>) e.getValue(), path + ".", problems);
                } else {
                    problems.add(path + " is a section of keys, not a single value");
                }
            } else if (isLeaf(path)) {
                if (isMap) {
                    problems.add(path + " is a single value, not a section");
                }
            } else {
                problems.add(unknownKey(path));
            }
        }
    }

    // A missing leaf under a key already reported (a section given as a value) is not reported twice.
    private boolean hasAncestorIn(String key, Set<String> present) {
        for (int dot = key.lastIndexOf('.'); dot > 0; dot = key.lastIndexOf('.', dot - 1)) {
            if (present.contains(key.substring(0, dot))) {
                return true;
            }
        }
        return false;
    }

    /** "unknown key x; did you mean y?" (or why a Diffusion Policy key is left out, or which kind has it). */
    String unknownKey(String key) {
        return "unknown key " + key + "; " + suggestion(key);
    }

    /**
     * The closest known key(s), as "did you mean ...?": a key of the other kind of config says so; under the open
     * section, the closest entry key; the keys that end with the given one when it lacks its section
     * ("batch_size"); else the key with the smallest edit distance over the whole dotted path.
     */
    String suggestion(String key) {
        for (Map.Entry<String, String> e : leftOut.entrySet()) {
            if (key.equals(e.getKey()) || key.startsWith(e.getKey() + ".")) {
                return e.getValue();
            }
        }
        String last = key.substring(key.lastIndexOf('.') + 1);
        if (last.equals("_target_")) {
            return "Diffusion Policy's _target_ keys (Python classes for Hydra) have no meaning in cotrain; remove it";
        }
        if (open && key.startsWith(OBS_SECTION + ".")) {
            String[] rest = key.substring(OBS_SECTION.length() + 1).split("\\.", -1);
            if (!NAME.matcher(rest[0]).matches()) {
                return "the entries of " + OBS_SECTION + " are observation keys as the dataset names them (letters,"
                        + " digits and _)";
            }
            return "an entry of " + OBS_SECTION + " has the keys " + String.join(" and ", OBS_ENTRY_KEYS)
                    + (rest.length == 2 ? "; did you mean " + OBS_SECTION + "." + rest[0] + "."
                    + KeySuggestion.closest(rest[1], OBS_ENTRY_KEYS) + "?" : "");
        }
        // the other denoiser of the same observations first (policy.model.n_layer in a U-Net config), then the rest
        List<PolicyKind> others = new ArrayList<>();
        if (kind.isLowdim()) {
            others.add(kind == PolicyKind.LOWDIM ? PolicyKind.LOWDIM_UNET : PolicyKind.LOWDIM);
            others.add(PolicyKind.IMAGE);
        } else {
            others.add(PolicyKind.LOWDIM);
            others.add(PolicyKind.LOWDIM_UNET);
        }
        for (PolicyKind o : others) {
            Schema other = of(o);
            if (other.isLeaf(key) || other.isSection(key)) {
                List<String> sameLeaf = leaves.stream().filter(k -> k.endsWith("." + last) || k.equals(last)).toList();
                boolean denoisers = kind.isLowdim() && o.isLowdim();
                return key + " is a key of " + other.kind.label() + " configs (preset " + other.kind.schemaPreset()
                        + (denoisers ? ", the " + (o == PolicyKind.LOWDIM_UNET ? "U-Net denoiser ConditionalUnet1D"
                        : "transformer denoiser TransformerForDiffusion") : "") + "); this is "
                        + describe(kind, denoisers) + ", with the keys of the preset " + kind.schemaPreset()
                        + (sameLeaf.isEmpty() ? "" : "; did you mean " + String.join(" or ", sameLeaf) + "?");
            }
        }
        List<String> endings = new ArrayList<>();
        for (String known : leaves) {
            if (known.endsWith("." + key)) {
                endings.add(known);
            }
        }
        if (!endings.isEmpty()) {
            return "did you mean " + String.join(" or ", endings) + "?";
        }
        // Keys at the same depth first (a misspelt section is compared with sections, not with their keys), the
        // smallest edit distance, then the longest common prefix.
        List<String> candidates = new ArrayList<>(leaves);
        candidates.addAll(sections.stream().sorted().toList());
        List<String> sameDepth = candidates.stream().filter(k -> depth(k) == depth(key)).toList();
        String best = KeySuggestion.closest(key, sameDepth.isEmpty() ? candidates : sameDepth);
        return "did you mean " + best + "?";
    }

    private static int depth(String key) {
        return (int) key.chars().filter(c -> c == '.').count();
    }
}
