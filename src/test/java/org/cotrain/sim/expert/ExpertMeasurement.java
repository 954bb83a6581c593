package org.cotrain.sim.expert;

import java.util.ArrayList;
import java.util.List;
import org.cotrain.sim.EnvPresets;
import org.cotrain.sim.Wilson;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The reliability measurement of issue 4 (not part of the default test run): each expert over N fresh initial
 * conditions of its own environment and of the shifted presets, reporting success rate (Wilson 95% interval),
 * mean commands to success, expert compute per command, and the style statistics. Run:
 * <pre>
 * mvn -q -B -o -f engine.pom.xml -Dtest=ExpertMeasurement -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dcotrain.experts.measure=200 [-Dcotrain.experts.envs=target,source] [-Dcotrain.experts.seed=20240611] \
 *     [-Dcotrain.experts.style=target|source (default: each environment's own expert)] test
 * </pre>
 */
@EnabledIfSystemProperty(named = "cotrain.experts.measure", matches = "\\d+")
class ExpertMeasurement {

    @Test
    void measure() {
        int n = Integer.parseInt(System.getProperty("cotrain.experts.measure"));
        long seed = Long.parseLong(System.getProperty("cotrain.experts.seed", "20240611"));
        String envs = System.getProperty("cotrain.experts.envs", "target,source,source-physics-1,source-physics-2,"
                + "source-physics-3,source-task-1,source-task-2,source-task-3");
        System.out.printf("%-18s %-7s %9s %15s %10s %9s %9s %9s %7s %7s%n", "env", "expert", "success", "wilson95",
                "steps(ok)", "ms/cmd", "alignEarly", "together", "nook%", "slide%");
        for (String env : envs.split(",")) {
            String style = System.getProperty("cotrain.experts.style", EnvPresets.get(env).expert());
            List<ExpertEpisode> eps = new ArrayList<>();
            for (int i = 0; i < n; i++) eps.add(ExpertEpisode.run(EnvPresets.get(env), style, seed, i));
            report(env, style, eps);
        }
    }

    static void report(String env, String style, List<ExpertEpisode> eps) {
        int ok = 0, cmds = 0, okSteps = 0, pushes = 0, nook = 0, slide = 0;
        long nanos = 0;
        for (ExpertEpisode e : eps) {
            if (e.success()) {
                ok++;
                okSteps += e.steps();
            }
            cmds += e.steps();
            nanos += e.expertNanos();
            pushes += e.pushes();
            nook += e.nookPushes();
            slide += e.slidingPushes();
        }
        double[] w = Wilson.interval95(ok, eps.size());
        System.out.printf("%-18s %-7s %4d/%-4d [%.3f, %.3f] %10.1f %9.3f %9.2f %9.2f %7.1f %7.1f%n", env, style, ok,
                eps.size(), w[0], w[1], ok == 0 ? 0 : (double) okSteps / ok, nanos / 1e6 / cmds,
                StyleStats.alignFirstFraction(eps), StyleStats.togetherFraction(eps), 100.0 * nook / pushes,
                100.0 * slide / pushes);
    }
}
