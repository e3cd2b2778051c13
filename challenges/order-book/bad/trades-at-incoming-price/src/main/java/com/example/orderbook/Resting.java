package com.example.orderbook;

/** An order waiting in the book: what is left of it. */
final class Resting {
    final String id;
    final Side side;
    final long price;
    long remaining;

    Resting(String id, Side side, long price, long remaining) {
        this.id = id;
        this.side = side;
        this.price = price;
        this.remaining = remaining;
    }
}
