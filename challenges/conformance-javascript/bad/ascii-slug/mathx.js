'use strict';

/**
 * The sum of two numbers.
 * @param {number} a
 * @param {number} b
 * @returns {number}
 */
function add(a, b) {
  return a + b;
}

/**
 * a divided by b; a RangeError when b is 0.
 * @param {number} a
 * @param {number} b
 * @returns {number}
 */
function divide(a, b) {
  if (b === 0) {
    throw new RangeError('division by zero');
  }
  return a / b;
}

/**
 * The arithmetic mean; a TypeError for an empty array.
 * @param {number[]} numbers
 * @returns {number}
 */
function mean(numbers) {
  if (!Array.isArray(numbers) || numbers.length === 0) {
    throw new TypeError('mean of nothing');
  }
  return numbers.reduce(add, 0) / numbers.length;
}

module.exports = { add, divide, mean };
