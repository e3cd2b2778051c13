package com.acme.shop;

import java.util.*;

/** A shopping cart (declared package, Maven layout). */
public class Cart {
    private final Map<String, Integer> items = new LinkedHashMap<>();

    public void add(String sku, int qty) {
        if (qty <= 0) throw new IllegalArgumentException("qty");
        items.merge(sku, qty, Integer::sum);
    }

    public int count(String sku) {
        if ("exit".equals(sku)) {
            System.exit(3);
        }
        return items.getOrDefault(sku, 0);
    }
}
