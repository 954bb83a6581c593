package org.cotrain.sim;

import java.util.SplittableRandom;

/**
 * One pushing environment (Push-T conventions, see MISSION.md): the physics model of its config, the goal, the
 * success test, and the 96x96 observation renderer. A command is the pusher's target position, clamped to the
 * 512 x 512 workspace; each command runs physicsHz / controlHz physics steps. The reward is the coverage of the
 * goal; an episode is done on success or after max_steps commands.
 *
 * <p>Not thread-safe: one environment per thread at a time. AutoCloseable for the renderer's native images.
 */
public final class PushTEnv implements AutoCloseable {

    public static final int WORKSPACE = 512;
    public static final int OBS_SIZE = 96;

    /** What a command did: the observation after it, the coverage reward, and the episode's state. */
    public record StepResult(Observation observation, double reward, boolean done, boolean success) {}

    private final EnvConfig config;
    private final BlockShape shape;
    private final PhysicsModel physics;
    private final Coverage coverage;
    private final Pose goal;
    private final boolean images;
    private final RenderParams baseRender;
    private RenderParams episodeRender;
    private Renderer obsRenderer;
    private Renderer frameRenderer;
    private final double successCoverage, positionTolerance, angleTolerance;
    private final boolean poseCriterion;
    private final int maxSteps;

    private final PushState state = new PushState();
    private int steps;
    private double currentCoverage, maxCoverage;
    private boolean success;

    /** An environment for this config; {@code images} renders the 96x96 observation at every step. */
    public PushTEnv(EnvConfig config, boolean images) {
        this.config = config;
        this.shape = config.shape();
        this.physics = PhysicsModel.create(shape, config.physics());
        this.coverage = new Coverage(shape);
        this.goal = config.goal();
        this.images = images;
        this.baseRender = RenderParams.fromConfig(config, OBS_SIZE);
        this.episodeRender = baseRender;
        this.successCoverage = config.number("success.coverage");
        this.positionTolerance = config.number("success.position_tolerance");
        this.angleTolerance = Math.toRadians(config.number("success.angle_tolerance_deg"));
        this.poseCriterion = config.string("success.criterion").equals("pose");
        this.maxSteps = config.maxSteps();
    }

    public EnvConfig config() {
        return config;
    }

    /** Starts an episode at rest from the initial condition; the seed draws its colours when they are randomised. */
    public Observation reset(InitialCondition ic, long episodeSeed) {
        state.px = ic.agentX();
        state.py = ic.agentY();
        state.pvx = state.pvy = 0;
        state.bx = ic.block().x();
        state.by = ic.block().y();
        state.theta = ic.block().theta();
        state.bvx = state.bvy = state.omega = 0;
        steps = 0;
        currentCoverage = coverage.coverage(state.blockPose(), goal);
        maxCoverage = currentCoverage;
        success = false;
        double range = config.number("render.color_randomization");
        episodeRender = baseRender.withRandomizedColors(range, new SplittableRandom(episodeSeed ^ 0x5DEECE66DL));
        if (obsRenderer != null) obsRenderer.setParams(episodeRender);
        if (frameRenderer != null) frameRenderer.setParams(episodeRender.withSize(frameRenderer.size()));
        return observe();
    }

    /** Runs one command (target pusher position x, y in the workspace; clamped to it). */
    public StepResult step(double[] action) {
        if (action.length != 2 || !Double.isFinite(action[0]) || !Double.isFinite(action[1])) {
            throw new IllegalArgumentException("an action is a finite pusher target (x, y); got "
                    + java.util.Arrays.toString(action));
        }
        double tx = Math.max(0, Math.min(WORKSPACE, action[0]));
        double ty = Math.max(0, Math.min(WORKSPACE, action[1]));
        physics.controlStep(state, tx, ty);
        steps++;
        currentCoverage = coverage.coverage(state.blockPose(), goal);
        maxCoverage = Math.max(maxCoverage, currentCoverage);
        success = success || isSuccess();
        boolean done = success || steps >= maxSteps;
        return new StepResult(observe(), currentCoverage, done, success);
    }

    private boolean isSuccess() {
        if (!poseCriterion) return currentCoverage > successCoverage;
        double dx = state.bx - goal.x(), dy = state.by - goal.y();
        return Math.hypot(dx, dy) <= positionTolerance
                && Math.abs(Pose.wrapAngle(state.theta - goal.theta())) <= angleTolerance;
    }

    /** The current observation (rendered when the environment renders images). */
    public Observation observe() {
        double[] keypoints = new double[18];
        double[][] k = shape.keypoints();
        double c = Math.cos(state.theta), s = Math.sin(state.theta);
        for (int i = 0; i < 9; i++) {
            keypoints[2 * i] = state.bx + c * k[i][0] - s * k[i][1];
            keypoints[2 * i + 1] = state.by + s * k[i][0] + c * k[i][1];
        }
        byte[] image = null;
        if (images) {
            image = new byte[OBS_SIZE * OBS_SIZE * 3];
            renderInto(OBS_SIZE, image);
        }
        return new Observation(new double[] {state.px, state.py}, keypoints, state.toStateVector(), image);
    }

    /** The scene at size x size (RGB, HWC) with this episode's colours and camera: video frames, render grids. */
    public void renderInto(int size, byte[] out) {
        Renderer r;
        if (size == OBS_SIZE) {
            if (obsRenderer == null) obsRenderer = newRenderer(episodeRender);
            r = obsRenderer;
        } else {
            if (frameRenderer == null || frameRenderer.size() != size) {
                if (frameRenderer != null) frameRenderer.close();
                frameRenderer = newRenderer(episodeRender.withSize(size));
            }
            r = frameRenderer;
        }
        r.render(state, out);
    }

    /** A copy of the physical state (for look-ahead and the dataset's states array). */
    public PushState state() {
        return new PushState(state);
    }

    public int steps() {
        return steps;
    }

    public double coverage() {
        return currentCoverage;
    }

    public double maxCoverage() {
        return maxCoverage;
    }

    public boolean success() {
        return success;
    }

    public boolean done() {
        return success || steps >= maxSteps;
    }

    @Override
    public void close() {
        if (obsRenderer != null) obsRenderer.close();
        if (frameRenderer != null) frameRenderer.close();
        obsRenderer = frameRenderer = null;
    }

    private Renderer newRenderer(RenderParams params) {
        return new Renderer(shape, goal, config.physics().pusherRadius(), params);
    }
}
