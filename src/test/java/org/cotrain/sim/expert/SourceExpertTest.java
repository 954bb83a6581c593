package org.cotrain.sim.expert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.cotrain.sim.EnvConfig;
import org.cotrain.sim.EnvPresets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The source (planner-like) expert in its own environment: reliability, determinism and style. */
class SourceExpertTest {

    private static final EnvConfig SOURCE = EnvPresets.get("source");
    private static final long SEED = 424242;
    private static List<ExpertEpisode> episodes;

    @BeforeAll
    static void runEpisodes() {
        episodes = ExpertStyleChecks.run(SOURCE, "source", SEED, 20);
    }

    @Test
    void succeedsOnMostFreshInitialConditions() {
        int ok = ExpertStyleChecks.successes(episodes);
        assertTrue(ok >= 18, "source expert succeeded in " + ok + "/20 episodes, want >= 18 (90%)");
    }

    @Test
    void actionsStayInTheWorkspace() {
        ExpertStyleChecks.assertActionsInWorkspace(episodes);
    }

    @Test
    void reconstructsVelocitiesExactlyFromItsOwnCommands() {
        for (ExpertEpisode e : episodes) assertEquals(0, e.observerMismatches(), "observer lost track");
    }

    @Test
    void noiselessAndDeterministic() {
        // No noise: the policy seed changes nothing, the same initial condition gives the same commands.
        ExpertEpisode a = ExpertEpisode.run(SOURCE, "source", SEED, 5);
        ScriptedExpert other = (ScriptedExpert) Experts.create("source", SOURCE);
        other.reset(987654321L);
        var env = new org.cotrain.sim.PushTEnv(SOURCE, false);
        var obs = env.reset(org.cotrain.sim.InitialConditions.sample(SOURCE, SEED, 5), 0);
        var history = new java.util.ArrayDeque<org.cotrain.sim.Observation>(List.of(obs, obs));
        for (int i = 0; i < a.actions().size(); i++) {
            double[] act = other.act(List.copyOf(history))[0];
            assertArrayEquals(a.actions().get(i), act, 0, "command " + i);
            history.removeFirst();
            history.addLast(env.step(act).observation());
        }
        env.close();
    }

    @Test
    void reducesAngleAndPositionTogether() {
        double early = StyleStats.alignFirstFraction(episodes);
        double together = StyleStats.togetherFraction(episodes);
        assertTrue(early <= 0.35, "orientation first in " + early + " of the informative episodes; want <= 0.35");
        assertTrue(together >= 0.6, "errors fell together in only " + together + " of the informative episodes");
    }

    @Test
    void sticksOnFlatFacesOnly() {
        for (ExpertEpisode e : episodes) {
            assertEquals(0, e.nookPushes(), "source expert pushed into a nook");
            assertEquals(0, e.slidingPushes(), "source expert planned a push outside the friction cone");
        }
    }
}
