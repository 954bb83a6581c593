package org.cotrain.config;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The known keys of a config: exactly the keys of the preset {@value Presets#PUSHT_LOWDIM_TRANSFORMER}, which is
 * Diffusion Policy's own config and so the natural schema. Types and ranges are TrainConfig's business; here a key
 * is known or not, a section or a single value. Unknown keys get the closest known key as a suggestion.
 *
 * <p>Every Diffusion Policy key must be present. cotrain's own section ({@code cotrain.*}) grows as features are
 * added, so a key missing there takes the preset's value (see {@link #withCotrainDefaults}): configs and
 * checkpoints written before a setting existed still load, with the behaviour they had.
 */
final class Schema {
    /**
     * Keys of Diffusion Policy configs that cotrain leaves out, with why; an unknown key under one of them says so
     * instead of guessing a neighbour. A key matches when it equals an entry or lies under it.
     */
    private static final Map<String, String> DP_KEYS_LEFT_OUT = new LinkedHashMap<>();

    static {
        String notUsed = "a Diffusion Policy key that cotrain does not use (the preset " + Presets.PUSHT_LOWDIM_TRANSFORMER
                + " lists what it leaves out); remove it";
        for (String key : List.of("defaults", "logging", "checkpoint", "multi_run", "hydra", "task.env_runner",
                "task.keypoint_dim", "past_action_visible", "keypoint_visible_rate", "n_latency_steps",
                "training.debug", "training.rollout_every", "dataloader.pin_memory", "dataloader.persistent_workers",
                "val_dataloader.pin_memory", "val_dataloader.persistent_workers")) {
            DP_KEYS_LEFT_OUT.put(key, notUsed);
        }
        DP_KEYS_LEFT_OUT.put("task.dataset.zarr_path", "cotrain reads HDF5 files in the robomimic layout: set"
                + " task.dataset.path (and task.dataset.obs_keys, task.dataset.action_key) instead");
    }

    private static Schema instance;

    /** cotrain's own settings: a key missing under it takes the preset's value. */
    static final String COTRAIN_SECTION = "cotrain";

    private final List<String> leaves;      // dotted leaf keys, in the preset's order
    private final Set<String> sections;     // dotted section keys
    private final Map<String, Object> defaults;  // leaf -> the preset's value

    private Schema(Map<String, Object> tree) {
        this.defaults = YamlTree.flatten(tree);
        this.leaves = List.copyOf(defaults.keySet());
        this.sections = Set.copyOf(YamlTree.sections(tree));
    }

    static synchronized Schema get() {
        if (instance == null) {
            String name = Presets.PUSHT_LOWDIM_TRANSFORMER;
            instance = new Schema(YamlTree.parse(Presets.text(name), "preset " + name));
        }
        return instance;
    }

    /** Every known key that holds a value, in the schema's order. */
    List<String> leaves() {
        return leaves;
    }

    boolean isLeaf(String key) {
        return leaves.contains(key);
    }

    boolean isSection(String key) {
        return sections.contains(key);
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
     * Checks that a loaded tree has the schema's keys, no more and no fewer, and that sections are sections.
     * Every problem is listed in one error.
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
            if (all && missingSections.stream().noneMatch(s -> section.startsWith(s + "."))) {
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
        if (!missing.isEmpty()) {
            problems.add("(every config has all the keys of the preset " + Presets.PUSHT_LOWDIM_TRANSFORMER
                    + "; copy a preset to start one)");
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems.size() == 1 ? source + ": " + problems.get(0)
                    : source + ":\n  " + String.join("\n  ", problems));
        }
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

    /** "unknown key x; did you mean y?" (or why a Diffusion Policy key is left out). */
    String unknownKey(String key) {
        return "unknown key " + key + "; " + suggestion(key);
    }

    /**
     * The closest known key(s), as "did you mean ...?": the keys that end with the given one when it lacks its
     * section ("batch_size"), else the key with the smallest edit distance over the whole dotted path.
     */
    String suggestion(String key) {
        for (Map.Entry<String, String> e : DP_KEYS_LEFT_OUT.entrySet()) {
            if (key.equals(e.getKey()) || key.startsWith(e.getKey() + ".")) {
                return e.getValue();
            }
        }
        String last = key.substring(key.lastIndexOf('.') + 1);
        if (last.equals("_target_")) {
            return "Diffusion Policy's _target_ keys (Python classes for Hydra) have no meaning in cotrain; remove it";
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
