package com.example.orderbook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class BookKeepingTest {
    private OrderBook book;

    @BeforeEach
    void newBook() {
        book = new OrderBook();
    }

    @Nested
    class Amending {
        @Test
        void reducingKeepsItsPlace() {
            book.limit("s1", Side.SELL, 100, 5);
            book.limit("s2", Side.SELL, 100, 5);
            assertThat(book.amend("s1", 2)).isTrue();
            assertThat(book.limit("b1", Side.BUY, 100, 3)).containsExactly(
                new Trade("b1", "s1", 100, 2), new Trade("b1", "s2", 100, 1));
        }

        @Test
        void increasingGoesToTheBackOfItsLevel() {
            book.limit("s1", Side.SELL, 100, 5);
            book.limit("s2", Side.SELL, 100, 5);
            book.limit("s3", Side.SELL, 101, 5);
            assertThat(book.amend("s1", 8)).isTrue();
            assertThat(book.limit("b1", Side.BUY, 100, 6)).containsExactly(
                new Trade("b1", "s2", 100, 5), new Trade("b1", "s1", 100, 1));
            assertThat(book.remaining("s1")).isEqualTo(7);
            assertThat(book.depth(Side.SELL, 5))
                .containsExactly(new Level(100, 7, 1), new Level(101, 5, 1));
        }

        @Test
        void unknownOrFilledOrdersAreNotAmended() {
            book.limit("s1", Side.SELL, 100, 5);
            book.limit("b1", Side.BUY, 100, 5);
            assertThat(book.amend("s1", 3)).isFalse();
            assertThat(book.amend("nope", 3)).isFalse();
            assertThat(book.bestAsk()).isEmpty();
        }

        @Test
        void quantityMustStayPositive() {
            book.limit("b1", Side.BUY, 100, 5);
            assertThatThrownBy(() -> book.amend("b1", 0)).isInstanceOf(IllegalArgumentException.class);
            assertThat(book.remaining("b1")).isEqualTo(5);
        }
    }

    @Nested
    class Cancelling {
        @Test
        void cancelledOrdersNeverTrade() {
            book.limit("s1", Side.SELL, 100, 5);
            book.limit("s2", Side.SELL, 100, 5);
            book.cancel("s1");
            assertThat(book.limit("b1", Side.BUY, 100, 5)).containsExactly(new Trade("b1", "s2", 100, 5));
        }

        @Test
        void filledOrdersCannotBeCancelled() {
            book.limit("s1", Side.SELL, 100, 5);
            book.limit("b1", Side.BUY, 100, 2);
            assertThat(book.cancel("b1")).isFalse();
            assertThat(book.cancel("s1")).isTrue();
            assertThat(book.cancel("s1")).isFalse();
        }

        @Test
        void anEmptyLevelDisappears() {
            book.limit("b1", Side.BUY, 100, 5);
            book.limit("b2", Side.BUY, 99, 5);
            book.cancel("b1");
            assertThat(book.bestBid()).hasValue(99);
            assertThat(book.depth(Side.BUY, 5)).containsExactly(new Level(99, 5, 1));
        }
    }

    @Nested
    class Depth {
        @Test
        void bestFirstAndAggregated() {
            book.limit("s1", Side.SELL, 103, 1);
            book.limit("s2", Side.SELL, 101, 2);
            book.limit("s3", Side.SELL, 101, 3);
            book.limit("b1", Side.BUY, 99, 4);
            book.limit("b2", Side.BUY, 100, 6);
            assertThat(book.depth(Side.SELL, 10))
                .containsExactly(new Level(101, 5, 2), new Level(103, 1, 1));
            assertThat(book.depth(Side.BUY, 10))
                .containsExactly(new Level(100, 6, 1), new Level(99, 4, 1));
        }

        @Test
        void limitedToTheLevelsAskedFor() {
            for (int i = 0; i < 5; i++) {
                book.limit("b" + i, Side.BUY, 90 + i, 1);
            }
            assertThat(book.depth(Side.BUY, 2)).extracting(Level::price).containsExactly(94L, 93L);
            assertThatThrownBy(() -> book.depth(Side.BUY, 0)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Nested
    class Validation {
        static Stream<Arguments> invalidOrders() {
            return Stream.of(
                Arguments.of("zero price", (Consumer<OrderBook>) b -> b.limit("x", Side.BUY, 0, 1),
                    IllegalArgumentException.class),
                Arguments.of("blank id", (Consumer<OrderBook>) b -> b.limit("  ", Side.BUY, 10, 1),
                    IllegalArgumentException.class),
                Arguments.of("null side", (Consumer<OrderBook>) b -> b.market("x", null, 1),
                    NullPointerException.class),
                Arguments.of("market quantity", (Consumer<OrderBook>) b -> b.market("x", Side.SELL, 0),
                    IllegalArgumentException.class));
        }

        @ParameterizedTest(name = "{0}")
        @MethodSource("invalidOrders")
        void rejectsInvalidOrders(String what, Consumer<OrderBook> call, Class<? extends Throwable> error) {
            book.limit("s1", Side.SELL, 10, 1);
            assertThatThrownBy(() -> call.accept(book)).isInstanceOf(error);
            assertThat(book.remaining("s1")).isEqualTo(1);
        }

        @Test
        void idsAreNeverReused() {
            book.limit("s1", Side.SELL, 100, 5);
            book.limit("b1", Side.BUY, 100, 5);
            assertThatThrownBy(() -> book.limit("s1", Side.SELL, 100, 5))
                .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> book.market("b1", Side.SELL, 1))
                .isInstanceOf(IllegalArgumentException.class);
        }

        @Test
        void aRejectedOrderChangesNothing() {
            book.limit("b1", Side.BUY, 100, 5);
            book.limit("s1", Side.SELL, 101, 5);
            assertThatThrownBy(() -> book.limit("b1", Side.SELL, 100, 5))
                .isInstanceOf(IllegalArgumentException.class);
            assertThat(book.remaining("b1")).isEqualTo(5);
            assertThat(book.depth(Side.SELL, 5)).containsExactly(new Level(101, 5, 1));
        }
    }
}
