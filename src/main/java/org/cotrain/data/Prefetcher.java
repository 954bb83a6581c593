package org.cotrain.data;

import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.LongFunction;

/**
 * Assembles items (batches) ahead of the consumer on one background thread, so that the training loop never waits
 * for data: item k = {@code produce.apply(k)} for k = first, first + 1, ..., handed out by {@link #next()} in that
 * order, exactly as calling produce directly would give them. At most {@code capacity} finished items wait in a
 * bounded queue (memory stays bounded when the consumer is slower).
 *
 * <p>An exception in produce ends the worker; {@link #next()} then throws a {@link PrefetchException} for that item
 * with the original exception as its cause (after handing out the items finished before it). {@link #close()} stops
 * the worker and waits for it. Use from one consumer thread.
 */
public final class Prefetcher<T> implements AutoCloseable {
    /** The worker's failure, re-thrown on the consumer. */
    public static final class PrefetchException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        PrefetchException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** A queue slot: an item, or the failure that ended the worker. */
    private record Slot<T>(long index, T item, Throwable failure) {}

    private final BlockingQueue<Slot<T>> queue;
    private final Thread worker;
    private final long end;
    private long nextIndex;
    private volatile boolean closed;
    private Slot<T> failed;

    /** Items first, first + 1, ... without end. */
    public Prefetcher(LongFunction<T> produce, long first, int capacity) {
        this(produce, first, Long.MAX_VALUE, capacity);
    }

    /** Items [first, end). */
    public Prefetcher(LongFunction<T> produce, long first, long end, int capacity) {
        if (capacity < 1 || first < 0 || end < first) {
            throw new IllegalArgumentException("prefetch capacity must be >= 1 and 0 <= first <= end; got capacity "
                    + capacity + ", first " + first + ", end " + end);
        }
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.end = end;
        this.nextIndex = first;
        this.worker = new Thread(() -> run(produce, first, end), "cotrain-prefetch");
        this.worker.setDaemon(true); // never keeps the JVM alive on its own
        this.worker.start();
    }

    private void run(LongFunction<T> produce, long first, long end) {
        try {
            for (long k = first; k < end && !closed; k++) {
                Slot<T> slot;
                try {
                    slot = new Slot<>(k, produce.apply(k), null);
                } catch (Throwable t) { // handed to the consumer, who decides
                    queue.put(new Slot<>(k, null, t));
                    return;
                }
                queue.put(slot);
            }
        } catch (InterruptedException e) {
            // close(): stop quietly
        }
    }

    /** Whether the worker thread is still running (for tests). */
    boolean workerAlive() {
        return worker.isAlive();
    }

    /** The index of the item the next call to {@link #next()} returns. */
    public long nextIndex() {
        return nextIndex;
    }

    /** The next item, waiting for the worker if it is not ready. */
    public T next() {
        if (closed) {
            throw new IllegalStateException("prefetcher used after close()");
        }
        if (failed != null) {
            throw failure(failed);
        }
        if (nextIndex >= end) {
            throw new NoSuchElementException("all items [.., " + end + ") were handed out");
        }
        Slot<T> slot;
        try {
            slot = queue.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for item " + nextIndex, e);
        }
        if (slot.failure != null) {
            failed = slot;
            throw failure(slot);
        }
        nextIndex++;
        return slot.item;
    }

    private static PrefetchException failure(Slot<?> slot) {
        Throwable t = slot.failure;
        return new PrefetchException("preparing batch " + slot.index + " failed: " + t, t);
    }

    /** Stops the worker (interrupting a wait for queue space) and waits for it to end. Idempotent. */
    @Override
    public void close() {
        closed = true;
        worker.interrupt();
        boolean interrupted = false;
        while (worker.isAlive()) {
            try {
                worker.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        queue.clear();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
