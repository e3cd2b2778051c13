package com.example.orderbook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OrderBookTest {
    private OrderBook book;

    @BeforeEach
    void newBook() {
        book = new OrderBook();
    }

    @Test
    void restsWhenNothingCrosses() {
        assertThat(book.limit("b1", Side.BUY, 99, 10)).isEmpty();
        assertThat(book.limit("s1", Side.SELL, 101, 5)).isEmpty();
        assertThat(book.bestBid()).hasValue(99);
        assertThat(book.bestAsk()).hasValue(101);
    }

    @Test
    void fillsAtTheRestingPrice() {
        book.limit("s1", Side.SELL, 100, 5);
        assertThat(book.limit("b1", Side.BUY, 102, 5))
            .containsExactly(new Trade("b1", "s1", 100, 5));
        assertThat(book.bestAsk()).isEmpty();
        assertThat(book.bestBid()).isEmpty();
    }

    @Test
    void remainderRests() {
        book.limit("s1", Side.SELL, 100, 3);
        assertThat(book.limit("b1", Side.BUY, 100, 10))
            .containsExactly(new Trade("b1", "s1", 100, 3));
        assertThat(book.remaining("b1")).isEqualTo(7);
        assertThat(book.depth(Side.BUY, 5)).containsExactly(new Level(100, 7, 1));
    }

    @Test
    void marketOrderNeverRests() {
        book.limit("s1", Side.SELL, 100, 4);
        assertThat(book.market("m1", Side.BUY, 10)).containsExactly(new Trade("m1", "s1", 100, 4));
        assertThat(book.bestBid()).isEmpty();
        assertThat(book.remaining("m1")).isZero();
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -5})
    void rejectsQuantitiesBelowOne(long quantity) {
        assertThatThrownBy(() -> book.limit("b1", Side.BUY, 100, quantity))
            .isInstanceOf(IllegalArgumentException.class);
    }

    @Nested
    class Cancelling {
        @Test
        void cancelRemovesTheOrder() {
            book.limit("b1", Side.BUY, 99, 10);
            assertThat(book.cancel("b1")).isTrue();
            assertThat(book.bestBid()).isEmpty();
            assertThat(book.cancel("b1")).isFalse();
        }
    }
}
