package com.example.orderbook;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;

/** A limit order book for one instrument, matching by price then time. */
public final class OrderBook {
    private final BookSide bids = new BookSide(Side.BUY);
    private final BookSide asks = new BookSide(Side.SELL);
    private final Map<String, Resting> resting = new HashMap<>();
    private final Set<String> seen = new HashSet<>();

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
        check(id, side, quantity);
        if (price <= 0) {
            throw new IllegalArgumentException("price must be positive: " + price);
        }
        seen.add(id);
        Resting order = new Resting(id, side, price, quantity);
        List<Trade> trades = match(order);
        if (order.remaining > 0) {
            book(side).add(order);
            resting.put(id, order);
        }
        return trades;
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
        check(id, side, quantity);
        seen.add(id);
        long limit = side == Side.BUY ? Long.MAX_VALUE : Long.MIN_VALUE;
        return match(new Resting(id, side, limit, quantity));
    }

    /**
     * Takes a resting order out of the book.
     *
     * @param id the order's id
     * @return whether the order was resting
     */
    public boolean cancel(String id) {
        Resting order = resting.remove(id);
        if (order == null) {
            return false;
        }
        book(order.side).remove(order);
        return true;
    }

    /**
     * Changes the quantity of a resting order. It keeps its place in the queue.
     *
     * @param id the order's id
     * @param quantity the new remaining quantity, positive
     * @return whether the order was resting
     */
    public boolean amend(String id, long quantity) {
        if (quantity <= 0) {
            throw new IllegalArgumentException("quantity must be positive: " + quantity);
        }
        Resting order = resting.get(id);
        if (order == null) {
            return false;
        }
        order.remaining = quantity;
        return true;
    }

    /**
     * The highest bid.
     *
     * @return its price, or empty when no one bids
     */
    public OptionalLong bestBid() {
        return bids.best();
    }

    /**
     * The lowest ask.
     *
     * @return its price, or empty when no one asks
     */
    public OptionalLong bestAsk() {
        return asks.best();
    }

    /**
     * The best price levels of one side, best first.
     *
     * @param side the side
     * @param levels how many levels at most, positive
     * @return the levels
     */
    public List<Level> depth(Side side, int levels) {
        if (levels <= 0) {
            throw new IllegalArgumentException("levels must be positive: " + levels);
        }
        return book(side).depth(levels);
    }

    /**
     * The quantity an order still has in the book.
     *
     * @param id the order's id
     * @return its remaining quantity, 0 if it is not resting
     */
    public long remaining(String id) {
        Resting order = resting.get(id);
        return order == null ? 0 : order.remaining;
    }

    private void check(String id, Side side, long quantity) {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(side, "side");
        if (id.isBlank()) {
            throw new IllegalArgumentException("the order id is blank");
        }
        if (quantity <= 0) {
            throw new IllegalArgumentException("quantity must be positive: " + quantity);
        }
        if (seen.contains(id)) {
            throw new IllegalArgumentException("duplicate order id: " + id);
        }
    }

    /** Trades the taker against the best opposite orders while its limit allows. */
    private List<Trade> match(Resting taker) {
        List<Trade> trades = new ArrayList<>();
        BookSide other = book(taker.side.opposite());
        while (taker.remaining > 0 && other.crossedBy(taker.price)) {
            Iterator<Resting> queue = other.bestQueue();
            while (taker.remaining > 0 && queue.hasNext()) {
                Resting maker = queue.next();
                long quantity = Math.min(taker.remaining, maker.remaining);
                trades.add(taker.side == Side.BUY
                    ? new Trade(taker.id, maker.id, maker.price, quantity)
                    : new Trade(maker.id, taker.id, maker.price, quantity));
                taker.remaining -= quantity;
                maker.remaining -= quantity;
                if (maker.remaining == 0) {
                    queue.remove();
                    resting.remove(maker.id);
                }
            }
            other.pruneBest();
        }
        return trades;
    }

    private BookSide book(Side side) {
        return side == Side.BUY ? bids : asks;
    }
}
