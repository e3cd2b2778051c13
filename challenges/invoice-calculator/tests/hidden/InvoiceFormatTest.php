<?php

declare(strict_types=1);

use PHPUnit\Framework\TestCase;

require_once __DIR__ . '/Invoice.php';

/**
 * Hidden tests: money, due dates, the currency and the rendered invoice.
 */
final class InvoiceFormatTest extends TestCase
{
    /**
     * @dataProvider amounts
     */
    public function testFormatMoneyEdges(int $cents, string $expected): void
    {
        $this->assertSame($expected, Invoice::formatMoney($cents, 'USD'));
    }

    /**
     * @return array<string, array{int, string}>
     */
    public static function amounts(): array
    {
        return [
            'zero' => [0, '0.00 USD'],
            'millions' => [123456789, '1,234,567.89 USD'],
            'negative' => [-150, '-1.50 USD'],
        ];
    }

    /**
     * @dataProvider dueDates
     */
    public function testDueDate(string $issued, int $days, string $expected): void
    {
        $this->assertSame($expected, Invoice::dueDate($issued, $days));
    }

    /**
     * @return array<string, array{string, int, string}>
     */
    public static function dueDates(): array
    {
        return [
            'a weekday' => ['2024-03-01', 4, '2024-03-05'],
            'saturday moves to monday' => ['2024-03-01', 1, '2024-03-04'],
            'sunday moves to monday' => ['2024-03-01', 30, '2024-04-01'],
            'across a leap day' => ['2024-02-01', 28, '2024-02-29'],
            'same day' => ['2024-01-03', 0, '2024-01-03'],
        ];
    }

    public function testDueDateRefusesBadInput(): void
    {
        foreach ([['2024-02-30', 10], ['01/03/2024', 10], ['2024-03-01', -1]] as [$issued, $days]) {
            try {
                Invoice::dueDate($issued, $days);
                $this->fail("no exception for $issued, $days");
            } catch (InvalidArgumentException) {
                $this->addToAssertionCount(1);
            }
        }
    }

    public function testCurrencyMustBeACode(): void
    {
        $this->assertSame('GBP', (new Invoice('GBP'))->currency());
        $this->expectException(InvalidArgumentException::class);
        new Invoice('eur');
    }

    public function testRender(): void
    {
        $invoice = (new Invoice('EUR'))
            ->addLine('Widget', 2, 1000, '20', 10)
            ->addLine('Manual', 1, 1250, '5.5');
        $expected = implode("\n", [
            '2 x Widget @ 10.00 EUR -10% = 18.00 EUR (VAT 20%)',
            '1 x Manual @ 12.50 EUR = 12.50 EUR (VAT 5.5%)',
            'Net: 30.50 EUR',
            'VAT 5.5% on 12.50 EUR: 0.69 EUR',
            'VAT 20% on 18.00 EUR: 3.60 EUR',
            'Total: 34.79 EUR',
        ]);
        $this->assertSame($expected, $invoice->render());
    }
}
