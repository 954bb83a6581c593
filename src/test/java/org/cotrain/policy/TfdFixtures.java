package org.cotrain.policy;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.cotrain.config.TransformerForDiffusionConfig;
import org.cotrain.io.Safetensors;

/**
 * The PyTorch fixtures of the transformer denoiser (src/test/resources/fixtures/tfd_*.safetensors), written by
 * tools/pytorch/transformer_for_diffusion.py: weights under DP's names, inputs, outputs and gradients, and the model
 * config, DP's state_dict names and the parameter names in the metadata.
 */
final class TfdFixtures {
    private TfdFixtures() {}

    /** The forward/backward fixtures, one per model variant (see the script for what each covers). */
    static final List<String> VARIANTS = List.of("a", "b", "c", "d");

    static Safetensors read(String file) {
        String resource = "/fixtures/" + file;
        try (InputStream in = TfdFixtures.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + resource
                        + " (regenerate with /usr/bin/python3 tools/pytorch/transformer_for_diffusion.py)");
            }
            return Safetensors.read(in.readAllBytes(), resource);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Safetensors variant(String v) {
        return read("tfd_" + v + ".safetensors");
    }

    /** The model config of a fixture, from its "config" metadata (a flat JSON object of DP's argument names). */
    static TransformerForDiffusionConfig config(Safetensors f) {
        return config(flatJson(f.metadata().get("config"), f.source()));
    }

    static TransformerForDiffusionConfig config(Map<String, String> c) {
        return new TransformerForDiffusionConfig(
                Integer.parseInt(c.get("input_dim")), Integer.parseInt(c.get("output_dim")),
                Integer.parseInt(c.get("horizon")), Integer.parseInt(c.get("n_obs_steps")),
                Integer.parseInt(c.get("cond_dim")), Integer.parseInt(c.get("n_layer")),
                Integer.parseInt(c.get("n_head")), Integer.parseInt(c.get("n_emb")),
                Float.parseFloat(c.get("p_drop_emb")), Float.parseFloat(c.get("p_drop_attn")),
                Boolean.parseBoolean(c.get("causal_attn")), Boolean.parseBoolean(c.get("time_as_cond")),
                Boolean.parseBoolean(c.get("obs_as_cond")), Integer.parseInt(c.get("n_cond_layers")));
    }

    private static final Pattern ENTRY = Pattern.compile("\"(\\w+)\":\\s*(\"[^\"]*\"|[^,}\\s]+)");

    /** A flat JSON object of numbers, booleans and strings (no nesting), as Python's json.dumps writes it. */
    static Map<String, String> flatJson(String json, String source) {
        if (json == null) {
            throw new IllegalStateException(source + ": no config metadata");
        }
        Map<String, String> m = new LinkedHashMap<>();
        Matcher matcher = ENTRY.matcher(json);
        while (matcher.find()) {
            String v = matcher.group(2);
            m.put(matcher.group(1), v.startsWith("\"") ? v.substring(1, v.length() - 1) : v);
        }
        return m;
    }

    /** A comma-separated metadata list (state_dict names, parameter names). */
    static List<String> list(Safetensors f, String key) {
        String v = f.metadata().get(key);
        if (v == null) {
            throw new IllegalStateException(f.source() + ": no metadata " + key);
        }
        return Arrays.asList(v.split(","));
    }
}
