package org.cotrain.nn;

/**
 * Hands out the Philox counter ranges of a model's dropout sites. Every place that drops (an nn.Dropout, or the
 * attention weights of a MultiheadAttention) is a site, numbered in construction order; site k draws its mask from
 * counters [k 2^40, (k + 1) 2^40) of the seed given to the model's forward call. So the sites of one forward pass
 * never share random numbers (a site would need 2^40 elements to reach the next), a forward pass is a pure
 * function of its seed, and the backward pass recomputes each mask from the same (seed, offset) instead of storing
 * it. The trainer passes a new seed per step.
 */
public final class DropoutSites {
    /** log2 of the counters reserved per site. */
    public static final int SITE_BITS = 40;

    private int next;

    /** The Philox offset of the next site. */
    public long next() {
        if (next >= (1 << (63 - SITE_BITS))) {
            throw new IllegalStateException("too many dropout sites");
        }
        return (long) next++ << SITE_BITS;
    }

    /** Sites handed out so far. */
    public int count() {
        return next;
    }
}
