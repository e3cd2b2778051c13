package com.example.orderbook;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.OptionalLong;
import java.util.TreeMap;

/** One side of the book: price levels, best first, each a queue in time order. */
final class BookSide {
    private final Side side;
    private final NavigableMap<Long, LinkedHashMap<String, Resting>> levels;

    BookSide(Side side) {
        this.side = side;
        this.levels = side == Side.BUY ? new TreeMap<>(Collections.reverseOrder()) : new TreeMap<>();
    }

    void add(Resting order) {
        levels.computeIfAbsent(order.price, p -> new LinkedHashMap<>()).put(order.id, order);
    }

    void remove(Resting order) {
        LinkedHashMap<String, Resting> level = levels.get(order.price);
        level.remove(order.id);
        if (level.isEmpty()) {
            levels.remove(order.price);
        }
    }

    OptionalLong best() {
        return levels.isEmpty() ? OptionalLong.empty() : OptionalLong.of(levels.firstKey());
    }

    /** Whether an order of the other side with this limit trades with the best level. */
    boolean crossedBy(long limit) {
        return !levels.isEmpty()
            && (side == Side.SELL ? levels.firstKey() <= limit : levels.firstKey() >= limit);
    }

    /** The orders of the best level, oldest first; removing one through it is allowed. */
    Iterator<Resting> bestQueue() {
        return levels.firstEntry().getValue().values().iterator();
    }

    /** Drops the best level if it has no order left. */
    void pruneBest() {
        if (!levels.isEmpty() && levels.firstEntry().getValue().isEmpty()) {
            levels.pollFirstEntry();
        }
    }

    List<Level> depth(int count) {
        List<Level> out = new ArrayList<>();
        for (Map.Entry<Long, LinkedHashMap<String, Resting>> e : levels.entrySet()) {
            if (out.size() == count) {
                break;
            }
            long total = e.getValue().values().stream().mapToLong(o -> o.remaining).sum();
            out.add(new Level(e.getKey(), total, e.getValue().size()));
        }
        return out;
    }
}
