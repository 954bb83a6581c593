package org.cotrain.diffusion;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * The PyTorch values of noise_schedules_T100.txt (written by tools/pytorch/noise_schedule_fixture.py): betas and
 * alphas_cumprod of the three schedules for T = 100, and diffusers' inference timesteps. One array per line,
 * "name v0 v1 ...".
 */
final class ScheduleFixture {
    static final int T = 100;
    static final String RESOURCE = "noise_schedules_T100.txt";

    private static final Map<String, String[]> ARRAYS = load();

    private ScheduleFixture() {}

    private static Map<String, String[]> load() {
        Map<String, String[]> arrays = new HashMap<>();
        try (InputStream in = ScheduleFixture.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("test resource " + RESOURCE + " is missing; run "
                        + "/usr/bin/python3 tools/pytorch/noise_schedule_fixture.py");
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] parts = line.trim().split("\\s+");
                arrays.put(parts[0], java.util.Arrays.copyOfRange(parts, 1, parts.length));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return arrays;
    }

    private static String[] get(String name) {
        String[] values = ARRAYS.get(name);
        if (values == null) {
            throw new IllegalStateException(RESOURCE + " has no array '" + name + "'");
        }
        return values;
    }

    static float[] floats(String name) {
        String[] s = get(name);
        float[] out = new float[s.length];
        for (int i = 0; i < s.length; i++) {
            out[i] = Float.parseFloat(s[i]);
        }
        return out;
    }

    static int[] ints(String name) {
        String[] s = get(name);
        int[] out = new int[s.length];
        for (int i = 0; i < s.length; i++) {
            out[i] = Integer.parseInt(s[i]);
        }
        return out;
    }
}
