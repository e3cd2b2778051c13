package com.example.orderbook;

/**
 * One price level of a side of the book.
 *
 * @param price the level's price
 * @param quantity the remaining quantity of every order at that price
 * @param orders how many orders rest at that price
 */
public record Level(long price, long quantity, int orders) {
}
