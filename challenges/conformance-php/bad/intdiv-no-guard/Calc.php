<?php

declare(strict_types=1);

/**
 * Small arithmetic.
 */
final class Calc
{
    /**
     * The sum of two numbers.
     */
    public static function add(int|float $left, int|float $right): int|float
    {
        return $left + $right;
    }

    /**
     * $dividend divided by $divisor; DivisionByZeroError for a zero divisor.
     */
    public static function divide(int|float $dividend, int|float $divisor): float
    {
        return intdiv((int) $dividend, (int) $divisor);
    }

    /**
     * The arithmetic mean; InvalidArgumentException for an empty array.
     *
     * @param list<int|float> $numbers
     */
    public static function mean(array $numbers): float
    {
        return intdiv((int) array_sum($numbers), count($numbers));
    }
}
