package com.example.orderbook;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MatchingTest {
    private OrderBook book;

    @BeforeEach
    void newBook() {
        book = new OrderBook();
    }

    @Nested
    class PriceTimePriority {
        @Test
        void bestPriceFirst() {
            book.limit("s1", Side.SELL, 102, 5);
            book.limit("s2", Side.SELL, 100, 5);
            book.limit("s3", Side.SELL, 101, 5);
            assertThat(book.limit("b1", Side.BUY, 105, 5))
                .containsExactly(new Trade("b1", "s2", 100, 5));
        }

        @Test
        void oldestFirstWithinALevel() {
            book.limit("s1", Side.SELL, 100, 2);
            book.limit("s2", Side.SELL, 100, 2);
            book.limit("s3", Side.SELL, 100, 2);
            assertThat(book.limit("b1", Side.BUY, 100, 3)).containsExactly(
                new Trade("b1", "s1", 100, 2), new Trade("b1", "s2", 100, 1));
            assertThat(book.remaining("s2")).isEqualTo(1);
            assertThat(book.remaining("s3")).isEqualTo(2);
        }

        @Test
        void sweepsSeveralLevels() {
            book.limit("s1", Side.SELL, 100, 1);
            book.limit("s2", Side.SELL, 101, 2);
            book.limit("s3", Side.SELL, 101, 3);
            book.limit("s4", Side.SELL, 103, 4);
            assertThat(book.limit("b1", Side.BUY, 102, 10)).containsExactly(
                new Trade("b1", "s1", 100, 1),
                new Trade("b1", "s2", 101, 2),
                new Trade("b1", "s3", 101, 3));
            assertThat(book.bestBid()).hasValue(102);
            assertThat(book.remaining("b1")).isEqualTo(4);
            assertThat(book.bestAsk()).hasValue(103);
        }

        @Test
        void tradesAtTheRestingPriceNotTheIncoming() {
            book.limit("b1", Side.BUY, 100, 5);
            assertThat(book.limit("s1", Side.SELL, 90, 5))
                .containsExactly(new Trade("b1", "s1", 100, 5));
        }

        @ParameterizedTest
        @CsvSource({"99, 0", "100, 5", "101, 8", "1000, 8"})
        void crossesOnlyUpToItsLimit(long price, long filled) {
            book.limit("s1", Side.SELL, 100, 5);
            book.limit("s2", Side.SELL, 101, 3);
            List<Trade> trades = book.limit("b1", Side.BUY, price, 20);
            assertThat(trades.stream().mapToLong(Trade::quantity).sum()).isEqualTo(filled);
            assertThat(book.remaining("b1")).isEqualTo(20 - filled);
            assertThat(book.bestBid()).hasValue(price);
        }
    }

    @Nested
    class SellSide {
        @Test
        void sellMatchesTheHighestBidsFirst() {
            book.limit("b1", Side.BUY, 98, 5);
            book.limit("b2", Side.BUY, 99, 5);
            book.limit("b3", Side.BUY, 99, 5);
            assertThat(book.limit("s1", Side.SELL, 98, 12)).containsExactly(
                new Trade("b2", "s1", 99, 5),
                new Trade("b3", "s1", 99, 5),
                new Trade("b1", "s1", 98, 2));
            assertThat(book.depth(Side.BUY, 3)).containsExactly(new Level(98, 3, 1));
        }
    }

    @Nested
    class MarketOrders {
        @Test
        void takesTheBestAsksAtAnyPrice() {
            book.limit("s1", Side.SELL, 100, 2);
            book.limit("s2", Side.SELL, 5000, 2);
            assertThat(book.market("m1", Side.BUY, 3)).containsExactly(
                new Trade("m1", "s1", 100, 2), new Trade("m1", "s2", 5000, 1));
        }

        @Test
        void remainderIsDropped() {
            book.limit("b1", Side.BUY, 50, 1);
            assertThat(book.market("m1", Side.SELL, 5)).containsExactly(new Trade("b1", "m1", 50, 1));
            assertThat(book.bestAsk()).isEmpty();
            assertThat(book.depth(Side.SELL, 1)).isEmpty();
        }

        @Test
        void emptyBookTradesNothing() {
            assertThat(book.market("m1", Side.BUY, 5)).isEmpty();
            assertThat(book.bestBid()).isEmpty();
            assertThat(book.bestAsk()).isEmpty();
        }
    }

    @Test
    void largeBookStaysConsistent() {
        BookChecker checker = new BookChecker(book);
        Random random = new Random(20261129);
        for (int i = 0; i < 20_000; i++) {
            String id = "o" + i;
            Side side = random.nextBoolean() ? Side.BUY : Side.SELL;
            int action = random.nextInt(10);
            if (action < 7) {
                checker.limit(id, side, 900 + random.nextInt(200), 1 + random.nextInt(50));
            } else if (action < 8) {
                checker.market(id, side, 1 + random.nextInt(80));
            } else {
                checker.cancel("o" + random.nextInt(i + 1));
            }
            if (i % 500 == 0) {
                checker.check();
            }
        }
        checker.check();
        assertThat(checker.traded()).isPositive();
    }
}
