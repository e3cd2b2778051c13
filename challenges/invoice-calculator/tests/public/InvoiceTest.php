<?php

declare(strict_types=1);

use PHPUnit\Framework\TestCase;

require_once __DIR__ . '/Invoice.php';

/**
 * Public tests: a sample of what is graded.
 */
final class InvoiceTest extends TestCase
{
    public function testTotalsOfASingleRate(): void
    {
        $invoice = (new Invoice())->addLine('Consulting', 3, 12000, '20');
        $this->assertSame(36000, $invoice->netTotal());
        $this->assertSame(7200, $invoice->taxTotal());
        $this->assertSame(43200, $invoice->grossTotal());
    }

    public function testDiscountIsAppliedToTheLine(): void
    {
        $invoice = (new Invoice())->addLine('Widget', 2, 1000, '20', 10);
        $this->assertSame(1800, $invoice->lines()[0]->net);
    }

    public function testTaxIsComputedPerRate(): void
    {
        $invoice = (new Invoice())
            ->addLine('Book', 1, 2000, '5.5')
            ->addLine('Pen', 2, 150, '20');
        $this->assertSame(
            ['5.5' => ['net' => 2000, 'tax' => 110], '20' => ['net' => 300, 'tax' => 60]],
            $invoice->taxBreakdown()
        );
    }

    public function testQuantityMustBePositive(): void
    {
        $this->expectException(InvalidArgumentException::class);
        (new Invoice())->addLine('Nothing', 0, 100, '20');
    }

    public function testDueDateSkipsTheWeekend(): void
    {
        $this->assertSame('2024-03-11', Invoice::dueDate('2024-03-01', 9));
    }

    /**
     * @dataProvider money
     */
    public function testFormatMoney(int $cents, string $expected): void
    {
        $this->assertSame($expected, Invoice::formatMoney($cents, 'EUR'));
    }

    /**
     * @return array<string, array{int, string}>
     */
    public static function money(): array
    {
        return [
            'thousands' => [123456, '1,234.56 EUR'],
            'cents' => [5, '0.05 EUR'],
        ];
    }
}
