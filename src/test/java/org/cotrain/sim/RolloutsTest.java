package org.cotrain.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;

class RolloutsTest {

    /** Pushes toward the block's origin from the side away from the goal: moves blocks, sometimes well. */
    static final class PushTowardGoal implements Policy {
        private final Pose goal;

        PushTowardGoal(Pose goal) {
            this.goal = goal;
        }

        @Override
        public int historyLength() {
            return 2;
        }

        @Override
        public double[][] act(List<Observation> history) {
            double[] s = history.get(history.size() - 1).state();
            double dx = goal.x() - s[2], dy = goal.y() - s[3];
            double d = Math.max(1e-9, Math.hypot(dx, dy));
            double[] behind = {s[2] - 60 * dx / d, s[3] - 60 * dy / d};
            double far = Math.hypot(s[0] - behind[0], s[1] - behind[1]);
            double[] target = far > 30 ? behind : new double[] {s[2] + 20 * dx / d, s[3] + 20 * dy / d};
            return new double[][] {target, target};
        }
    }

    @Test
    void resultsDoNotDependOnBatchingOrThreads() throws Exception {
        EnvConfig c = EnvPresets.get("target").withOverrides(List.of("max_steps=40"));
        List<Rollouts.Episode> whole = run(c, 0, 6, 1);
        List<Rollouts.Episode> pieces = new ArrayList<>(run(c, 0, 2, 2));
        pieces.addAll(run(c, 2, 4, 2));
        assertEquals(6, whole.size());
        for (int i = 0; i < 6; i++) {
            Rollouts.Episode a = whole.get(i), b = pieces.get(i);
            assertEquals(a.steps(), b.steps());
            assertEquals(a.maxCoverage(), b.maxCoverage(), 0.0);
            assertEquals(a.finalCoverage(), b.finalCoverage(), 0.0);
            assertEquals(a.trajectory().actions().size(), a.steps());
            assertEquals(a.trajectory().observations().size(), a.steps() + 1);
            for (int t = 0; t < a.steps(); t++) {
                assertEquals(a.trajectory().states().get(t)[4], b.trajectory().states().get(t)[4], 0.0);
            }
        }
        assertTrue(whole.stream().anyMatch(e -> e.maxCoverage() > 0), "the test policy touches some blocks");
    }

    private static List<Rollouts.Episode> run(EnvConfig c, int first, int count, int threads) throws Exception {
        ForkJoinPool pool = new ForkJoinPool(threads);
        try {
            List<InitialCondition> ics = new ArrayList<>();
            long[] seeds = new long[count];
            for (int i = 0; i < count; i++) {
                ics.add(InitialConditions.sample(c, 3, first + i));
                seeds[i] = InitialConditions.episodeSeed(3, first + i);
            }
            return Rollouts.run(c, BatchPolicy.perEpisode(i -> new PushTowardGoal(c.goal()), pool), ics, seeds,
                    new Rollouts.Options(false, true, 0, 0, null, first), pool, null);
        } finally {
            pool.shutdown();
        }
    }
}
