<?php

declare(strict_types=1);

use PHPUnit\Framework\TestCase;

require_once __DIR__ . '/Invoice.php';

/**
 * Hidden tests: lines, rounding and tax per rate.
 */
final class InvoiceTaxTest extends TestCase
{
    public function testTaxIsRoundedOnceForEachRateNotPerLine(): void
    {
        $invoice = new Invoice();
        for ($i = 0; $i < 3; $i++) {
            $invoice->addLine("Item $i", 1, 1, '20');
        }
        $this->assertSame(['20' => ['net' => 3, 'tax' => 1]], $invoice->taxBreakdown());
        $this->assertSame(4, $invoice->grossTotal());
    }

    public function testTaxRoundsHalfUp(): void
    {
        $invoice = (new Invoice())->addLine('Half', 1, 50, '1');
        $this->assertSame(1, $invoice->taxTotal());
        $invoice = (new Invoice())->addLine('Just under', 1, 49, '1');
        $this->assertSame(0, $invoice->taxTotal());
    }

    public function testLineDiscountRoundsHalfUp(): void
    {
        $invoice = (new Invoice())->addLine('Odd', 1, 15, '0', 10);
        $this->assertSame(14, $invoice->netTotal());
        $invoice = (new Invoice())->addLine('Full', 4, 999, '20', 100);
        $this->assertSame(0, $invoice->grossTotal());
    }

    public function testRatesAreSortedNumericallyAndNormalised(): void
    {
        $invoice = (new Invoice())
            ->addLine('A', 1, 100, '20.0')
            ->addLine('B', 1, 100, '5.50')
            ->addLine('C', 1, 100, '10')
            ->addLine('D', 1, 100, '0')
            ->addLine('E', 1, 100, '20');
        $this->assertSame(['0', '5.5', '10', '20'], array_map('strval', array_keys($invoice->taxBreakdown())));
        $this->assertSame(['net' => 200, 'tax' => 40], $invoice->taxBreakdown()['20']);
        $this->assertSame('20', $invoice->lines()[0]->taxRate);
    }

    public function testTwoDecimalRates(): void
    {
        $invoice = (new Invoice('USD'))->addLine('Taxed', 1, 1000, '7.25')->addLine('Also', 1, 1000, '7.25');
        $this->assertSame(145, $invoice->taxTotal());
        $this->assertSame(2145, $invoice->grossTotal());
    }

    public function testLinesKeepWhatWasGiven(): void
    {
        $invoice = (new Invoice())->addLine('  Padded name  ', 2, 500, '20', 25);
        $line = $invoice->lines()[0];
        $this->assertSame(
            ['Padded name', 2, 500, '20', 25, 750],
            [$line->description, $line->quantity, $line->unitPrice, $line->taxRate, $line->discount, $line->net]
        );
    }

    public function testTotalsOfSeveralLinesAndRates(): void
    {
        $invoice = (new Invoice())
            ->addLine('Hosting', 12, 2999, '20', 15)
            ->addLine('Domain', 1, 1200, '20')
            ->addLine('Ebook', 3, 799, '5.5', 50);
        $this->assertSame([30590, 1200, 1199], array_map(static fn ($l) => $l->net, $invoice->lines()));
        $this->assertSame(32989, $invoice->netTotal());
        $this->assertSame(66 + 6358, $invoice->taxTotal());
        $this->assertSame(32989 + 66 + 6358, $invoice->grossTotal());
    }

    public function testEmptyInvoiceIsAllZero(): void
    {
        $invoice = new Invoice();
        $this->assertSame([0, 0, 0, []], [
            $invoice->netTotal(), $invoice->taxTotal(), $invoice->grossTotal(), $invoice->taxBreakdown(),
        ]);
    }

    public function testLargeAmountsStayExact(): void
    {
        $invoice = (new Invoice())->addLine('Server farm', 1000, 9_999_999, '19');
        $this->assertSame(9_999_999_000, $invoice->netTotal());
        $this->assertSame(1_899_999_810, $invoice->taxTotal());
    }

    /**
     * @dataProvider invalidLines
     * @param array{string, int, int, string, int} $args
     */
    public function testInvalidLinesAreRefused(array $args): void
    {
        $invoice = new Invoice();
        try {
            $invoice->addLine(...$args);
            $this->fail('no exception for ' . json_encode($args));
        } catch (InvalidArgumentException) {
            $this->assertSame([], $invoice->lines());
        }
    }

    /**
     * @return array<string, array{array{string, int, int, string, int}}>
     */
    public static function invalidLines(): array
    {
        return [
            'empty description' => [['  ', 1, 100, '20', 0]],
            'negative price' => [['X', 1, -1, '20', 0]],
            'rate with a comma' => [['X', 1, 100, '5,5', 0]],
            'rate above 100' => [['X', 1, 100, '100.01', 0]],
            'rate with three decimals' => [['X', 1, 100, '5.555', 0]],
            'discount above 100' => [['X', 1, 100, '20', 101]],
        ];
    }
}
