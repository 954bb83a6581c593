package org.cotrain.sim.expert;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.cotrain.sim.EnvConfig;

/** Shared checks of the expert tests: run episodes, and the action bounds every expert must respect. */
final class ExpertStyleChecks {

    private ExpertStyleChecks() {}

    static List<ExpertEpisode> run(EnvConfig config, String style, long seed, int episodes) {
        List<ExpertEpisode> eps = new ArrayList<>();
        for (int i = 0; i < episodes; i++) eps.add(ExpertEpisode.run(config, style, seed, i));
        return eps;
    }

    static int successes(List<ExpertEpisode> eps) {
        int ok = 0;
        for (ExpertEpisode e : eps) if (e.success()) ok++;
        return ok;
    }

    static void assertActionsInWorkspace(List<ExpertEpisode> eps) {
        for (ExpertEpisode e : eps) {
            for (double[] a : e.actions()) {
                assertTrue(a.length == 2 && a[0] >= 0 && a[0] <= 512 && a[1] >= 0 && a[1] <= 512,
                        "action outside the workspace: " + java.util.Arrays.toString(a));
            }
        }
    }
}
