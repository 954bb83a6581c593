package org.cotrain.diffusion;

import java.util.Objects;
import org.cotrain.ops.Ops;
import org.cotrain.tensor.Backend;
import org.cotrain.tensor.Tensor;

/**
 * Classifier-free guidance around a conditional {@link Denoiser}: each prediction is
 * <pre>
 *   eps = eps_null + w (eps_cond - eps_null) = w eps_cond + (1 - w) eps_null
 * </pre>
 * with eps_cond the inner denoiser's prediction for the condition and eps_null its prediction for the null condition,
 * both from ONE inner call of 2B rows: sample [x; x], timesteps [t; t], cond [c; c_null]. The null condition is the
 * condition column by column: c_null[b, s, j] = c[b, s, j] keep[j] + add[j] (a dropped observation column has keep 0,
 * add 0; a domain label swapped for another has keep 0 and add 1 at the other's column), computed with {@link Ops}
 * on the condition's backend, so CPU and CUDA alike.
 *
 * <p>The stacked condition is one tensor kept across the steps of a sampling call, so the inner denoiser's sampling
 * session ({@link #beginSampling} opens it) sees the same 2B-row condition at every step (the CPU transformer
 * computes its memory's keys and values once per call from it). w = 1 is the plain conditional prediction at twice
 * the cost; callers sample with the inner denoiser itself there.
 *
 * <p>Buffers (2B rows each) are allocated at the first prediction of a batch size B and kept for the next ones;
 * close() frees them. The inner denoiser is not owned.
 */
public final class GuidedDenoiser implements Denoiser, AutoCloseable {
    private final Denoiser inner;
    private final Backend backend;
    private final float weight;
    private final Tensor keep;  // (C)
    private final Tensor add;   // (C)
    private int batch = -1;     // B of the buffers, -1 before the first prediction
    private Tensor sample2;     // (2B, H, Da)
    private Tensor timesteps2;  // (2B)
    private Tensor cond2;       // (2B, To, C)
    private Tensor nullCond;    // (B, To, C)
    private Tensor keepRows;    // (B, To, C): keep broadcast
    private Tensor out2;        // (2B, H, Da)
    private Tensor epsCond;     // (B, H, Da)
    private Tensor epsNull;     // (B, H, Da)
    private Tensor stackedFrom; // the cond whose stacking cond2 holds in the open session, else null
    private boolean inSession;
    private boolean closed;

    /**
     * @param weight w >= 0
     * @param keep   (C) per condition column: the factor of the condition in the null condition
     * @param add    (C) per condition column: what is added to it
     */
    public GuidedDenoiser(Denoiser inner, Backend backend, float weight, float[] keep, float[] add) {
        this.inner = Objects.requireNonNull(inner, "inner");
        this.backend = Objects.requireNonNull(backend, "backend");
        if (!(weight >= 0) || Float.isInfinite(weight)) {
            throw new IllegalArgumentException("guidance weight must be finite and >= 0, got " + weight);
        }
        if (keep.length == 0 || keep.length != add.length) {
            throw new IllegalArgumentException("guidance: keep (" + keep.length + ") and add (" + add.length
                    + ") need one value per condition column");
        }
        this.weight = weight;
        this.keep = backend.of(keep, keep.length);
        this.add = backend.of(add, add.length);
    }

    public float weight() {
        return weight;
    }

    @Override
    public Session beginSampling(float[] timesteps) {
        Session session = inner.beginSampling(timesteps);
        inSession = true;
        stackedFrom = null;
        return () -> {
            inSession = false;
            stackedFrom = null;
            session.close();
        };
    }

    @Override
    public void predict(Tensor sample, Tensor timesteps, Tensor cond, Tensor out) {
        checkOpen();
        Objects.requireNonNull(cond, "guidance needs a condition (cond is null)");
        int b = sample.dim(0);
        if (cond.rank() != 3 || cond.dim(0) != b || cond.dim(2) != keep.dim(0) || timesteps.numel() != b) {
            throw new IllegalArgumentException("guidance: sample " + sample.shapeString() + ", timesteps "
                    + timesteps.shapeString() + " and cond " + cond.shapeString() + ", expected cond (B, To, "
                    + keep.dim(0) + ") and (B) timesteps");
        }
        buffers(b, sample, cond);
        int n = Math.toIntExact(sample.numel());
        stack(sample, sample, sample2, n);
        stack(timesteps, timesteps, timesteps2, b);
        if (!inSession || stackedFrom != cond) { // in a session the condition's values are fixed: stack it once
            Ops.mul(cond, keepRows, nullCond);
            Ops.addBroadcast(nullCond, add, nullCond);
            stack(cond, nullCond, cond2, Math.toIntExact(cond.numel()));
            stackedFrom = inSession ? cond : null;
        }
        inner.predict(sample2, timesteps2, cond2, out2);
        Ops.splitHeads(out2.view(1, 1, 2 * n), 0, epsCond.view(1, 1, 1, n), false);
        Ops.splitHeads(out2.view(1, 1, 2 * n), n, epsNull.view(1, 1, 1, n), false);
        Ops.axpby(epsCond, epsNull, out, weight, 1f - weight);
    }

    /** dst (2n values) = [top; bottom], each n values: two block copies through the head permutation op. */
    private static void stack(Tensor top, Tensor bottom, Tensor dst, int m) {
        Tensor row = dst.view(1, 1, 2 * m);
        Ops.mergeHeads(top.view(1, 1, 1, m), row, 0, false);
        Ops.mergeHeads(bottom.view(1, 1, 1, m), row, m, false);
    }

    private void buffers(int b, Tensor sample, Tensor cond) {
        if (b == batch && sample2.hasShape(2 * b, sample.dim(1), sample.dim(2))
                && cond2.hasShape(2 * b, cond.dim(1), cond.dim(2))) {
            return;
        }
        freeBuffers();
        int h = sample.dim(1);
        int da = sample.dim(2);
        int to = cond.dim(1);
        int c = cond.dim(2);
        sample2 = backend.empty(2 * b, h, da);
        timesteps2 = backend.empty(2 * b);
        cond2 = backend.empty(2 * b, to, c);
        nullCond = backend.empty(b, to, c);
        keepRows = backend.empty(b, to, c);
        out2 = backend.empty(2 * b, h, da);
        epsCond = backend.empty(b, h, da);
        epsNull = backend.empty(b, h, da);
        Ops.fill(keepRows, 0f);
        Ops.addBroadcast(keepRows, keep, keepRows);
        batch = b;
        stackedFrom = null;
    }

    private void freeBuffers() {
        for (Tensor t : new Tensor[] {sample2, timesteps2, cond2, nullCond, keepRows, out2, epsCond, epsNull}) {
            if (t != null) {
                t.close();
            }
        }
        sample2 = timesteps2 = cond2 = nullCond = keepRows = out2 = epsCond = epsNull = null;
        batch = -1;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("guided denoiser used after close()");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        freeBuffers();
        keep.close();
        add.close();
    }
}
