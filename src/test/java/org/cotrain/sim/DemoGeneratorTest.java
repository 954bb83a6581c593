package org.cotrain.sim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import org.cotrain.data.DemoDataset;
import org.cotrain.data.FloatArray;
import org.cotrain.data.RobomimicReader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoGeneratorTest {

    static final ForkJoinPool POOL = new ForkJoinPool(2);

    @AfterAll
    static void shutdown() {
        POOL.shutdown();
    }

    @TempDir
    Path dir;

    private static DemoGenerator.Options options(boolean keepFailures, boolean images) {
        return new DemoGenerator.Options(5, keepFailures, images, null, null);
    }

    @Test
    void writesTheRobomimicLayoutThatTheDatasetReaderLoads() throws Exception {
        // Pose success within 3 px and 5 degrees: some episodes of the test policy fail, so keeping only
        // successes is exercised; max_steps keeps the test short.
        EnvConfig c = EnvPresets.get("target").withOverrides(List.of("max_steps=12", "success.criterion=pose",
                "success.position_tolerance=1000", "success.angle_tolerance_deg=180"));
        Path file = dir.resolve("demos.hdf5");
        DemoGenerator.Result r = DemoGenerator.generate(c, "test", i -> new RolloutsTest.PushTowardGoal(c.goal()), 3,
                file, options(false, true), POOL);
        assertEquals(3, r.demos());
        try (RobomimicReader reader = RobomimicReader.open(file)) {
            assertEquals(List.of("demo_0", "demo_1", "demo_2"), reader.demos());
            int n = reader.numSamples("demo_0");
            assertArrayEquals(new int[] {n, 96, 96, 3}, reader.readUint8("demo_0", "obs/image").shape());
            assertArrayEquals(new int[] {n, 2}, reader.readFloat("demo_0", "obs/agent_pos").shape());
            assertArrayEquals(new int[] {n, 18}, reader.readFloat("demo_0", "obs/keypoints").shape());
            assertArrayEquals(new int[] {n, 5}, reader.readFloat("demo_0", "obs/state").shape());
            assertArrayEquals(new int[] {n, 18}, reader.readFloat("demo_0", "next_obs/keypoints").shape());
            FloatArray actions = reader.readFloat("demo_0", "actions");
            assertArrayEquals(new int[] {n, 2}, actions.shape());
            assertArrayEquals(new int[] {n, 10}, reader.readFloat("demo_0", "states").shape());
            // The state array's pusher and block agree with obs/state at every step.
            FloatArray state = reader.readFloat("demo_0", "obs/state");
            FloatArray states = reader.readFloat("demo_0", "states");
            for (int t = 0; t < n; t++) {
                assertEquals(state.get(t, 0), states.get(t, 0), 1e-3);
                assertEquals(state.get(t, 4), states.get(t, 6), 1e-6);
            }
            EnvConfig back = EnvConfig.fromJson(reader.envArgs().orElseThrow(), file.toString());
            assertEquals(c.toJson(), back.toJson());
            assertEquals(r.samples(), reader.total().orElseThrow());
        }
        DemoDataset data = DemoDataset.load(file, List.of("keypoints", "agent_pos"), 20, 2);
        assertEquals(3, data.numDemos());
    }

    @Test
    void anExpertThatNeverSucceedsStopsWithAClearErrorAndAValidFile() {
        EnvConfig c = EnvPresets.get("target").withOverrides(List.of("max_steps=3", "success.criterion=pose",
                "success.position_tolerance=0"));
        Path file = dir.resolve("none.hdf5");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> DemoGenerator.generate(c, "test",
                i -> new RolloutsTest.PushTowardGoal(c.goal()), 2, file, options(false, false), POOL));
        assertTrue(e.getMessage().contains("succeeded in only 0 of") && e.getMessage().contains("--keep-failures"),
                e.getMessage());
        try (RobomimicReader reader = RobomimicReader.open(file)) {
            assertEquals(0, reader.demos().size());
        }
    }

    @Test
    void keepFailuresKeepsEveryEpisodeInOrder() throws Exception {
        EnvConfig c = EnvPresets.get("target").withOverrides(List.of("max_steps=3", "success.criterion=pose",
                "success.position_tolerance=0"));
        Path file = dir.resolve("all.hdf5");
        DemoGenerator.Result r = DemoGenerator.generate(c, "test", i -> new RolloutsTest.PushTowardGoal(c.goal()), 4,
                file, options(true, false), POOL);
        assertEquals(4, r.demos());
        assertEquals(0, r.successes());
        try (RobomimicReader reader = RobomimicReader.open(file)) {
            for (int i = 0; i < 4; i++) {
                assertEquals(i, reader.longAttribute("/data/demo_" + i, "cotrain_episode").orElseThrow());
                assertEquals(3, reader.numSamples("demo_" + i));
            }
        }
    }
}
