package com.example.orderbook;

/** The side of an order: buying or selling. */
public enum Side {
    /** A bid: wants to buy. */
    BUY,
    /** An ask: wants to sell. */
    SELL;

    /**
     * The side an order of this side trades against.
     *
     * @return the other side
     */
    public Side opposite() {
        return this == BUY ? SELL : BUY;
    }
}
