package org.cotrain.sim.expert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.cotrain.sim.EnvConfig;
import org.cotrain.sim.EnvPresets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The target (teleoperator-like) expert in its own environment: reliability, determinism and style. */
class TargetExpertTest {

    private static final EnvConfig TARGET = EnvPresets.get("target");
    private static final long SEED = 424242; // not a seed the expert was developed on
    private static List<ExpertEpisode> episodes;

    @BeforeAll
    static void runEpisodes() {
        episodes = ExpertStyleChecks.run(TARGET, "target", SEED, 20);
    }

    @Test
    void succeedsOnMostFreshInitialConditions() {
        int ok = ExpertStyleChecks.successes(episodes);
        assertTrue(ok >= 18, "target expert succeeded in " + ok + "/20 episodes, want >= 18 (90%)");
        for (ExpertEpisode e : episodes) {
            if (e.success()) assertTrue(e.finalCoverage() > 0.95 && e.steps() <= 300, "a success ends covered");
        }
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
    void sameSeedSameActionsOtherSeedOtherWobble() {
        ExpertEpisode a = ExpertEpisode.run(TARGET, "target", SEED, 3);
        ExpertEpisode b = ExpertEpisode.run(TARGET, "target", SEED, 3);
        assertEquals(a.actions().size(), b.actions().size());
        for (int i = 0; i < a.actions().size(); i++) assertArrayEquals(a.actions().get(i), b.actions().get(i), 0);
        // The same initial condition with another policy seed: the hand noise differs from the first command on.
        ScriptedExpert x = (ScriptedExpert) Experts.create("target", TARGET);
        ScriptedExpert y = (ScriptedExpert) Experts.create("target", TARGET);
        x.reset(1);
        y.reset(2);
        var obs = new org.cotrain.sim.PushTEnv(TARGET, false);
        var first = obs.reset(org.cotrain.sim.InitialConditions.sample(TARGET, SEED, 3), 0);
        obs.close();
        double[] ax = x.act(List.of(first, first))[0], ay = y.act(List.of(first, first))[0];
        assertFalse(ax[0] == ay[0] && ax[1] == ay[1], "hand noise must depend on the seed");
    }

    @Test
    void alignsOrientationBeforeTranslation() {
        double early = StyleStats.alignFirstFraction(episodes);
        assertTrue(early >= 0.7, "the angle reached 10 degrees with more than half the position error left in only "
                + early + " of the informative episodes; want >= 0.7");
    }

    @Test
    void usesTheNookAndSlidingContacts() {
        int pushes = 0, nook = 0, sliding = 0;
        for (ExpertEpisode e : episodes) {
            pushes += e.pushes();
            nook += e.nookPushes();
            sliding += e.slidingPushes();
        }
        assertTrue(nook >= 0.15 * pushes, "nook pushes " + nook + " of " + pushes);
        assertTrue(sliding >= 0.05 * pushes, "sliding pushes " + sliding + " of " + pushes);
    }
}
