package org.cotrain.sim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class PushTEnvTest {

    @Test
    void observationHoldsPusherKeypointsStateAndImage() {
        EnvConfig c = EnvPresets.get("target");
        Pose block = new Pose(200, 300, 0.7);
        try (PushTEnv env = new PushTEnv(c, true)) {
            Observation o = env.reset(new InitialCondition(100, 120, block), 1);
            assertArrayEquals(new double[] {100, 120}, o.agentPos());
            assertArrayEquals(new double[] {100, 120, 200, 300, 0.7}, o.state());
            double[] w = new double[2];
            double[][] k = c.shape().keypoints();
            for (int i = 0; i < 9; i++) {
                block.toWorld(k[i][0], k[i][1], w);
                assertEquals(w[0], o.keypoints()[2 * i], 1e-9);
                assertEquals(w[1], o.keypoints()[2 * i + 1], 1e-9);
            }
            assertNotNull(o.image());
            assertEquals(96 * 96 * 3, o.image().length);
        }
        try (PushTEnv env = new PushTEnv(c, false)) {
            assertNull(env.reset(new InitialCondition(100, 120, block), 1).image());
        }
    }

    @Test
    void commandsAreClampedToTheWorkspaceAndEpisodesEndAtMaxSteps() {
        EnvConfig c = EnvPresets.get("target").withOverrides(List.of("max_steps=20"));
        try (PushTEnv env = new PushTEnv(c, false)) {
            env.reset(new InitialCondition(60, 60, new Pose(300, 300, 0)), 1);
            PushTEnv.StepResult r = null;
            for (int i = 0; i < 20; i++) {
                assertFalse(env.done());
                r = env.step(new double[] {-1000, -1000});
                assertTrue(env.state().px > -1 && env.state().py > -1, "pusher stays near the clamped target");
            }
            assertTrue(r.done() && !r.success());
            assertEquals(20, env.steps());
            assertEquals(0, env.state().px, 1.0);
            assertThrows(IllegalArgumentException.class, () -> env.step(new double[] {Double.NaN, 1}));
            assertThrows(IllegalArgumentException.class, () -> env.step(new double[] {1}));
        }
    }

    @Test
    void aBlockAtTheGoalSucceedsByCoverageAndByPose() {
        for (String criterion : List.of("coverage", "pose")) {
            EnvConfig c = EnvPresets.get("target").withOverrides(List.of("success.criterion=" + criterion));
            try (PushTEnv env = new PushTEnv(c, false)) {
                Pose goal = c.goal();
                env.reset(new InitialCondition(40, 40, new Pose(goal.x() + 1, goal.y(), goal.theta() + 0.01)), 1);
                PushTEnv.StepResult r = env.step(new double[] {40, 40});
                assertTrue(r.success() && r.done(), criterion);
                assertTrue(r.reward() > 0.95 && r.reward() <= 1, "coverage " + r.reward());
            }
        }
    }

    @Test
    void colourRandomisationIsPerEpisodeAndSeeded() {
        EnvConfig c = EnvPresets.get("source-visual-3");
        InitialCondition ic = new InitialCondition(100, 100, new Pose(300, 300, 0));
        try (PushTEnv env = new PushTEnv(c, true)) {
            byte[] a = env.reset(ic, 1).image();
            byte[] b = env.reset(ic, 2).image();
            byte[] a2 = env.reset(ic, 1).image();
            assertArrayEquals(a, a2);
            assertFalse(java.util.Arrays.equals(a, b));
        }
    }
}
