package org.cotrain.sim.expert;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.cotrain.sim.EnvConfig;
import org.cotrain.sim.InitialCondition;
import org.cotrain.sim.InitialConditions;
import org.cotrain.sim.Observation;
import org.cotrain.sim.Pose;
import org.cotrain.sim.PushTEnv;

/**
 * One expert episode in a {@link PushTEnv} without images, recorded for the tests and the measurement: the
 * commands, the pose errors after each command (centroid distance to the goal's centroid, angle error), and the
 * expert's compute time.
 */
record ExpertEpisode(boolean success, int steps, double finalCoverage, List<double[]> actions,
                     double[] positionError, double[] angleError, long expertNanos, int pushes, int nookPushes,
                     int slidingPushes, int observerMismatches, int[] modeCommands) {

    static ExpertEpisode run(EnvConfig config, String style, long seed, int index) {
        InitialCondition ic = InitialConditions.sample(config, seed, index);
        long episodeSeed = InitialConditions.episodeSeed(seed, index);
        ScriptedExpert expert = (ScriptedExpert) Experts.create(style, config);
        expert.reset(episodeSeed);
        double cbx = config.shape().centroidX(), cby = config.shape().centroidY();
        Pose goal = config.goal();
        double[] goalCentroid = centroid(goal, cbx, cby);
        try (PushTEnv env = new PushTEnv(config, false)) {
            Observation first = env.reset(ic, episodeSeed);
            ArrayDeque<Observation> history = new ArrayDeque<>();
            for (int k = 0; k < expert.historyLength(); k++) history.add(first);
            List<double[]> actions = new ArrayList<>();
            int max = config.maxSteps();
            double[] pos = new double[max + 1], ang = new double[max + 1];
            record(first, goal, goalCentroid, cbx, cby, pos, ang, 0);
            long nanos = 0;
            PushTEnv.StepResult last = null;
            outer:
            while (true) {
                long t0 = System.nanoTime();
                double[][] chunk = expert.act(List.copyOf(history));
                nanos += System.nanoTime() - t0;
                for (double[] a : chunk) {
                    actions.add(a.clone());
                    last = env.step(a);
                    history.removeFirst();
                    history.addLast(last.observation());
                    record(last.observation(), goal, goalCentroid, cbx, cby, pos, ang, env.steps());
                    if (last.done()) break outer;
                }
            }
            int n = env.steps();
            return new ExpertEpisode(last.success(), n, last.reward(), actions, java.util.Arrays.copyOf(pos, n + 1),
                    java.util.Arrays.copyOf(ang, n + 1), nanos, expert.pushes(), expert.nookPushes(),
                    expert.slidingPushes(), expert.observerMismatches(), expert.modeCommands());
        }
    }

    private static void record(Observation o, Pose goal, double[] gc, double cbx, double cby, double[] pos,
                               double[] ang, int k) {
        double[] s = o.state();
        double[] c = centroid(new Pose(s[2], s[3], s[4]), cbx, cby);
        pos[k] = Math.hypot(c[0] - gc[0], c[1] - gc[1]);
        ang[k] = Math.abs(Pose.wrapAngle(s[4] - goal.theta()));
    }

    private static double[] centroid(Pose p, double cbx, double cby) {
        double c = Math.cos(p.theta()), s = Math.sin(p.theta());
        return new double[] {p.x() + c * cbx - s * cby, p.y() + s * cbx + c * cby};
    }
}
