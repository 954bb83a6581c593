package org.cotrain.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class InitialConditionsTest {

    @Test
    void sameSeedAndIndexGiveTheSameStartAnywhere() {
        EnvConfig c = EnvPresets.get("target");
        assertEquals(InitialConditions.sample(c, 7, 3), InitialConditions.sample(c, 7, 3));
        assertNotEquals(InitialConditions.sample(c, 7, 3), InitialConditions.sample(c, 7, 4));
        assertNotEquals(InitialConditions.sample(c, 7, 3), InitialConditions.sample(c, 8, 3));
        // Matched across environments that share the reset distribution and shape.
        assertEquals(InitialConditions.sample(c, 7, 3), InitialConditions.sample(EnvPresets.get("source"), 7, 3));
    }

    @Test
    void startsFollowTheResetDistributionWithoutOverlap() {
        EnvConfig c = EnvPresets.get("target");
        BlockShape shape = c.shape();
        Coverage coverage = new Coverage(shape);
        double sumAngle = 0;
        for (int i = 0; i < 500; i++) {
            InitialCondition ic = InitialConditions.sample(c, 1, i);
            assertTrue(ic.agentX() >= 50 && ic.agentX() <= 450 && ic.agentY() >= 50 && ic.agentY() <= 450);
            Pose b = ic.block();
            assertTrue(b.x() >= 100 && b.x() <= 400 && b.y() >= 100 && b.y() <= 400);
            assertTrue(b.theta() >= -Math.PI && b.theta() <= Math.PI);
            double[][] outline = Polygons.transform(shape.outline(), b);
            assertTrue(!Polygons.contains(outline, ic.agentX(), ic.agentY())
                    && Polygons.distanceToBoundary(outline, ic.agentX(), ic.agentY()) >= 15 + 2, "overlap at " + i);
            assertTrue(coverage.coverage(b, c.goal()) < 0.95);
            sumAngle += b.theta();
        }
        assertEquals(0, sumAngle / 500, 0.3, "angles centred on 0");
    }

    @Test
    void aNarrowerAngleRangeCentresTheBlockAngleOnTheGoal() {
        EnvConfig c = EnvPresets.get("target").withOverrides(java.util.List.of("reset.angle_range_deg=30"));
        for (int i = 0; i < 200; i++) {
            double d = Pose.wrapAngle(InitialConditions.sample(c, 2, i).block().theta() - c.goal().theta());
            assertTrue(Math.abs(d) <= Math.toRadians(30) + 1e-12, "angle offset " + d);
        }
    }
}
