package com.example.orderbook;

import java.util.List;
import java.util.OptionalLong;

/** A limit order book for one instrument, matching by price then time. */
public final class OrderBook {

    /**
     * Submits a limit order: it trades with the best opposite orders its price allows,
     * and whatever remains rests in the book at its price.
     *
     * @param id a new, non-blank order id
     * @param side the order's side
     * @param price the worst price the order accepts, positive
     * @param quantity how many units, positive
     * @return the trades, in the order they executed
     */
    public List<Trade> limit(String id, Side side, long price, long quantity) {
        throw new UnsupportedOperationException("TODO");
    }

    /**
     * Submits a market order: it trades with the best opposite orders at any price;
     * whatever remains is dropped, never rests.
     *
     * @param id a new, non-blank order id
     * @param side the order's side
     * @param quantity how many units, positive
     * @return the trades, in the order they executed
     */
    public List<Trade> market(String id, Side side, long quantity) {
        throw new UnsupportedOperationException("TODO");
    }

    /**
     * Takes a resting order out of the book.
     *
     * @param id the order's id
     * @return whether the order was resting
     */
    public boolean cancel(String id) {
        throw new UnsupportedOperationException("TODO");
    }

    /**
     * Changes the quantity of a resting order. Less keeps its place in the queue; more
     * sends it to the back of its price level.
     *
     * @param id the order's id
     * @param quantity the new remaining quantity, positive
     * @return whether the order was resting
     */
    public boolean amend(String id, long quantity) {
        throw new UnsupportedOperationException("TODO");
    }

    /**
     * The highest bid.
     *
     * @return its price, or empty when no one bids
     */
    public OptionalLong bestBid() {
        throw new UnsupportedOperationException("TODO");
    }

    /**
     * The lowest ask.
     *
     * @return its price, or empty when no one asks
     */
    public OptionalLong bestAsk() {
        throw new UnsupportedOperationException("TODO");
    }

    /**
     * The best price levels of one side, best first.
     *
     * @param side the side
     * @param levels how many levels at most, positive
     * @return the levels
     */
    public List<Level> depth(Side side, int levels) {
        throw new UnsupportedOperationException("TODO");
    }

    /**
     * The quantity an order still has in the book.
     *
     * @param id the order's id
     * @return its remaining quantity, 0 if it is not resting
     */
    public long remaining(String id) {
        throw new UnsupportedOperationException("TODO");
    }
}
