<?php

declare(strict_types=1);

use PHPUnit\Framework\TestCase;

require_once __DIR__ . '/Calc.php';

final class MeanTest extends TestCase
{
    public function testMean(): void
    {
        $this->assertEqualsWithDelta(2.5, Calc::mean([1, 2, 3, 4]), 1e-9);
    }

    public function testMeanOfNothing(): void
    {
        $this->expectException(InvalidArgumentException::class);
        Calc::mean([]);
    }
}
