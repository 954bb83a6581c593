package org.cotrain.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.NoSuchElementException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The background prefetcher: order, error propagation, bounded look-ahead, shutdown. */
class PrefetcherTest {
    /** A deterministic item that takes a varying time to make. */
    private static long[] slowItem(long k) {
        if (k % 7 == 3) {
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return new long[] {k, k * k + 17};
    }

    @Test
    void itemsArriveInOrderAndEqualTheDirectOnes() {
        try (Prefetcher<long[]> p = new Prefetcher<>(PrefetcherTest::slowItem, 5, 105, 3)) {
            for (long k = 5; k < 105; k++) {
                assertEquals(k, p.nextIndex());
                long[] item = p.next();
                assertEquals(slowItem(k)[0], item[0]);
                assertEquals(slowItem(k)[1], item[1]);
            }
            assertThrows(NoSuchElementException.class, p::next);
        }
    }

    @Test
    void aWorkerFailureIsRethrownOnTheConsumerWithItsCause() {
        IllegalStateException boom = new IllegalStateException("demo_3 is broken");
        try (Prefetcher<Long> p = new Prefetcher<>(k -> {
            if (k == 5) {
                throw boom;
            }
            return k;
        }, 0, 4)) {
            for (long k = 0; k < 5; k++) {
                assertEquals(k, p.next(), "items before the failure are handed out");
            }
            Prefetcher.PrefetchException e = assertThrows(Prefetcher.PrefetchException.class, p::next);
            assertSame(boom, e.getCause());
            assertTrue(e.getMessage().contains("batch 5") && e.getMessage().contains("demo_3 is broken"),
                    e.getMessage());
            assertSame(boom, assertThrows(Prefetcher.PrefetchException.class, p::next).getCause(), "stays failed");
        }
    }

    @Test
    void lookAheadIsBoundedAndCloseStopsABlockedWorker() throws Exception {
        AtomicLong made = new AtomicLong();
        CountDownLatch threeMade = new CountDownLatch(3);
        Prefetcher<Long> p = new Prefetcher<>(k -> {
            made.incrementAndGet();
            threeMade.countDown();
            return k;
        }, 0, 2);
        threeMade.await();
        Thread.sleep(50); // give an unbounded worker the time to run ahead
        // two waiting in the queue and a third made and waiting for space
        assertEquals(3, made.get());
        assertTimeoutPreemptively(Duration.ofSeconds(5), p::close);
        assertFalse(p.workerAlive());
        assertThrows(IllegalStateException.class, p::next);
        p.close(); // idempotent
    }
}
