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
        if ($divisor == 0) {
            throw new DivisionByZeroError('division by zero');
        }
        return $dividend / $divisor;
    }

    /**
     * The arithmetic mean; InvalidArgumentException for an empty array.
     *
     * @param list<int|float> $numbers
     */
    public static function mean(array $numbers): float
    {
        if ($numbers === []) {
            throw new InvalidArgumentException('mean of nothing');
        }
        return array_sum($numbers) / count($numbers);
    }
}
