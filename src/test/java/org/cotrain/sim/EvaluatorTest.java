package org.cotrain.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class EvaluatorTest {

    private static Rollouts.Episode episode(int i, boolean success, double maxCoverage) {
        return new Rollouts.Episode(i, success, 100, maxCoverage, maxCoverage / 2, null);
    }

    @Test
    void dpScoreIsTheMeanOfTheBestCoverageOverTheThresholdClippedToOne() {
        EnvConfig env = EnvPresets.get("target"); // success.coverage 0.95
        Evaluator.Result r = new Evaluator.Result("p", env, 0, List.of(episode(0, true, 0.99),
                episode(1, false, 0.475), episode(2, false, 0.0), episode(3, false, 0.95 * 0.8)), 1.0);
        // (1 + 0.5 + 0 + 0.8) / 4: a success counts 1 even above the threshold, partial credit below it
        assertEquals((1 + 0.5 + 0 + 0.8) / 4, r.dpScore(), 1e-12);
        assertEquals(1, r.successes());
        assertTrue(r.summary().contains("DP score 0.575"), r.summary());
        assertTrue(r.toJson().contains("\"dp_score\": 0.575"), r.toJson());
        // the threshold comes from the environment: at 0.5, coverage 0.475 scores 0.95
        Evaluator.Result half = new Evaluator.Result("p", env.with("success.coverage", 0.5), 0,
                List.of(episode(0, false, 0.475)), 1.0);
        assertEquals(0.95, half.dpScore(), 1e-12);
    }
}
