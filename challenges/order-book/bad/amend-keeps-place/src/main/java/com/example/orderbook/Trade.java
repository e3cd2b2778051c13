package com.example.orderbook;

/**
 * One execution between a buy order and a sell order.
 *
 * @param buyOrderId the id of the buy order
 * @param sellOrderId the id of the sell order
 * @param price the price of the execution (the resting order's price)
 * @param quantity how many units changed hands
 */
public record Trade(String buyOrderId, String sellOrderId, long price, long quantity) {
}
