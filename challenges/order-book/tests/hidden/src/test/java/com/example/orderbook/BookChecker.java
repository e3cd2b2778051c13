package com.example.orderbook;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

/**
 * A helper of the hidden tests: drives a book and checks, after every call, that the
 * quantity resting in it is what the calls and their trades leave there.
 */
final class BookChecker {
    private final OrderBook book;
    private long expectedResting;
    private long traded;

    BookChecker(OrderBook book) {
        this.book = book;
    }

    List<Trade> limit(String id, Side side, long price, long quantity) {
        List<Trade> trades = book.limit(id, side, price, quantity);
        long filled = checkTrades(trades, side, price);
        // The taker's remainder rests; every unit filled left a maker's order.
        expectedResting += quantity - 2 * filled;
        return trades;
    }

    List<Trade> market(String id, Side side, long quantity) {
        List<Trade> trades = book.market(id, side, quantity);
        long filled = checkTrades(trades, side, side == Side.BUY ? Long.MAX_VALUE : 1);
        assertThat(filled).isLessThanOrEqualTo(quantity);
        expectedResting -= filled;
        return trades;
    }

    boolean cancel(String id) {
        long before = book.remaining(id);
        boolean cancelled = book.cancel(id);
        assertThat(cancelled).isEqualTo(before > 0);
        expectedResting -= before;
        return cancelled;
    }

    long traded() {
        return traded;
    }

    /** Checks the book's invariants: never crossed, and the resting quantity adds up. */
    void check() {
        if (book.bestBid().isPresent() && book.bestAsk().isPresent()) {
            assertThat(book.bestBid().getAsLong()).isLessThan(book.bestAsk().getAsLong());
        }
        long resting = 0;
        for (Side side : Side.values()) {
            List<Level> levels = book.depth(side, Integer.MAX_VALUE);
            for (int i = 0; i < levels.size(); i++) {
                Level level = levels.get(i);
                assertThat(level.quantity()).isPositive();
                assertThat(level.orders()).isPositive();
                if (i > 0) {
                    long previous = levels.get(i - 1).price();
                    if (side == Side.BUY) {
                        assertThat(level.price()).isLessThan(previous);
                    } else {
                        assertThat(level.price()).isGreaterThan(previous);
                    }
                }
                resting += level.quantity();
            }
        }
        assertThat(resting).as("quantity resting in the book").isEqualTo(expectedResting);
    }

    private long checkTrades(List<Trade> trades, Side side, long limit) {
        long filled = 0;
        for (Trade t : trades) {
            assertThat(t.quantity()).isPositive();
            if (side == Side.BUY) {
                assertThat(t.price()).isLessThanOrEqualTo(limit);
            } else {
                assertThat(t.price()).isGreaterThanOrEqualTo(limit);
            }
            filled += t.quantity();
        }
        traded += filled;
        return filled;
    }
}
